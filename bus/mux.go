package bus

import (
	"context"
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
// a Req: a payload of another type fails with a [*TypeError] before fn runs,
// and a nil payload becomes the zero Req. fn's result is the reply; a
// fire-and-forget [Bus.Send] discards it.
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
		var req Req
		if msg.Payload != nil {
			r, ok := msg.Payload.(Req)
			if !ok {
				return nil, &TypeError{
					Target: msg.To, Topic: topic,
					Want: typeName[Req](), Got: fmt.Sprintf("%T", msg.Payload),
				}
			}
			req = r
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
