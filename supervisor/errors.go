package supervisor

import (
	"errors"
	"fmt"
)

// Errors of a supervisor. Match them with [errors.Is].
var (
	// ErrNoRestart marks an error after which a supervisor must not
	// restart: it stops at once, in [StateFailed]. Wrap it with
	// [NoRestart] or with fmt.Errorf("...: %w", ErrNoRestart).
	ErrNoRestart = errors.New("supervise: fatal")

	// ErrTooManyRestarts is the error a supervisor stops with when its work
	// crashed more than [Policy.MaxRestarts] times within [Policy.Window],
	// or more than [Policy.MaxFailedStarts] times in a row before becoming
	// ready. The error returned also wraps the last crash, so errors.Is and
	// errors.As reach it too.
	ErrTooManyRestarts = errors.New("supervise: too many restarts")
)

// NoRestart wraps err so that a supervised service or worker that returns
// it stops for good instead of being restarted (state [StateFailed]).
// errors.Is(NoRestart(err), ErrNoRestart) and errors.Is(NoRestart(err), err)
// both hold. NoRestart(nil) returns ErrNoRestart itself.
func NoRestart(err error) error {
	if err == nil {
		return ErrNoRestart
	}
	return fmt.Errorf("%w: %w", ErrNoRestart, err)
}

// PanicError is the crash a supervisor records when the work it runs
// panics: the panic value and the stack of the goroutine that panicked.
// It is always used as a pointer, and is read-only once recorded: events,
// logs and returned errors share one value. Error returns one line without
// the stack; the stack stays available in Stack for logs and events.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack as formatted by
	// runtime/debug.Stack at the point of recovery. It names the function
	// that panicked.
	Stack []byte
}

// Error returns "supervise: panic: " followed by the panic value, on one
// line, without the stack.
func (p *PanicError) Error() string {
	if err, ok := p.Value.(error); ok {
		return "supervise: panic: " + err.Error()
	}
	return fmt.Sprintf("supervise: panic: %v", p.Value)
}

// Unwrap returns the panic value if it is an error, and nil otherwise.
func (p *PanicError) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}
