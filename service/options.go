package service

import (
	"time"

	"github.com/megane-go/megane/internal/servicelink"
	"github.com/megane-go/megane/supervisor"
)

// Option configures one service in megane.WithService and
// Manager.AddService.
type Option func(*serviceConfig)

// serviceConfig is the configuration that the registry reads
// (internal/servicelink); its fields are not part of this package's API.
type serviceConfig = servicelink.Config

// WithReadyTimeout bounds how long each run may take to call Ready. A run that
// is not ready within d has its context cancelled and, once Serve returns,
// counts as a crash (a *ReadyTimeoutError) and is restarted with backoff.
// Zero (the default) means no bound.
func WithReadyTimeout(d time.Duration) Option {
	return func(c *serviceConfig) {
		if d >= 0 {
			c.ReadyTimeout = d
		}
	}
}

// WithRestartPolicy sets the service's restart policy (default
// [supervisor.DefaultPolicy]).
func WithRestartPolicy(p supervisor.Policy) Option {
	return func(c *serviceConfig) { c.Policy = p }
}

// WithMailboxCapacity sets how many commands wait in the service's mailbox
// (default: the bus's mailbox size). Values < 1 are ignored. See package bus
// for what happens when it is full.
func WithMailboxCapacity(n int) Option {
	return func(c *serviceConfig) {
		if n >= 1 {
			c.Capacity = n
		}
	}
}
