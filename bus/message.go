package bus

import (
	"context"
	"encoding/json"
)

// Message is one message in a target's mailbox, as its [Handler] sees it.
//
// A Message is plain data: a handler may copy or keep it, but must not modify
// the one it is given. Payload is shared with the sender, not copied, so
// treat it as read-only. Inside one process Payload may be any value; a
// message meant to cross hosts later needs a JSON-encodable payload (the
// exported fields are its wire form). The reply channel does not live in
// Message: it travels beside it, inside the bus.
type Message struct {
	From    Address `json:"from"`    // the sender; the zero Address for an anonymous sender
	To      Address `json:"to"`      // the concrete target (a broadcast resolves to one per target)
	Topic   string  `json:"topic"`   // what the message is about; chooses the handler in a [Mux]
	Payload any     `json:"payload"` // the message body, shared with the sender

	request bool // the sender waits for a reply
}

// IsRequest reports whether the sender waits for a reply (it used [Request],
// [Broadcast] or an eval rather than [Bus.Send]).
func (m *Message) IsRequest() bool { return m.request }

// delivery is what travels through a mailbox: the Message, plus for a
// request its context and its one-shot reply channel, and for an eval the
// function to run. The reply channel has room for one reply, so the target
// never blocks on it even if the requester has gone.
type delivery struct {
	Message
	ctx   context.Context // the requester's context; nil for a fire-and-forget message
	reply chan reply      // nil for a fire-and-forget message
	// eval, if set, runs instead of the handler with the mailbox's eval target.
	eval func(ctx context.Context, target any) (any, error)
	// hctx is the handler's context for a request, kept here to save an
	// allocation per request.
	hctx handlerCtx
}

type reply struct {
	value any
	err   error
}

// Handler handles messages delivered to a mailbox. HandleMessage runs on the
// goroutine that called [Mailbox.Serve], one message at a time, so a handler
// needs no locking for state that only it touches. A slow handler delays
// every later message to the same target.
//
// For a request, the returned value (or error) is the reply; for a
// fire-and-forget message it is discarded, and an error is logged.
// ctx ends when the requester gives up, when Serve's context ends, or when
// the handler returns.
//
// A handler may itself call [Request], [Broadcast] or an eval. Given the
// handler's ctx, a request to its own target runs inline, as a nested call,
// instead of waiting for itself. A cycle between two targets (A's handler
// waits for B while B's handler waits for A) still waits until the deadline.
type Handler interface {
	HandleMessage(ctx context.Context, msg *Message) (any, error)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, msg *Message) (any, error)

// HandleMessage calls f(ctx, msg).
func (f HandlerFunc) HandleMessage(ctx context.Context, msg *Message) (any, error) {
	return f(ctx, msg)
}

// payloadJSON returns a message payload as JSON, the form a networked
// transport would carry and a [Handle] function taking json.RawMessage
// gets: a json.RawMessage as it is, nil as nil, anything else through
// encoding/json (whose error it returns unwrapped, for the caller to wrap
// in ErrInvalidPayload).
func payloadJSON(p any) (json.RawMessage, error) {
	switch v := p.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(p)
}
