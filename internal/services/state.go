package services

import (
	"cmp"
	"context"
	"log/slog"
	"slices"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/servicelink"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// registryState is a Registry's mutable state. Exactly one goroutine holds
// it at a time (see Registry): Serve's goroutine while it serves, otherwise
// the caller that took it from Registry.idle, for one command. Nothing here
// is touched by anyone else, so it needs no lock.
type registryState struct {
	r        *Registry
	entries  map[string]*entry
	stopping map[string]*entry // removed by Stop, still shutting down
	runCtx   context.Context   // non-nil while serving (until Serve's ctx ends)
	served   bool              // Serve has taken over once
	closed   bool              // Serve's ctx has ended: no more services
	allReady bool              // NotifyAllClustersReady was called
	running  int               // unit goroutines that have not reported their end
}

// entry is one registered service. The fields up to log are set by Add and
// never change, so any goroutine may read them; the rest belong to the
// holder of the registry's state.
type entry struct {
	reg  *Registry
	name string
	addr bus.Address
	svc  service.Service
	cfg  servicelink.Config
	log  *slog.Logger

	unit         *supervise.Unit
	runner       *unitRunner
	prevRestarts int   // restarts counted by earlier units (Restart after Failed)
	prevCrashes  int   // crashes counted by earlier units
	prevErr      error // last error of earlier units
	done         chan struct{}
	cancel       context.CancelFunc
	exited       bool // the unit's Serve returned
	removed      bool // Stop removed the entry
	everReady    bool // some run called Ready
	allReadySent bool // AllClustersReady was delivered, or is being delivered
}

// entryView is what Stats reads of one entry: an immutable copy, published
// by the state's holder whenever the entry's unit or the registry's
// membership changes.
type entryView struct {
	e            *entry
	unit         *supervise.Unit
	prevRestarts int
	prevCrashes  int
	prevErr      error
}

func (v entryView) info() service.Info {
	st := v.unit.Status()
	last := st.LastError
	if last == nil {
		last = v.prevErr
	}
	return service.Info{
		Name:      v.e.name,
		State:     st.State,
		Ready:     st.State == supervisor.StateReady,
		Restarts:  v.prevRestarts + st.Restarts,
		Crashes:   v.prevCrashes + st.Crashes,
		LastError: last,
		Since:     st.Since,
	}
}

// own is the owner's loop: it applies commands until ctx has ended and
// every unit goroutine has reported its end. Every command is quick and
// never waits for a service, so commands are always accepted promptly.
func (st *registryState) own(ctx context.Context) {
	for st.runCtx != nil || st.running > 0 {
		var ctxDone <-chan struct{}
		if st.runCtx != nil {
			ctxDone = ctx.Done()
		}
		select {
		case <-ctxDone:
			st.runCtx = nil
			st.closed = true
		case cmd := <-st.r.cmds:
			cmd.apply(st)
		}
	}
}

// newUnit gives e a new supervisor (and the runner it supervises).
func (st *registryState) newUnit(e *entry) {
	opts := []supervise.Option{
		supervise.WithPolicy(e.cfg.Policy),
		supervise.WithLogger(e.log),
	}
	for _, h := range st.r.cfg.hooks {
		opts = append(opts, supervise.WithEventHook(h))
	}
	e.runner = &unitRunner{e: e}
	e.unit = supervise.New(e.name, e.runner, opts...)
}

// start attaches the mailbox of e's first run and starts e's supervisor
// goroutine. Called by the owner, with runCtx set.
//
// Attaching here, rather than when the supervisor gets to Run, is what lets
// ServeBackground, Add and Restart promise that a command sent once they
// return queues for the new run (see the package doc). If the attach fails
// (the address was taken meanwhile) the run attaches itself and reports the
// error as its crash.
func (st *registryState) start(e *entry) {
	r := st.r
	if mb, err := r.bus.Attach(e.addr, e, e.mailboxOptions()...); err == nil {
		e.runner.first = mb
	} else {
		e.log.Debug("pre-attaching the mailbox failed; the run will retry", slog.Any("err", err))
	}
	ctx, cancel := context.WithCancel(st.runCtx)
	u, ur, done := e.unit, e.runner, make(chan struct{})
	e.cancel, e.done, e.exited = cancel, done, false
	st.running++
	go func() {
		err := u.Serve(ctx)
		cancel()
		if err != nil {
			e.log.Error("service stopped for good", slog.Any("err", err))
		}
		// The unit stopped before its first Run took the mailbox: detach
		// it, so queued requests fail with bus.ErrTargetStopped. Serve has
		// returned, so no run touches ur any more.
		if mb := ur.first; mb != nil {
			ur.first = nil
			mb.Detach()
		}
		r.send(exitedCmd{e: e, done: done})
	}()
}

// finishRemoval forgets a removed service's address, once e's supervisor
// has returned (or never ran).
func (st *registryState) finishRemoval(e *entry) {
	if st.stopping[e.name] == e {
		delete(st.stopping, e.name)
	}
	st.r.bus.Forget(e.addr)
	e.log.Info("service removed")
}

// sorted returns the entries sorted by name.
func (st *registryState) sorted() []*entry {
	es := make([]*entry, 0, len(st.entries))
	for _, e := range st.entries {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(a.name, b.name) })
	return es
}

// publish stores a new view of the entries for Stats.
func (st *registryState) publish() {
	es := st.sorted()
	view := make([]entryView, len(es))
	for i, e := range es {
		view[i] = entryView{e: e, unit: e.unit, prevRestarts: e.prevRestarts, prevCrashes: e.prevCrashes, prevErr: e.prevErr}
	}
	st.r.view.Store(&view)
}
