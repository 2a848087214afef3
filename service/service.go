package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/servicelink"
	"github.com/megane-go/megane/store"
	"github.com/megane-go/megane/supervisor"
)

// Service is the contract of a service (suture's Serve contract).
//
// Serve blocks until ctx ends and then returns promptly; it calls sc.Ready
// once the service is ready to handle commands. Returning nil while ctx is
// alive means the service finished (it is not restarted unless its Policy
// says RestartOnSuccess); returning an error, or panicking, is a crash and
// the service is restarted after a backoff (see [supervisor.Policy]). An
// error wrapping [supervisor.ErrNoRestart] (see [supervisor.NoRestart])
// stops it for good.
//
// The same Service value is used for every run, so Serve must not assume
// fresh fields: reset what it needs at the start of each call.
//
// A service that takes commands implements [bus.Handler], for example by
// embedding a [bus.Mux] on which its constructor registers typed functions
// with [bus.Handle] (once: the same value serves every run). Every message to
// its address bus.Service(name) goes to HandleMessage, on the service's
// mailbox goroutine, concurrently with Serve, and only after the current run
// called Ready; ctx ends when the requester gives up or the run ends. A
// panic in it is not a crash: the requester gets a *bus.HandlerError
// matching bus.ErrHandlerPanic, with the stack, and the run goes on. A
// service may also implement [bus.StatsProvider] and
// [bus.AllClustersReadyHandler].
type Service interface {
	Serve(ctx context.Context, sc *Context) error
}

// Context is what a run of a service gets besides its context.Context: its
// name, logger, the bus, the store and the Ready signal. A Context is valid
// for one run only (a restart gets a new one). It is safe for concurrent use;
// do not copy it.
type Context struct {
	name   string
	logger *slog.Logger
	bus    *bus.Bus
	store  *store.Store
	ready  func() // the run's Ready, set by the registry
}

func init() {
	servicelink.NewContext = func(name string, logger *slog.Logger, b *bus.Bus, st *store.Store, ready func()) any {
		return &Context{name: name, logger: logger, bus: b, store: st, ready: ready}
	}
}

// Name returns the service's name.
func (c *Context) Name() string { return c.name }

// Logger returns the Manager's logger with the attribute service=NAME.
func (c *Context) Logger() *slog.Logger { return c.logger }

// Bus returns the process's bus. The service's own address is
// bus.Service(c.Name()).
func (c *Context) Bus() *bus.Bus { return c.bus }

// Store returns the process's central store (the Manager's Store).
func (c *Context) Store() *store.Store { return c.store }

// Ready tells the Manager that this run is ready: its ready timeout is
// disarmed, its backoff is reset (a later crash restarts quickly), and its
// mailbox starts handling commands. Ready is idempotent, never blocks, and
// does nothing after the run has ended or its ready timeout (WithReadyTimeout) has fired.
func (c *Context) Ready() { c.ready() }

// Info describes one service at one moment: its supervisor state, restart
// counts and last error, and the figures of its Stats. It is a plain value.
type Info struct {
	// Name is the service's name.
	Name string
	// State is the service's supervisor state.
	State supervisor.State
	// Ready reports whether State is supervisor.StateReady (the current
	// run called Ready).
	Ready bool
	// Restarts counts the runs started after the first, for any reason.
	Restarts int
	// Crashes counts the runs that ended with an error, a panic or a ready
	// timeout.
	Crashes int
	// LastError is the most recent crash or fatal error, or nil.
	LastError error
	// Since is when the service entered State.
	Since time.Time
	// Custom holds the service's Stats() figures: set only for ready
	// services implementing bus.StatsProvider that answered in time.
	Custom map[string]any
}
