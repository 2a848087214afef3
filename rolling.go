package megane

import (
	"context"
	"fmt"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/services"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// RollOption configures [Manager.RollingRestart] and
// [Manager.RollingRestartServices]. The zero configuration (no options)
// restarts one after another with no pause, each as soon as the previous
// one is ready again.
type RollOption func(*rollConfig)

// rollConfig is what the RollOptions set.
type rollConfig struct {
	pause time.Duration // RollPause
	// RollGate; fraction 0 means no gate (ready is enough).
	fraction        float64
	window, timeout time.Duration
	bad             []error // invalid option values, reported by the roll
}

// RollPause waits d after each cluster (or service) has passed its gate
// before restarting the next one; not after the last. The default is no
// pause; a negative d is an *OptionError.
func RollPause(d time.Duration) RollOption {
	return func(c *rollConfig) {
		if d < 0 {
			c.bad = append(c.bad, &OptionError{Option: fmt.Sprintf("RollPause(%v)", d), Reason: "want a duration >= 0"})
			return
		}
		c.pause = d
	}
}

// RollGate adds a health gate to RollingRestart: the next cluster is
// restarted only once the previous one is ready again AND its event rate
// has recovered to at least fraction (0 < fraction <= 1) of its rate
// before the restart, within timeout of becoming ready. Otherwise
// RollingRestart stops with a *RollGateError naming that cluster (the
// cluster itself keeps running).
//
// The rate is the cluster's dispatch count, the events its event loop has
// handed to the worker, read with two atomic loads (no lock, no stats
// snapshot) and differenced over window: once, window long, right before
// the cluster's restart (so the gate adds one window to each cluster), and
// then every window after it is ready, until one window reaches the rate.
// A cluster that had no traffic before its restart passes once it is
// ready. A window that spans one of the cluster's own crash restarts does
// not count. Window should hold several events at the bot's rate: at 5
// events/s, a window of 2 s or more. Services have no event rate: for
// RollingRestartServices the gate is being ready, and RollGate changes
// nothing. Invalid values are an *OptionError.
func RollGate(fraction float64, window, timeout time.Duration) RollOption {
	return func(c *rollConfig) {
		if !(fraction > 0 && fraction <= 1) || window <= 0 || timeout <= 0 {
			c.bad = append(c.bad, &OptionError{
				Option: fmt.Sprintf("RollGate(%v, %v, %v)", fraction, window, timeout),
				Reason: "want 0 < fraction <= 1 and a positive window and timeout",
			})
			return
		}
		c.fraction, c.window, c.timeout = fraction, window, timeout
	}
}

// RollGateError is returned (wrapped) by RollingRestart when a cluster's
// event rate did not recover within RollGate's timeout of it being ready
// again. The cluster keeps running; the clusters after it were not
// restarted.
type RollGateError struct {
	// Cluster is the ID of the cluster whose rate did not recover.
	Cluster int
	// Before is its rate before the restart and Best the best rate of a
	// window since it was ready, in events per second.
	Before, Best float64
	// Timeout is RollGate's timeout.
	Timeout time.Duration
}

// Error implements error.
func (e *RollGateError) Error() string {
	return fmt.Sprintf("megane: cluster %d: event rate did not recover within %v (before %.1f/s, best since %.1f/s)",
		e.Cluster, e.Timeout, e.Before, e.Best)
}

// RollingRestart restarts the clusters one after another in ID order, each
// after the previous one is ready again (and, with [RollGate], its event
// rate has recovered; with [RollPause], after a pause), so at most one
// cluster is down at a time. It sends an [cluster.EventRollingProgress]
// each time a cluster has passed its gate, and a final one. It stops at
// the first error: the cluster that failed has had its restart (it keeps
// running), the ones after it have not. When ctx ends, at any point, it
// returns ctx's error wrapped, leaving at most the cluster whose restart
// was under way to finish it on its own. It fails with
// ErrReshardInProgress while a re-shard runs, and with an *OptionError for
// an invalid option.
func (m *Manager) RollingRestart(ctx context.Context, kind cluster.RestartKind, opts ...RollOption) error {
	cfg, err := rollOptions(opts)
	if err != nil {
		return err
	}
	if m.resharding() {
		return ErrReshardInProgress
	}
	cs, err := m.all()
	if err != nil {
		return err
	}
	steps := make([]rollStep, len(cs))
	for i, c := range cs {
		steps[i] = rollStep{
			cluster:    c.ID(),
			restart:    func(ctx context.Context) error { return c.RestartAndWait(ctx, kind) },
			dispatched: c.Dispatched,
		}
	}
	return roll(ctx, steps, cfg, m.emitOwn)
}

// RollingRestartServices restarts the registered services one after
// another in name order, each after the previous one is ready again (its
// new run called Ready; with [RollPause], after a pause), and sends the
// same [cluster.EventRollingProgress] events as RollingRestart, with
// Service set. It stops at the first error: a service that fails for good
// instead of becoming ready, one removed meanwhile (service.ErrNotFound),
// or ctx's end (wrapped), which leaves at most the service being restarted
// to finish on its own. It fails with service.ErrNotServing when Run is
// not serving; with no services registered it only sends the final event.
//
// It is a method of its own rather than an option of RollingRestart
// because a service has no restart kind and no event rate: an option would
// make RollingRestart's kind and RollGate mean nothing in one mode.
func (m *Manager) RollingRestartServices(ctx context.Context, opts ...RollOption) error {
	cfg, err := rollOptions(opts)
	if err != nil {
		return err
	}
	reg := m.madeRegistry() // nil: no service was added and Run was never called
	if reg == nil {
		return fmt.Errorf("megane: rolling restart of the services: %w", service.ErrNotServing)
	}
	infos := reg.Stats(doneCtx)
	steps := make([]rollStep, len(infos))
	for i, in := range infos {
		steps[i] = rollStep{cluster: -1, service: in.Name, restart: func(ctx context.Context) error {
			return m.restartServiceReady(ctx, reg, in.Name)
		}}
	}
	return roll(ctx, steps, cfg, m.emitOwn)
}

// doneCtx is an ended context: the registry's Stats then reads snapshots
// only and runs no service code.
var doneCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// servicePoll is how often restartServiceReady looks at the registry's
// snapshot (a pointer load and a copy of the service list).
const servicePoll = 10 * time.Millisecond

// restartServiceReady restarts the service and waits until its new run is
// ready: its restart count has passed what it was before and it is
// StateReady. A service that fails for good (StateFailed) instead is an
// error, with its last error.
func (m *Manager) restartServiceReady(ctx context.Context, reg *services.Registry, name string) error {
	info := func() (service.Info, bool) {
		for _, in := range reg.Stats(doneCtx) {
			if in.Name == name {
				return in, true
			}
		}
		return service.Info{}, false
	}
	before, ok := info()
	if !ok {
		return fmt.Errorf("megane: service %q: %w", name, service.ErrNotFound)
	}
	if err := m.RestartService(ctx, name); err != nil {
		return err
	}
	t := time.NewTicker(servicePoll)
	defer t.Stop()
	for {
		in, ok := info()
		switch {
		case !ok:
			return fmt.Errorf("megane: service %q: %w", name, service.ErrNotFound)
		case in.Restarts > before.Restarts && in.Ready:
			return nil
		case in.Restarts > before.Restarts && in.State == supervisor.StateFailed:
			return fmt.Errorf("megane: service %q failed after its restart: %w", name, in.LastError)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// rollOptions applies opts to the default configuration.
func rollOptions(opts []RollOption) (rollConfig, error) {
	var cfg rollConfig
	for i, o := range opts {
		if o == nil {
			return cfg, &OptionError{Option: fmt.Sprintf("RollOption %d", i), Reason: "nil"}
		}
		o(&cfg)
	}
	if len(cfg.bad) > 0 {
		return cfg, cfg.bad[0]
	}
	return cfg, nil
}

// rollStep is one cluster or service of a rolling restart.
type rollStep struct {
	cluster int    // the cluster's ID, or -1 for a service
	service string // the service's name, for a service
	// restart restarts it and returns once it is ready again.
	restart func(ctx context.Context) error
	// dispatched reads its attempt number and dispatch count (see
	// engine.Cluster.Dispatched); nil for a service, which has no rate.
	dispatched func() (attempt int, n uint64)
}

// String names the step in errors.
func (s rollStep) String() string {
	if s.service != "" {
		return fmt.Sprintf("service %q", s.service)
	}
	return fmt.Sprintf("cluster %d", s.cluster)
}

// roll runs the steps in order: pause (after the first), measure the
// rate, restart, gate, progress event. It sends the final event on every
// return, and never starts a step once ctx has ended.
func roll(ctx context.Context, steps []rollStep, cfg rollConfig, emit func(cluster.Event)) error {
	progress := func(s rollStep, done int, err error) {
		emit(cluster.Event{Kind: cluster.EventRollingProgress, Cluster: s.cluster, Shard: -1, Service: s.service,
			Done: done, Total: len(steps), Err: err, At: time.Now()})
	}
	for i, s := range steps {
		err := s.roll(ctx, cfg, i > 0)
		if err != nil {
			err = fmt.Errorf("megane: rolling restart at %v: %w", s, err)
			progress(rollStep{cluster: -1}, i, err)
			return err
		}
		progress(s, i+1, nil)
	}
	progress(rollStep{cluster: -1}, len(steps), nil)
	return nil
}

// roll runs one step: the pause (if pause), the rate before, the restart
// and the gate.
func (s rollStep) roll(ctx context.Context, cfg rollConfig, pause bool) error {
	if pause && cfg.pause > 0 {
		if err := sleep(ctx, cfg.pause); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	gated := cfg.fraction > 0 && s.dispatched != nil
	var before float64
	if gated {
		var err error
		if before, err = s.rate(ctx, cfg.window); err != nil {
			return err
		}
	}
	if err := s.restart(ctx); err != nil {
		return err
	}
	if !gated || before == 0 {
		return nil
	}
	return s.gate(ctx, cfg, before)
}

// rate measures the step's event rate over one window, taking another
// window if the first spanned a restart of the cluster.
func (s rollStep) rate(ctx context.Context, window time.Duration) (float64, error) {
	for {
		a0, n0 := s.dispatched()
		t0 := time.Now()
		if err := sleep(ctx, window); err != nil {
			return 0, err
		}
		a1, n1 := s.dispatched()
		if a1 == a0 && n1 >= n0 {
			return float64(n1-n0) / time.Since(t0).Seconds(), nil
		}
	}
}

// gate waits until one window's rate reaches cfg.fraction of before, or
// cfg.timeout passes (a *RollGateError), or ctx ends.
func (s rollStep) gate(ctx context.Context, cfg rollConfig, before float64) error {
	deadline := time.NewTimer(cfg.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(cfg.window)
	defer tick.Stop()
	want, best := cfg.fraction*before, 0.0
	a0, n0 := s.dispatched()
	t0 := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return &RollGateError{Cluster: s.cluster, Before: before, Best: best, Timeout: cfg.timeout}
		case <-tick.C:
			a1, n1 := s.dispatched()
			now := time.Now()
			if a1 == a0 && n1 > n0 {
				r := float64(n1-n0) / now.Sub(t0).Seconds()
				if r >= want {
					return nil
				}
				best = max(best, r)
			}
			a0, n0, t0 = a1, n1, now
		}
	}
}

// sleep blocks for d or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
