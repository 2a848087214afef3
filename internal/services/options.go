package services

import (
	"log/slog"

	"github.com/megane-go/megane/supervisor"
)

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
