package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Mux is a [Handler] that dispatches messages by topic to typed functions
// registered with [Handle]. A message whose topic has no function fails with
// [ErrUnknownTopic].
//
// The zero Mux is ready to use and has no topics. A Mux is safe for
// concurrent use (topics may be added while it serves) and must not be copied
// after first use.
type Mux struct {
	mu     sync.RWMutex
	routes map[string]func(ctx context.Context, msg *Message) (any, error)
}

var _ Handler = (*Mux)(nil)

// Handle registers fn for topic on mux. fn receives the message's payload as
// a Req, in its typed form in-process or as JSON from another host:
//
//   - a Req payload is passed as it is (shared with the sender, not copied);
//   - a nil payload becomes the zero Req;
//   - a json.RawMessage or []byte payload is decoded into a Req with
//     encoding/json; JSON that does not decode fails with an error matching
//     [ErrInvalidPayload] before fn runs;
//   - when Req is json.RawMessage, any other payload is encoded with
//     encoding/json, so that fn always sees the JSON form (a payload that
//     cannot be encoded fails with [ErrInvalidPayload]);
//   - any other payload fails with a [*TypeError] before fn runs.
//
// fn's result is the reply; a fire-and-forget [Bus.Send] discards it. The
// requester sees the errors above, like fn's own, inside a [*HandlerError],
// so errors.Is and errors.As match them.
//
// Handle panics if topic is empty or already registered on mux, like
// [net/http.ServeMux]; both are programming errors found at startup.
func Handle[Req, Resp any](mux *Mux, topic string, fn func(ctx context.Context, req Req) (Resp, error)) {
	if topic == "" {
		panic("bus: Handle with an empty topic")
	}
	if fn == nil {
		panic("bus: Handle with a nil function for topic " + topic)
	}
	h := func(ctx context.Context, msg *Message) (any, error) {
		req, err := decodeRequest[Req](msg)
		if err != nil {
			return nil, err
		}
		return fn(ctx, req)
	}
	mux.mu.Lock()
	defer mux.mu.Unlock()
	if _, dup := mux.routes[topic]; dup {
		panic("bus: Handle called twice for topic " + topic)
	}
	if mux.routes == nil {
		mux.routes = make(map[string]func(context.Context, *Message) (any, error))
	}
	mux.routes[topic] = h
}

// HandleMessage implements [Handler] by calling the function registered for
// msg.Topic.
func (mux *Mux) HandleMessage(ctx context.Context, msg *Message) (any, error) {
	mux.mu.RLock()
	h := mux.routes[msg.Topic]
	mux.mu.RUnlock()
	if h == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTopic, msg.Topic)
	}
	return h(ctx, msg)
}

// topics returns the registered topics, sorted.
func (mux *Mux) topics() []string {
	mux.mu.RLock()
	out := make([]string, 0, len(mux.routes))
	for t := range mux.routes {
		out = append(out, t)
	}
	mux.mu.RUnlock()
	slices.Sort(out)
	return out
}

// decodeRequest takes a Req from msg's payload as [Handle] describes.
func decodeRequest[Req any](msg *Message) (Req, error) {
	var req Req
	switch p := msg.Payload.(type) {
	case nil:
		return req, nil
	case Req:
		return p, nil
	}
	if raw, ok := any(&req).(*json.RawMessage); ok {
		b, err := payloadJSON(msg.Payload)
		if err != nil {
			return req, fmt.Errorf("bus: %s topic %q: %w: %w", msg.To, msg.Topic, ErrInvalidPayload, err)
		}
		*raw = b
		return req, nil
	}
	var data []byte
	switch p := msg.Payload.(type) {
	case json.RawMessage:
		data = p
	case []byte:
		data = p
	default:
		return req, &TypeError{
			Target: msg.To, Topic: msg.Topic,
			Want: typeName[Req](), Got: fmt.Sprintf("%T", msg.Payload),
		}
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return req, fmt.Errorf("bus: %s topic %q: %w: cannot decode into %s: %w", msg.To, msg.Topic, ErrInvalidPayload, typeName[Req](), err)
	}
	return req, nil
}
