package supervise

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Match them with [errors.Is].
var (
	// ErrFatal marks an error after which a unit must not restart its
	// runner. Wrap it with [Fatal] or with fmt.Errorf("...: %w", ErrFatal).
	ErrFatal = errors.New("supervise: fatal")

	// ErrTooManyRestarts is returned by [Unit.Serve] when the runner crashed
	// more than [Policy.MaxRestarts] times within [Policy.Window]. The error
	// returned also wraps the last crash, so errors.Is and errors.As reach
	// it too.
	ErrTooManyRestarts = errors.New("supervise: too many restarts")

	// ErrStopped is returned by [Unit.Restart] when the unit has stopped, or
	// stops before the new attempt has started.
	ErrStopped = errors.New("supervise: unit stopped")

	// ErrAlreadyServed is returned by [Unit.Serve] when the unit is served,
	// or was served, before. A unit is served at most once.
	ErrAlreadyServed = errors.New("supervise: unit already served")

	// ErrGoexit is the crash recorded when a runner calls runtime.Goexit
	// (for example through testing.T.FailNow) instead of returning.
	ErrGoexit = errors.New("supervise: runner called runtime.Goexit")
)

// Fatal wraps err so that a unit stops without restarting when its runner
// returns it. errors.Is(Fatal(err), ErrFatal) and errors.Is(Fatal(err), err)
// both hold. Fatal(nil) returns ErrFatal itself.
func Fatal(err error) error {
	if err == nil {
		return ErrFatal
	}
	return fmt.Errorf("%w: %w", ErrFatal, err)
}

// PanicError is the crash recorded when a runner panics. It is always used
// as a pointer. Error returns one line without the stack; the stack stays
// available in Stack for logs and events.
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

func isFatalErr(err error) bool { return errors.Is(err, ErrFatal) }
