package service

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. The Manager's service calls (megane.WithService,
// Manager.AddService, RestartService, StopService) return errors that are,
// or wrap, one of these (or a context or bus error), so callers match them
// with errors.Is.
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
	// ErrNotServing means the services are not being served: a restart
	// was asked for before Manager.Run started them, or after they
	// stopped.
	ErrNotServing = errors.New("service: registry not serving")
	// ErrClosed means the services have stopped for good (Manager.Run
	// has returned, or the Manager was closed): no new services are taken.
	ErrClosed = errors.New("service: registry closed")
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
