package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/servicelink"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/store"
)

// Registry holds and supervises the services of one process.
//
// Create it with NewRegistry; the zero value is not usable and a Registry
// must not be copied. All methods are safe for concurrent use.
//
// Who owns what:
//
//   - The registry's state (which services exist, which are stopping, each
//     service's supervisor, whether the registry serves, who has been told
//     that all clusters are ready) has exactly one holder at a time. While
//     Serve runs, that is Serve's goroutine, the owner. Add, Restart, Stop
//     and NotifyAllClustersReady are commands (as are a run's Ready and a
//     unit's end). The owner applies them one at a time and answers each one
//     on its own one-shot buffered reply channel.
//   - Before Serve, and after it has returned, there is no owner. The state
//     waits in a channel of capacity 1, and a method call takes it, applies
//     its command on the caller's goroutine, and puts it back. Serve's
//     hand-over is taking the state out of that channel; it puts the state
//     back when it returns, even if it panics. NewRegistry starts no
//     goroutine.
//   - Sending a command therefore selects on the owner's command channel
//     and that idle channel, one of which is always ready promptly. The owner
//     never waits for service code. Waiting for a reply also watches the
//     owner's liveness channel. Callers' contexts bound only what follows:
//     waiting for a unit to restart or a service to stop.
//   - Each service runs under its own supervisor (a supervise.Unit) on a
//     goroutine that Serve starts and waits for. The unit owns the service's
//     run state.
//   - Reads (Stats) do not go through the owner. After every change, the
//     state's holder publishes an immutable list of the services, and each
//     service's supervisor publishes its own status atomically. So a read
//     costs one atomic load per service (plus the Stats calls of the
//     services, see Stats). It never waits behind a command or a busy owner,
//     and it works before Serve and after it, when there is no owner to ask.
type Registry struct {
	bus   *bus.Bus
	store *store.Store
	cfg   registryConfig

	idle      chan *registryState // capacity 1: holds the state while no owner runs
	cmds      chan command        // unbuffered: read by the owner while Serve runs
	ownerDone chan struct{}       // closed once Serve has returned (liveness of the owner)
	view      atomic.Pointer[[]entryView]
}

// NewRegistry returns an empty registry whose services talk through b and
// share st. b must not be nil; st may be nil (then service.Context.Store returns
// nil). It starts no goroutine: call Serve.
func NewRegistry(b *bus.Bus, st *store.Store, opts ...RegistryOption) *Registry {
	if b == nil {
		panic("service: NewRegistry called with a nil bus")
	}
	cfg := defaultRegistryConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	r := &Registry{
		bus:       b,
		store:     st,
		cfg:       cfg,
		idle:      make(chan *registryState, 1),
		cmds:      make(chan command),
		ownerDone: make(chan struct{}),
	}
	r.view.Store(&[]entryView{})
	r.idle <- &registryState{r: r, entries: map[string]*entry{}, stopping: map[string]*entry{}}
	return r
}

// Add registers svc under name. If the registry is serving, the service
// starts at once, and its mailbox is attached before Add returns (commands
// sent afterwards wait for Ready); otherwise it starts when Serve is called. name must be a
// valid bus service name (non-empty); it fails with service.ErrInvalidName, with
// service.ErrDuplicate if the name is taken (or its previous service is still
// stopping), and with service.ErrClosed after Serve has returned.
func (r *Registry) Add(name string, svc service.Service, opts ...service.Option) error {
	if svc == nil {
		return fmt.Errorf("%w: service %q is nil", service.ErrInvalidName, name)
	}
	addr := bus.Service(name)
	if name == "" {
		return fmt.Errorf("%w: empty name", service.ErrInvalidName)
	}
	if err := addr.Validate(); err != nil {
		return fmt.Errorf("%w: %q: %w", service.ErrInvalidName, name, err)
	}
	cfg := servicelink.Apply(opts)
	e := &entry{
		reg:  r,
		name: name,
		addr: addr,
		svc:  svc,
		cfg:  cfg,
		log:  r.cfg.logger.With(slog.String("service", name)),
	}
	reply := make(chan error, 1)
	r.send(addCmd{e: e, reply: reply})
	err, lost := await(r, reply)
	if lost != nil {
		return fmt.Errorf("service %q: %w", name, lost)
	}
	return err
}

// Serve runs every registered service, and every service added later,
// until ctx ends; then it stops them all, waits until every service's Serve
// has returned, and returns nil. A service that fails for good (too many
// crashes, a fatal error) stays registered in state StateFailed and does not
// stop the others; Restart revives it. Serve may be called once; a second
// call returns ErrAlreadyServed.
//
// The calling goroutine becomes the registry's owner (see Registry).
func (r *Registry) Serve(ctx context.Context) error {
	return r.serve(ctx, nil)
}

// ServeBackground runs Serve on a new goroutine and returns once the
// registry is serving (every registered service has been started, and Add,
// Restart and Stop act on running services), or once Serve has failed. By
// then every service's mailbox is attached, so a command sent right after
// ServeBackground returns waits (up to its context) for the service to call
// Ready instead of failing with bus.ErrTargetStopped. The channel receives
// Serve's result and is then closed; it has capacity 1, so nobody has to
// read it.
func (r *Registry) ServeBackground(ctx context.Context) <-chan error {
	errc := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		defer close(errc)
		errc <- r.serve(ctx, started)
	}()
	<-started
	return errc
}

// serve implements Serve; it closes started (if not nil) once the registry
// serves, or at once if it cannot.
func (r *Registry) serve(ctx context.Context, started chan<- struct{}) error {
	signal := func() {
		if started != nil {
			close(started)
		}
	}
	st, err := r.takeOver()
	if err != nil {
		signal()
		return err
	}
	// Deferred in this order so that the state is back in idle before
	// ownerDone tells waiters the owner has gone.
	defer close(r.ownerDone)
	defer func() { r.idle <- st }()
	st.served = true
	st.runCtx = ctx
	for _, e := range st.sorted() {
		st.start(e)
	}
	signal()
	st.own(ctx)
	return nil
}

// Restart ends the service's current run and starts a new one at once,
// without backoff and without counting a crash; a service in backoff
// restarts immediately, and a service that has stopped or failed for good is
// started again with a fresh restart budget. It returns once the new run has
// started, with service.ErrNotFound for an unknown name, service.ErrNotServing if the
// registry is not serving, or ctx's error if ctx ends first (the restart may
// still happen).
func (r *Registry) Restart(ctx context.Context, name string) error {
	for {
		reply := make(chan restartReply, 1)
		r.send(restartCmd{name: name, reply: reply})
		rep, lost := await(r, reply)
		switch {
		case lost != nil:
			return fmt.Errorf("service %q: restart: %w", name, service.ErrNotServing)
		case rep.err != nil:
			return rep.err
		case rep.unit == nil:
			return nil // it had stopped and was started again
		}
		err := rep.unit.Restart(ctx)
		if !errors.Is(err, supervise.ErrStopped) {
			if err != nil {
				return fmt.Errorf("service %q: restart: %w", name, err)
			}
			return nil
		}
		// The unit stopped meanwhile (it failed, or the registry is
		// stopping): wait until the owner has marked it so, then look again.
		select {
		case <-rep.done:
		case <-ctx.Done():
			return fmt.Errorf("service %q: restart: %w", name, ctx.Err())
		}
	}
}

// Stop removes the service: its run's context is cancelled, and once its
// Serve has returned its bus address is forgotten (requests then fail with
// bus.ErrNoTarget) and it disappears from Stats. Stop returns
// when that is done, or with ctx's error if ctx ends first (the removal then
// completes in the background). Unknown names fail with service.ErrNotFound. The
// name may be added again once the old service has stopped.
func (r *Registry) Stop(ctx context.Context, name string) error {
	reply := make(chan stopReply, 1)
	r.send(stopCmd{name: name, reply: reply})
	rep, lost := await(r, reply)
	switch {
	case lost != nil:
		return fmt.Errorf("service %q: stop: %w", name, lost)
	case rep.err != nil || rep.done == nil:
		return rep.err
	}
	select {
	case <-rep.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("service %q: stop: %w", name, ctx.Err())
	}
}

// Stats returns the status of every registered service, sorted by name,
// with Custom filled in from the Stats method of every ready service that
// implements bus.StatsProvider. Each Stats call runs on its service's mailbox
// goroutine (after any command being handled), all services concurrently,
// so Stats can take until ctx ends; a service that does not answer before
// ctx ends, or that stops meanwhile, gets no Custom, and one whose Stats
// panics gets no Custom and a log line at error level with the stack.
// Everything but Custom is read from snapshots and never blocks; with ctx
// already done, Stats runs no service code.
func (r *Registry) Stats(ctx context.Context) []service.Info {
	view := *r.view.Load()
	out := make([]service.Info, len(view))
	for i, v := range view {
		out[i] = v.info()
	}
	if ctx.Err() != nil {
		return out
	}
	var wg sync.WaitGroup
	for i := range out {
		e := view[i].e
		if _, ok := e.svc.(bus.StatsProvider); !ok || !out[i].Ready {
			continue
		}
		wg.Go(func() { out[i].Custom = r.customStats(ctx, e) })
	}
	wg.Wait()
	return out
}

// customStats evaluates e's Stats on its mailbox goroutine; nil if it does
// not answer, stopped, or panicked (logged).
func (r *Registry) customStats(ctx context.Context, e *entry) map[string]any {
	res, err := bus.Eval(ctx, r.bus, bus.Address{}, e.addr, func(_ context.Context, sp bus.StatsProvider) (map[string]any, error) {
		return sp.Stats(), nil
	})
	if err != nil || len(res) != 1 {
		return nil
	}
	var he *bus.HandlerError
	switch {
	case res[0].Err == nil:
		return res[0].Value
	case errors.As(res[0].Err, &he) && len(he.Stack) > 0:
		e.log.Error("service Stats panicked", slog.String("panic", he.Msg), slog.String("stack", string(he.Stack)))
	}
	return nil
}

// NotifyAllClustersReady tells the services that every cluster is ready.
// Each registered service implementing bus.AllClustersReadyHandler that has been
// ready once gets AllClustersReady(ctx) now, concurrently; the others get it
// right after their first Ready. Each service gets it at most once. It
// returns when the calls made now have returned.
func (r *Registry) NotifyAllClustersReady(ctx context.Context) {
	reply := make(chan []*entry, 1)
	r.send(allReadyCmd{reply: reply})
	due, _ := await(r, reply)
	var wg sync.WaitGroup
	for _, e := range due {
		wg.Go(func() { e.callAllReady(ctx) })
	}
	wg.Wait()
}

// firstReady tells the state's holder that a run of e called Ready, and
// reports whether that run must deliver AllClustersReady now. It is called
// by the run's mailbox goroutine, which Serve waits for, so an owner exists.
func (r *Registry) firstReady(e *entry) bool {
	reply := make(chan bool, 1)
	r.send(readyCmd{e: e, reply: reply})
	deliver, _ := await(r, reply)
	return deliver
}

// callAllReady calls e's AllClustersReady, recovering a panic. The caller
// has claimed the one delivery (see allReadyCmd and readyCmd).
func (e *entry) callAllReady(ctx context.Context) {
	h, ok := e.svc.(bus.AllClustersReadyHandler)
	if !ok {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("AllClustersReady panicked", slog.Any("panic", v))
		}
	}()
	h.AllClustersReady(ctx)
}

// send hands cmd to the state's holder. While Serve runs the owner takes
// it; otherwise the caller takes the idle state, applies cmd itself and
// puts the state back. One of the two is always ready promptly: the owner
// reads commands in every phase of Serve and only finishes the command (or
// the start-up) before it reads again, and when the owner ends, for any
// reason, its deferred hand-over puts the state back in idle. So idle is
// the liveness path of every send, and send takes no context: a command is
// applied whatever the caller's ctx, exactly as when the registry held a
// mutex (ctx only bounds the waits that follow, for a unit or a service).
// The reply is then in cmd's reply channel, or will be shortly (see await).
func (r *Registry) send(cmd command) {
	select {
	case r.cmds <- cmd:
	case st := <-r.idle:
		cmd.apply(st)
		r.idle <- st // never blocks: capacity 1, and we emptied it
	}
}

// await waits for the reply to a command that send has handed over. The
// owner answers every command it receives before it takes the next, so the
// wait is short and takes no context; ownerDone only guards against an
// owner that died in between, which await reports as service.ErrClosed.
func await[T any](r *Registry, reply <-chan T) (T, error) {
	select {
	case v := <-reply:
		return v, nil
	case <-r.ownerDone:
		select {
		case v := <-reply:
			return v, nil
		default:
			var zero T
			return zero, service.ErrClosed
		}
	}
}

// takeOver is Serve's hand-over: it takes the idle state, which Serve puts
// back when it returns, or fails with ErrAlreadyServed if the registry is or
// was served (a second Serve that finds an owner asks it, see serveCmd).
func (r *Registry) takeOver() (*registryState, error) {
	reply := make(chan error, 1)
	select {
	case st := <-r.idle:
		if st.served {
			r.idle <- st
			return nil, ErrAlreadyServed
		}
		return st, nil
	case r.cmds <- serveCmd{reply: reply}:
		if err, lost := await(r, reply); lost == nil {
			return nil, err
		}
		return nil, ErrAlreadyServed
	}
}
