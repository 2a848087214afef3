package service

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Errors returned by this package are, or wrap, one of
// these (or a context or bus error), so callers match them with errors.Is.
var (
	// ErrNotFound means no service is registered under the name.
	ErrNotFound = errors.New("service: not found")
	// ErrDuplicate means a service is already registered under the name,
	// or is still stopping, or the bus address bus.Service(name) is
	// attached by someone else.
	ErrDuplicate = errors.New("service: already registered")
	// ErrInvalidName means the name cannot be a bus address (it is empty or
	// malformed), or the service is nil.
	ErrInvalidName = errors.New("service: invalid name")
	// ErrNotServing means the registry is not serving: Restart was called
	// before Serve, or after Serve returned.
	ErrNotServing = errors.New("service: registry not serving")
	// ErrClosed means Serve has returned: the registry takes no new
	// services.
	ErrClosed = errors.New("service: registry closed")
	// ErrAlreadyServed means Serve was called twice.
	ErrAlreadyServed = errors.New("service: registry already served")
	// ErrReadyTimeout is matched by every *ReadyTimeoutError.
	ErrReadyTimeout = errors.New("service: not ready in time")
)

// ReadyTimeoutError is the crash recorded when a run does not call Ready
// within its ready timeout (WithReadyTimeout). The run's context is cancelled, and once Serve
// has returned the service is restarted like after any crash.
type ReadyTimeoutError struct {
	Service string        // the service's name
	Timeout time.Duration // the ready timeout that elapsed
}

// Error implements error.
func (e *ReadyTimeoutError) Error() string {
	return fmt.Sprintf("service %q: not ready within %v", e.Service, e.Timeout)
}

// Unwrap returns ErrReadyTimeout.
func (e *ReadyTimeoutError) Unwrap() error { return ErrReadyTimeout }
