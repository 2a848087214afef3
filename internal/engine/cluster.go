package engine

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/rest"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/clusterlink"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/store"
	"github.com/megane-go/megane/supervisor"
)

// Cluster is one supervised group of shards with its own disgo client and
// the user's [Worker]. Each start (and full or resume restart) of a cluster
// is one attempt of a supervisor: it builds the shards and the client,
// launches a new worker, opens the shards, becomes ready, and runs until its
// context ends or it crashes. A crash (an error from Launch, a panic in a
// listener, a stalled dispatch) is restarted with backoff; the restart
// resumes the sessions and keeps the cache, like [cluster.RestartResume].
//
// Cluster 0 is an ordinary cluster. Build one with [New]; the zero value is
// not usable and a Cluster must not be copied. All methods are safe for
// concurrent use.
//
// While an attempt is ready the cluster answers bus messages at
// bus.Cluster(id) (see [Cluster.Bus] and the Topic constants); between
// attempts (a restart, a crash's backoff) requests to it fail with
// bus.ErrTargetStopped, and once Serve has returned with bus.ErrNoTarget.
//
// Who owns what:
//
//   - The cluster's state (whether it serves, standby and live, the bus
//     address's mailbox, the running attempt, restart kinds and the
//     session the next attempt resumes from, the restarts waiting for a
//     ready attempt, readiness, reloading, the incarnation being launched,
//     the shards' past counters) is a clusterState with exactly one holder
//     at a time. While Serve runs that is Serve's goroutine, the owner.
//     Callers (Activate, ReleaseBus, the restarts) and the attempt's
//     goroutines (its runner, its executor during a worker-only reload)
//     send it commands of a sealed interface; the owner applies them one
//     at a time and answers each on its own one-shot buffered reply
//     channel. An attempt sends about a dozen commands in its life and
//     none per event.
//   - Before Serve and after it has returned there is no owner: the state
//     waits in a channel of capacity 1, and a command's sender takes it,
//     applies the command itself and puts it back. New starts no
//     goroutine.
//   - The owner never waits for anything that may need it. A restart waits
//     for the supervisor (which waits for the cancelled attempt's
//     teardown) and a worker-only reload for the executor; both are
//     started off the owner, which takes no other restart until their
//     result comes back as a command, so restarts still apply in order.
//   - Reads that must not block (Status, Ready, Client, Stats' parts,
//     Standby, the listener target) load an immutable view that the
//     holder publishes after every change.
//   - The supervisor (a supervise.Unit) owns the restarts' timing and the
//     attempts' status; an attempt owns its shards, client, executor and
//     worker incarnations, and so the forwarder's current incarnation,
//     which the dispatch path reads per event as an atomic.
type Cluster struct {
	id         int
	shardIDs   []int
	shardCount int
	token      string
	factory    func() Worker
	cfg        config
	log        *slog.Logger
	unit       *supervise.Unit
	fwd        forwarder
	rest       rest.Client // shared by every attempt (see WithRESTClient); set by Serve before the first
	bus        *bus.Bus
	store      *store.Store
	face       *cluster.Cluster // what the worker sees; set by New, never changed

	idle     chan *clusterState   // capacity 1: holds the state while no owner runs
	cmds     chan command         // unbuffered: read by the owner while Serve runs
	restarts chan *restartCmd     // bounded (8): the owner takes one at a time; see RestartCluster
	view     atomic.Pointer[view] // published by the state's holder
	done     chan struct{}        // closed when Serve returns
	activate chan struct{}        // closed by Activate
	live     chan struct{}        // closed once a worker runs and the mailbox is attached

	maintOn    atomic.Bool  // maintenance mode (SetMaintenance); read by the executor once per batch
	maintDrops atomic.Int64 // held events dropped by a full hold buffer, over every attempt

	hooks testHooks // nil functions outside tests
}

// testHooks let a test stop the cluster at a point of a race; they are
// set before Serve and never in production.
type testHooks struct {
	runStart      func()            // an attempt's runner begins, before it reads its start kind
	restartQueued func()            // the owner set a restart's kinds and is about to restart the unit
	launchStart   func(attempt int) // a worker's launch begins, before it is recorded as launching
	ended         func(attempt int) // attempt.end has cancelled the attempt's incarnations
}

// New returns a cluster that will run the given shards (IDs out of
// shardCount) with token. factory is called for every (re)start and must
// return a new Worker each time. New does no I/O; call [Cluster.Serve].
// The token is only handed to the shards and the disgo client; it never
// appears in a log line, an error or an event.
func New(token string, id int, shardIDs []int, shardCount int, factory func() Worker, opts ...Option) *Cluster {
	cfg := defaultConfig()
	cfg.apply(opts)
	c := &Cluster{
		id:         id,
		shardIDs:   slices.Clone(shardIDs),
		shardCount: shardCount,
		token:      token,
		factory:    factory,
		cfg:        cfg,
		log:        cfg.logger.With(slog.Int("cluster", id)),
		rest:       cfg.rest,
		bus:        cfg.bus,
		store:      cfg.store,
		idle:       make(chan *clusterState, 1),
		cmds:       make(chan command),
		restarts:   make(chan *restartCmd, 8),
		done:       make(chan struct{}),
		activate:   make(chan struct{}),
		live:       make(chan struct{}),
	}
	if !cfg.standby {
		close(c.activate)
	}
	c.maintOn.Store(cfg.maintenance)
	st := newClusterState(c, cfg.standby)
	st.publish()
	c.idle <- st
	if c.bus == nil {
		c.bus = bus.New(bus.WithLogger(c.log))
	}
	c.unit = supervise.New("cluster-"+strconv.Itoa(id), supervise.RunnerFunc(c.run),
		supervise.WithPolicy(cfg.policy),
		supervise.WithLogger(c.log),
		supervise.WithFatal(IsFatal),
	)
	c.face = clusterlink.Wrap(c).(*cluster.Cluster)
	return c
}

// Handle returns the *cluster.Cluster that the worker gets: the public,
// read-only face of c. It is the same value for c's whole life.
func (c *Cluster) Handle() *cluster.Cluster { return c.face }

// ID returns the cluster's ID (0-based; 0 is an ordinary cluster).
func (c *Cluster) ID() int { return c.id }

// ShardIDs returns a copy of the IDs of the shards this cluster runs.
func (c *Cluster) ShardIDs() []int { return slices.Clone(c.shardIDs) }

// ShardCount returns the total shard count of the bot.
func (c *Cluster) ShardCount() int { return c.shardCount }

// Generation returns the shard set the cluster belongs to (see
// [WithGeneration]); 0 for the set a Manager starts first.
func (c *Cluster) Generation() int { return c.cfg.generation }

// Logger returns the cluster's logger, which carries the "cluster"
// attribute.
func (c *Cluster) Logger() *slog.Logger { return c.log }

// Client returns the disgo client of the current attempt, or nil between
// attempts. A full or resume restart replaces the client, so do not keep it
// across restarts: listeners get theirs from the event (e.Client()), and a
// worker gets it in Launch.
func (c *Cluster) Client() *bot.Client {
	if a := c.view.Load().att; a != nil {
		return a.client
	}
	return nil
}

// Worker returns the current incarnation's worker, or nil.
func (c *Cluster) Worker() Worker {
	if inc := c.fwd.cur.Load(); inc != nil {
		return inc.worker
	}
	return nil
}

// AddEventListeners registers listeners for the current worker
// incarnation (during Launch: the one being launched). They receive every
// event of the cluster's client until the incarnation ends, in order, on
// the cluster's one dispatch goroutine. A panic in a listener crashes the
// cluster (it is restarted with backoff); disgo would only log it.
func (c *Cluster) AddEventListeners(listeners ...bot.EventListener) {
	if inc := c.listenerTarget(); inc != nil {
		inc.add(listeners)
	}
}

// RemoveEventListeners removes listeners of the current incarnation.
func (c *Cluster) RemoveEventListeners(listeners ...bot.EventListener) {
	if inc := c.listenerTarget(); inc != nil {
		inc.remove(listeners)
	}
}

// listenerTarget is the incarnation whose listeners Add/RemoveEventListeners
// change: the one being launched, else the running one, else nil.
func (c *Cluster) listenerTarget() *incarnation {
	inc := c.view.Load().launching
	if inc == nil {
		inc = c.fwd.cur.Load()
	}
	return inc
}

// Status returns the cluster's status. It never blocks.
func (c *Cluster) Status() supervisor.State {
	v := c.view.Load()
	ready, reloading := v.ready, v.reloading
	switch c.unit.State() {
	case supervisor.StateIdle:
		return supervisor.StateIdle
	case supervisor.StateStarting, supervisor.StateRunning, supervisor.StateReady:
		// The unit learns of MarkHealthy asynchronously; the cluster's own
		// flags are authoritative.
		switch {
		case reloading:
			return supervisor.StateReloading
		case ready:
			return supervisor.StateReady
		}
		return supervisor.StateStarting
	case supervisor.StateBackoff:
		return supervisor.StateBackoff
	case supervisor.StateRestarting:
		return supervisor.StateRestarting
	case supervisor.StateStopping:
		return supervisor.StateStopping
	case supervisor.StateStopped:
		return supervisor.StateStopped
	}
	return supervisor.StateFailed
}

// Restarts returns how many attempts started after the first, for any
// reason. Worker-only reloads are not counted.
func (c *Cluster) Restarts() int { return c.unit.Restarts() }

// Crashes returns how many attempts ended with an error or a panic.
func (c *Cluster) Crashes() int { return c.unit.Status().Crashes }

// LastError returns the most recent crash or fatal error, or nil.
func (c *Cluster) LastError() error { return c.unit.LastError() }

// Done returns a channel closed once Serve has returned.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// Ready returns a channel that is closed while the cluster is ready. It is
// replaced when the cluster stops being ready, so take it again after a
// restart.
func (c *Cluster) Ready() <-chan struct{} { return c.view.Load().readyCh }

// WaitReady blocks until the cluster is ready, ctx ends, or the cluster
// stops (cluster.ErrStopped).
func (c *Cluster) WaitReady(ctx context.Context) error {
	select {
	case <-c.Ready():
		return nil
	case <-c.done:
		return cluster.ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Serve runs the cluster and blocks until ctx ends (it then returns nil
// once every shard is closed and every goroutine of the cluster has exited)
// or the cluster failed: a fatal error (see [IsFatal]) or too many crashes
// (supervise.ErrTooManyRestarts wrapping the last crash). The calling
// goroutine owns the cluster's state and restarts (see [Cluster]). Serve
// may be called once.
func (c *Cluster) Serve(ctx context.Context) error {
	st, err := c.takeOver()
	if err != nil {
		return err
	}
	defer close(c.done)
	ownRest := false
	defer func() {
		if ownRest {
			closeCtx, cancel := context.WithTimeout(context.Background(), c.cfg.shutdownTimeout)
			defer cancel()
			c.rest.Close(closeCtx)
		}
	}()
	// Deferred after close(done) so that the state is back in idle before
	// done tells waiters the owner has gone, and before the REST client's
	// close, which may take a while.
	defer func() { c.idle <- st }()
	if c.factory == nil {
		return ErrNoWorker
	}
	if !st.standby {
		if err := c.announce(); err != nil {
			return err
		}
	}
	defer st.forgetBus()
	if c.rest == nil {
		c.rest = newRESTClient(c.token, c.cfg.apiURL, c.log)
		ownRest = true
	}
	st.serveCtx = ctx
	return st.own(c.unit.ServeBackground(ctx))
}

// Restart restarts cluster id with the given kind. For another cluster it
// asks the [Restarter] (the Manager) and returns once that cluster is
// ready again. For its own cluster it only schedules the restart and
// returns at once, because a listener that waited for its own cluster's
// restart would wait for itself; watch the events, or use the Manager, to
// learn when it is done. cluster.ErrRestartPending means earlier requests are still
// queued.
func (c *Cluster) RestartCluster(ctx context.Context, id int, kind RestartKind) error {
	if !validKind(kind) {
		return cluster.ErrInvalidRestartKind
	}
	if id != c.id {
		if c.cfg.restarter == nil {
			return ErrNoRestarter
		}
		return c.cfg.restarter.Restart(ctx, id, kind)
	}
	if err := c.selfRestartable(); err != nil {
		return err
	}
	cmd := newRestartCmd(kind)
	select {
	case c.restarts <- cmd:
		return nil
	case <-c.done:
		return cluster.ErrStopped
	default:
		return cluster.ErrRestartPending
	}
}

// selfRestartable returns why this cluster cannot take a restart of its
// own now (ErrNotServing, ErrStandby), or nil.
func (c *Cluster) selfRestartable() error {
	v := c.view.Load()
	if !v.served {
		return ErrNotServing
	}
	if v.standby {
		return ErrStandby
	}
	return nil
}

// RestartAndWait restarts this cluster with the given kind and returns once
// it is ready again, or ctx ends, or the cluster stops (cluster.ErrStopped). It must
// not be called from this cluster's own listeners (use RestartCluster with
// its own ID there, which only schedules the restart).
func (c *Cluster) RestartAndWait(ctx context.Context, kind RestartKind) error {
	if !validKind(kind) {
		return cluster.ErrInvalidRestartKind
	}
	if err := c.selfRestartable(); err != nil {
		return err
	}
	cmd := newRestartCmd(kind)
	select {
	case c.restarts <- cmd:
	case <-c.done:
		return cluster.ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-cmd.reply:
		if err != nil {
			return err
		}
	case <-c.done:
		return cluster.ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-cmd.ready:
		return nil
	case <-c.done:
		return cluster.ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NotifyAllReady calls the current worker's AllClustersReady, if it has
// one. The Manager calls it once per run.
func (c *Cluster) NotifyAllReady(ctx context.Context) {
	inc := c.fwd.cur.Load()
	if inc == nil {
		return
	}
	if n, ok := inc.worker.(bus.AllClustersReadyHandler); ok {
		n.AllClustersReady(ctx)
	}
}

// emit logs an event and hands it to the hook.
func (c *Cluster) emit(e Event) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.Cluster = c.id
	e.Generation = c.cfg.generation
	// The event's attributes name the cluster: log them on the logger
	// without the cluster's own attribute, so that it appears once.
	c.cfg.logger.LogAttrs(context.Background(), eventLevel(e), "cluster event", e.LogAttrs()...)
	if c.cfg.hook != nil {
		c.cfg.hook(e)
	}
}

// newRESTClient builds a disgo REST client for the API URL (Discord's when
// empty).
//
// disgo's rest.NewRateLimiter starts a cleanup goroutine that never stops,
// so a REST client must be built once and shared, never once per restart.
func newRESTClient(token, apiURL string, log *slog.Logger) rest.Client {
	opts := []rest.ClientConfigOpt{rest.WithLogger(log)}
	if apiURL != "" {
		opts = append(opts, rest.WithURL(apiURL))
	}
	return rest.NewClient(token, opts...)
}
