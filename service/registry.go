package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/store"
)

// Registry holds and supervises the services of one process.
//
// Create it with NewRegistry; the zero value is not usable and a Registry
// must not be copied. All methods are safe for concurrent use. Each service
// runs under its own supervisor goroutine, owned by the registry and stopped
// by Serve's context or by Stop. The registry's own bookkeeping (which
// services exist) sits behind one mutex that is never held while a service
// runs user code or while the registry waits for a service.
type Registry struct {
	bus      *bus.Bus
	store    *store.Store
	cfg      registryConfig
	allReady atomic.Bool
	wg       sync.WaitGroup // one per running supervisor goroutine

	mu       sync.Mutex
	entries  map[string]*entry
	stopping map[string]*entry // removed by Stop, still shutting down
	runCtx   context.Context   // non-nil while Serve runs
	served   bool
	closed   bool
}

// entry is one registered service.
type entry struct {
	reg  *Registry
	name string
	addr bus.Address
	svc  Service
	cfg  serviceConfig
	log  *slog.Logger

	everReady    atomic.Bool // some run called Ready
	allReadySent atomic.Bool // AllClustersReady was delivered

	// preattached is the mailbox startLocked attached for the unit's first
	// run, so that commands sent as soon as the service is started queue
	// instead of failing. The first Run takes it (Swap(nil)); if the unit
	// stops before any Run, startLocked's goroutine detaches it.
	preattached atomic.Pointer[bus.Mailbox]

	// Guarded by reg.mu.
	unit         *supervise.Unit
	prevRestarts int   // restarts counted by earlier units (Restart after Failed)
	prevCrashes  int   // crashes counted by earlier units
	prevErr      error // last error of earlier units
	done         chan struct{}
	cancel       context.CancelFunc
	exited       bool // the unit's Serve returned
	removed      bool // Stop removed the entry
}

// Status describes one service at one moment.
type Status struct {
	// Name is the service's name.
	Name string
	// State is the service's supervisor state.
	State State
	// Ready reports whether State is StateReady (the current run called
	// Ready).
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
	// Custom holds the service's Stats() figures; it is set only by
	// Registry.Stats, and only for ready services implementing
	// StatsProvider.
	Custom map[string]any
}

// NewRegistry returns an empty registry whose services talk through b and
// share st. b must not be nil; st may be nil (then Context.Store returns
// nil). It starts no goroutine: call Serve.
func NewRegistry(b *bus.Bus, st *store.Store, opts ...RegistryOption) *Registry {
	if b == nil {
		panic("service: NewRegistry called with a nil bus")
	}
	cfg := defaultRegistryConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	return &Registry{
		bus:      b,
		store:    st,
		cfg:      cfg,
		entries:  map[string]*entry{},
		stopping: map[string]*entry{},
	}
}

// Add registers svc under name. If the registry is serving, the service
// starts at once, and its mailbox is attached before Add returns (commands
// sent afterwards wait for Ready); otherwise it starts when Serve is called. name must be a
// valid bus service name (non-empty); it fails with ErrInvalidName, with
// ErrDuplicate if the name is taken (or its previous service is still
// stopping), and with ErrClosed after Serve has returned.
func (r *Registry) Add(name string, svc Service, opts ...Option) error {
	if svc == nil {
		return fmt.Errorf("%w: service %q is nil", ErrInvalidName, name)
	}
	addr := bus.Service(name)
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	}
	if err := addr.Validate(); err != nil {
		return fmt.Errorf("%w: %q: %w", ErrInvalidName, name, err)
	}
	cfg := defaultServiceConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	e := &entry{
		reg:  r,
		name: name,
		addr: addr,
		svc:  svc,
		cfg:  cfg,
		log:  r.cfg.logger.With(slog.String("service", name)),
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("service %q: %w", name, ErrClosed)
	}
	if _, ok := r.entries[name]; ok {
		return fmt.Errorf("service %q: %w", name, ErrDuplicate)
	}
	if _, ok := r.stopping[name]; ok {
		return fmt.Errorf("service %q: %w (still stopping)", name, ErrDuplicate)
	}
	// Make the address known to the bus right away, so that a command sent
	// before the first run attaches fails with the retryable
	// bus.ErrTargetStopped rather than bus.ErrNoTarget; this also finds an
	// address held by someone else.
	mb, err := r.bus.Attach(addr, nil)
	if err != nil {
		return fmt.Errorf("service %q: %w: %w", name, ErrDuplicate, err)
	}
	mb.Detach()
	e.unit = r.newUnit(e)
	r.entries[name] = e
	if r.runCtx != nil {
		r.startLocked(e)
	}
	return nil
}

// Serve runs every registered service, and every service added later,
// until ctx ends; then it stops them all, waits until every service's Serve
// has returned, and returns nil. A service that fails for good (too many
// crashes, a fatal error) stays registered in state StateFailed and does not
// stop the others; Restart revives it. Serve may be called once; a second
// call returns ErrAlreadyServed.
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
	r.mu.Lock()
	if r.served {
		r.mu.Unlock()
		signal()
		return ErrAlreadyServed
	}
	r.served = true
	r.runCtx = ctx
	for _, e := range r.sortedLocked() {
		r.startLocked(e)
	}
	r.mu.Unlock()
	signal()

	<-ctx.Done()

	r.mu.Lock()
	r.runCtx = nil
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

// Restart ends the service's current run and starts a new one at once,
// without backoff and without counting a crash; a service in backoff
// restarts immediately, and a service that has stopped or failed for good is
// started again with a fresh restart budget. It returns once the new run has
// started, with ErrNotFound for an unknown name, ErrNotServing if the
// registry is not serving, or ctx's error if ctx ends first (the restart may
// still happen).
func (r *Registry) Restart(ctx context.Context, name string) error {
	for {
		r.mu.Lock()
		e, ok := r.entries[name]
		switch {
		case !ok:
			r.mu.Unlock()
			return fmt.Errorf("service %q: %w", name, ErrNotFound)
		case r.runCtx == nil:
			r.mu.Unlock()
			return fmt.Errorf("service %q: restart: %w", name, ErrNotServing)
		case e.exited:
			old := e.unit.Status()
			e.prevRestarts += old.Restarts + 1
			e.prevCrashes += old.Crashes
			if old.LastError != nil {
				e.prevErr = old.LastError
			}
			e.unit = r.newUnit(e)
			r.startLocked(e)
			r.mu.Unlock()
			e.log.Info("service started again after it had stopped")
			return nil
		}
		u, done := e.unit, e.done
		r.mu.Unlock()

		err := u.Restart(ctx)
		if !errors.Is(err, supervise.ErrStopped) {
			if err != nil {
				return fmt.Errorf("service %q: restart: %w", name, err)
			}
			return nil
		}
		// The unit stopped meanwhile (it failed, or the registry is
		// stopping): wait until it is marked so, then look again.
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("service %q: restart: %w", name, ctx.Err())
		}
	}
}

// Stop removes the service: its run's context is cancelled, and once its
// Serve has returned its bus address is forgotten (requests then fail with
// bus.ErrNoTarget) and it disappears from States and Stats. Stop returns
// when that is done, or with ctx's error if ctx ends first (the removal then
// completes in the background). Unknown names fail with ErrNotFound. The
// name may be added again once the old service has stopped.
func (r *Registry) Stop(ctx context.Context, name string) error {
	r.mu.Lock()
	e, ok := r.entries[name]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("service %q: %w", name, ErrNotFound)
	}
	delete(r.entries, name)
	e.removed = true
	if e.done == nil || e.exited {
		r.finishRemovalLocked(e)
		r.mu.Unlock()
		return nil
	}
	r.stopping[name] = e
	cancel, done := e.cancel, e.done
	r.mu.Unlock()

	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("service %q: stop: %w", name, ctx.Err())
	}
}

// States returns the status of every registered service, sorted by name
// (Custom is nil). It runs no service code and never blocks for long.
func (r *Registry) States() []Status {
	r.mu.Lock()
	es := r.sortedLocked()
	out := make([]Status, len(es))
	for i, e := range es {
		st := e.unit.Status()
		last := st.LastError
		if last == nil {
			last = e.prevErr
		}
		out[i] = Status{
			Name:      e.name,
			State:     st.State,
			Ready:     st.State == StateReady,
			Restarts:  e.prevRestarts + st.Restarts,
			Crashes:   e.prevCrashes + st.Crashes,
			LastError: last,
			Since:     st.Since,
		}
	}
	r.mu.Unlock()
	return out
}

// Stats returns States with Custom filled in from the Stats method of every
// ready service that implements StatsProvider. Each Stats call runs on its
// service's mailbox goroutine (after any command being handled), all
// services concurrently; a service that does not answer before ctx ends, or
// that stops meanwhile, gets no Custom, and one whose Stats panics gets no
// Custom and a log line at error level with the stack.
func (r *Registry) Stats(ctx context.Context) []Status {
	out := r.States()
	var wg sync.WaitGroup
	for i := range out {
		if !out[i].Ready {
			continue
		}
		r.mu.Lock()
		e := r.entries[out[i].Name]
		r.mu.Unlock()
		if e == nil {
			continue
		}
		if _, ok := e.svc.(StatsProvider); !ok {
			continue
		}
		wg.Go(func() {
			res, err := bus.Eval(ctx, r.bus, bus.Address{}, e.addr, func(_ context.Context, target any) (map[string]any, error) {
				sp, ok := target.(StatsProvider)
				if !ok {
					return nil, nil
				}
				return sp.Stats(), nil
			})
			if err != nil || len(res) != 1 {
				return
			}
			var he *bus.HandlerError
			switch {
			case res[0].Err == nil:
				out[i].Custom = res[0].Value
			case errors.As(res[0].Err, &he) && len(he.Stack) > 0:
				e.log.Error("service Stats panicked", slog.String("panic", he.Msg), slog.String("stack", string(he.Stack)))
			}
		})
	}
	wg.Wait()
	return out
}

// NotifyAllClustersReady tells the services that every cluster is ready.
// Each registered service implementing AllClustersReadyHandler that has been
// ready once gets AllClustersReady(ctx) now, concurrently; the others get it
// right after their first Ready. Each service gets it at most once. It
// returns when the calls made now have returned.
func (r *Registry) NotifyAllClustersReady(ctx context.Context) {
	r.allReady.Store(true)
	r.mu.Lock()
	es := r.sortedLocked()
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range es {
		if _, ok := e.svc.(AllClustersReadyHandler); ok && e.everReady.Load() {
			wg.Go(func() { r.deliverAllReady(ctx, e) })
		}
	}
	wg.Wait()
}

// deliverAllReady calls e's AllClustersReady if all clusters are ready, e
// has been ready, and it has not been called yet.
func (r *Registry) deliverAllReady(ctx context.Context, e *entry) {
	h, ok := e.svc.(AllClustersReadyHandler)
	if !ok || !r.allReady.Load() || !e.everReady.Load() || !e.allReadySent.CompareAndSwap(false, true) {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("AllClustersReady panicked", slog.Any("panic", v))
		}
	}()
	h.AllClustersReady(ctx)
}

// newUnit builds the supervisor of e. Called with r.mu held.
func (r *Registry) newUnit(e *entry) *supervise.Unit {
	opts := []supervise.Option{
		supervise.WithPolicy(e.cfg.policy),
		supervise.WithLogger(e.log),
	}
	for _, h := range r.cfg.hooks {
		opts = append(opts, supervise.WithEventHook(h))
	}
	return supervise.New(e.name, e, opts...)
}

// startLocked attaches the mailbox of e's first run and starts e's
// supervisor goroutine. Called with r.mu held and r.runCtx set.
//
// Attaching here, rather than when the supervisor gets to Run, is what lets
// ServeBackground, Add and Restart promise that a command sent once they
// return queues for the new run (see the package doc). If the attach fails
// (the address was taken meanwhile) the run attaches itself and reports the
// error as its crash.
func (r *Registry) startLocked(e *entry) {
	if mb, err := r.bus.Attach(e.addr, e, e.mailboxOptions()...); err == nil {
		if old := e.preattached.Swap(mb); old != nil {
			old.Detach() // cannot happen: the previous unit has exited
		}
	} else {
		e.log.Debug("pre-attaching the mailbox failed; the run will retry", slog.Any("err", err))
	}
	ctx, cancel := context.WithCancel(r.runCtx)
	u, done := e.unit, make(chan struct{})
	e.cancel, e.done, e.exited = cancel, done, false
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := u.Serve(ctx)
		cancel()
		if err != nil {
			e.log.Error("service stopped for good", slog.Any("err", err))
		}
		r.mu.Lock()
		// The unit stopped before its first Run took the mailbox: detach
		// it, so queued requests fail with bus.ErrTargetStopped.
		if mb := e.preattached.Swap(nil); mb != nil {
			mb.Detach()
		}
		e.exited = true
		if e.removed {
			r.finishRemovalLocked(e)
		}
		r.mu.Unlock()
		close(done)
	}()
}

// finishRemovalLocked forgets a removed service's address. Called with r.mu
// held, once e's supervisor has returned (or never ran).
func (r *Registry) finishRemovalLocked(e *entry) {
	if r.stopping[e.name] == e {
		delete(r.stopping, e.name)
	}
	r.bus.Forget(e.addr)
	e.log.Info("service removed")
}

func (r *Registry) sortedLocked() []*entry {
	es := make([]*entry, 0, len(r.entries))
	for _, e := range r.entries {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(a.name, b.name) })
	return es
}
