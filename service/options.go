package service

import (
	"log/slog"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// Option configures one service in Registry.Add (and megane.WithService).
type Option func(*serviceConfig)

type serviceConfig struct {
	readyTimeout time.Duration
	policy       supervisor.Policy
	capacity     int
}

func defaultServiceConfig() serviceConfig {
	return serviceConfig{policy: supervisor.DefaultPolicy()}
}

// WithReadyTimeout bounds how long each run may take to call Ready. A run that
// is not ready within d has its context cancelled and, once Serve returns,
// counts as a crash (a *ReadyTimeoutError) and is restarted with backoff.
// Zero (the default) means no bound.
func WithReadyTimeout(d time.Duration) Option {
	return func(c *serviceConfig) {
		if d >= 0 {
			c.readyTimeout = d
		}
	}
}

// WithRestartPolicy sets the service's restart policy (default
// [supervisor.DefaultPolicy]).
func WithRestartPolicy(p supervisor.Policy) Option {
	return func(c *serviceConfig) { c.policy = p }
}

// WithMailboxCapacity sets how many commands wait in the service's mailbox
// (default: the bus's mailbox size). Values < 1 are ignored. See package bus
// for what happens when it is full.
func WithMailboxCapacity(n int) Option {
	return func(c *serviceConfig) {
		if n >= 1 {
			c.capacity = n
		}
	}
}

// RegistryOption configures a Registry.
type RegistryOption func(*registryConfig)

type registryConfig struct {
	logger *slog.Logger
	hooks  []func(supervisor.Event)
}

func defaultRegistryConfig() registryConfig {
	return registryConfig{logger: slog.Default()}
}

// WithLogger sets the registry's logger (default slog.Default()). Each
// service logs through it with the attribute service=NAME.
func WithLogger(l *slog.Logger) RegistryOption {
	return func(c *registryConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithEventHook adds a function called with every state transition of every
// service, in order per service. It runs on the service's supervisor
// goroutine: it must return quickly and must not call the Registry's
// blocking methods (Restart, Stop). A panic in it is recovered and logged.
func WithEventHook(fn func(supervisor.Event)) RegistryOption {
	return func(c *registryConfig) {
		if fn != nil {
			c.hooks = append(c.hooks, fn)
		}
	}
}
