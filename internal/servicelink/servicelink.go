// Package servicelink joins the public service package to the registry
// that runs services (internal/services): the hook through which the
// registry builds a run's *service.Context (whose fields only package
// service can set), and the configuration that a service's
// service.Options build.
package servicelink

import (
	"log/slog"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/store"
	"github.com/megane-go/megane/supervisor"
)

// NewContext returns the public *service.Context (as any) of one run of
// the service called name: its logger, the process's bus and store (st may
// be nil), and ready, which Context.Ready calls. Package service sets it
// when it is initialised, which is before the registry (which imports it)
// can run.
var NewContext func(name string, logger *slog.Logger, b *bus.Bus, st *store.Store, ready func()) any

// Config is one service's configuration. A service.Option is a
// func(*Config): package service declares it over this type (through an
// unexported alias), so the registry applies a service's options with
// Apply and users can neither build nor read a Config.
type Config struct {
	// ReadyTimeout bounds how long a run may take to call Ready; 0 means
	// no bound.
	ReadyTimeout time.Duration
	// Policy is the service's restart policy.
	Policy supervisor.Policy
	// Capacity is the mailbox's capacity; 0 means the bus's default.
	Capacity int
}

// Apply returns the default configuration (supervisor.DefaultPolicy, no
// ready timeout, the bus's mailbox capacity) with opts applied in order.
func Apply[Opt ~func(*Config)](opts []Opt) Config {
	c := Config{Policy: supervisor.DefaultPolicy()}
	for _, opt := range opts {
		opt(&c)
	}
	return c
}
