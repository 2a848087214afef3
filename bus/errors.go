package bus

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Errors returned by this package wrap one of these (with the
// target's address added) so that callers match them with [errors.Is].
var (
	// ErrNoTarget means no target is known at the address: it was never
	// attached (cluster 9 of 4), it was forgotten with [Bus.Forget], or a
	// guild has no owner.
	ErrNoTarget = errors.New("bus: no such target")
	// ErrTargetStopped means the target was attached once and is now
	// detached: it is restarting or has stopped. Retrying later may succeed.
	ErrTargetStopped = errors.New("bus: target stopped")
	// ErrMailboxFull means the message was not delivered because the
	// target's mailbox stayed full. See the package doc for the policy.
	ErrMailboxFull = errors.New("bus: mailbox full")
	// ErrTimeout means the message was delivered but no reply arrived before
	// the caller's deadline. The error also wraps context.DeadlineExceeded.
	ErrTimeout = errors.New("bus: timed out waiting for reply")
	// ErrUnknownTopic means the target's [Mux] has no handler for the topic,
	// or the target has no handler at all.
	ErrUnknownTopic = errors.New("bus: unknown topic")
	// ErrUnknownFunc means no function is registered under the name given to
	// [EvalFunc].
	ErrUnknownFunc = errors.New("bus: unknown function")
	// ErrFuncExists means [RegisterFunc] was called twice with one name.
	ErrFuncExists = errors.New("bus: function already registered")
	// ErrAlreadyAttached means [Bus.Attach] was called for an address that
	// already has an attached mailbox.
	ErrAlreadyAttached = errors.New("bus: address already attached")
	// ErrAlreadyServing means [Mailbox.Serve] was called while another call
	// to Serve on the same mailbox was still running.
	ErrAlreadyServing = errors.New("bus: mailbox already served")
	// ErrHandlerPanic means the target's handler (or eval function)
	// panicked. The mailbox recovers the panic on its Serve goroutine and
	// keeps serving: a requester gets a [*HandlerError] whose Stack is set,
	// a fire-and-forget message's panic is logged, and the target is not
	// restarted. See [Mailbox.Serve].
	ErrHandlerPanic = errors.New("bus: handler panicked")
	// ErrInvalidPayload means a message's payload could not be converted
	// to what its [Handle] function takes: JSON that does not decode into
	// the function's request type, or a payload that cannot be encoded as
	// JSON for a function that takes json.RawMessage. A payload of the
	// wrong Go type is a [*TypeError] instead.
	ErrInvalidPayload = errors.New("bus: invalid payload")
	// ErrInvalidAddress is matched by every [*AddressError].
	ErrInvalidAddress = errors.New("bus: invalid address")
	// ErrInvalidEnvelope is matched by every [*EnvelopeError].
	ErrInvalidEnvelope = errors.New("bus: invalid envelope")
)

// HandlerError is the error a target's handler (or eval function) returned,
// or its recovered panic. It carries the handler's message (and a panic's
// stack) as text so that it survives a future hop between hosts. In-process,
// Err also holds the original error, so [errors.Is] and [errors.As] see
// through it; after a wire hop Err is nil.
//
// For a panic, Msg is "panic: " and the panic value as %v prints it, Stack
// is set, and the error matches [ErrHandlerPanic]; Err is the panic value
// when that is an error, so in-process errors.Is sees it too.
type HandlerError struct {
	Target Address // the target whose handler failed
	Topic  string  // the topic being handled ("bus.eval" for evals)
	Msg    string  // the handler's error message
	// Stack is non-empty exactly when the handler panicked: the stack of
	// the handler's goroutine as runtime/debug.Stack formatted it at
	// recovery, which names the function that panicked.
	Stack []byte
	Err   error // the original error, in-process only; may be nil
}

// Error implements error.
func (e *HandlerError) Error() string {
	return "bus: " + e.Target.String() + " handling " + strconv.Quote(e.Topic) + ": " + e.Msg
}

// Unwrap returns the original error, or nil after a wire hop.
func (e *HandlerError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrHandlerPanic] and e is a panic (its
// Stack is set), so that the match survives a wire hop.
func (e *HandlerError) Is(target error) bool { return target == ErrHandlerPanic && len(e.Stack) > 0 }

// TypeError means a value had the wrong dynamic type: a reply that is not the
// type the caller of [Request] asked for, a payload that is not the type a
// [Handle] function takes, or an eval target ([WithEvalTarget]) that is not
// the type an [Eval] or [RegisterFunc] function takes.
type TypeError struct {
	Target Address // the target involved
	Topic  string  // the topic involved
	Want   string  // the expected type, as printed by %T
	Got    string  // the actual type, as printed by %T
}

// Error implements error.
func (e *TypeError) Error() string {
	return "bus: " + e.Target.String() + " topic " + strconv.Quote(e.Topic) +
		": got " + e.Got + ", want " + e.Want
}

// typeName returns T's name as %T prints it, also for an interface type T
// (which has no dynamic value to print).
func typeName[T any]() string { return fmt.Sprintf("%T", (*T)(nil))[1:] }

// AddressError describes an address that is malformed or not allowed where it
// was used. It matches [ErrInvalidAddress].
type AddressError struct {
	Text   string // the address, in text form
	Reason string // what is wrong with it
}

// Error implements error.
func (e *AddressError) Error() string {
	return "bus: invalid address " + strconv.Quote(e.Text) + ": " + e.Reason
}

// Is reports whether target is [ErrInvalidAddress].
func (e *AddressError) Is(target error) bool { return target == ErrInvalidAddress }

// EnvelopeError describes a named-function call that cannot be carried in its
// wire form, {"func": name, "arg": <json>}: a malformed name given to
// [RegisterFunc] or [EvalFunc], an argument that is not JSON-encodable, or
// one that the target cannot decode into the function's argument type. It
// matches [ErrInvalidEnvelope] and unwraps to the underlying error, if any.
type EnvelopeError struct {
	Field  string // the offending field ("func", "arg"), or "" for the whole envelope
	Reason string // what is wrong
	Err    error  // the underlying error (for example from encoding/json); may be nil
}

// Error implements error.
func (e *EnvelopeError) Error() string {
	s := "bus: invalid envelope"
	if e.Field != "" {
		s += " field " + strconv.Quote(e.Field)
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrInvalidEnvelope].
func (e *EnvelopeError) Is(target error) bool { return target == ErrInvalidEnvelope }

// Unwrap returns the underlying error, which may be nil.
func (e *EnvelopeError) Unwrap() error { return e.Err }
