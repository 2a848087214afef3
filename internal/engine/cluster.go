package engine

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/rest"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/clusterlink"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/shard"
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
	cmds       chan *command // bounded (8); see Restart
	rest       rest.Client   // shared by every attempt; see WithRESTClient
	ownRest    bool          // rest was built by Serve and is closed by it
	served     atomic.Bool
	done       chan struct{} // closed when Serve returns
	bus        *bus.Bus
	store      *store.Store
	standby    atomic.Bool   // no worker, off the bus (WithStandby); Activate clears it
	activate   chan struct{} // closed by Activate
	live       chan struct{} // closed once a worker runs and the mailbox is attached
	liveOnce   sync.Once

	mu       sync.Mutex   // guards the fields below
	released bool         // ReleaseBus was called: never attach again
	mailbox  *bus.Mailbox // the attached mailbox of the running attempt, if any
	att      *attempt     // the running attempt, nil between attempts
	attempts int
	// A restart has two ends: the attempt it cancels, if one runs, and the
	// attempt it starts. Each reads its own field, since the new attempt
	// may read its kind before the old one is torn down, or a second
	// restart may come before the first one's attempt has read it.
	startKind RestartKind     // the kind of the restart that starts the next attempt, 0 after a crash
	endKind   RestartKind     // the kind of the restart that cancels the running attempt
	serveCtx  context.Context // Serve's: once it ends, an attempt's end is the cluster's stop
	saved     *savedSession   // what the next attempt resumes from
	waiters   []*command      // restarts waiting for the next ready attempt
	launching *incarnation    // the incarnation whose Launch runs now
	reloading bool            // a worker-only reload runs
	ready     bool            // the current attempt is ready
	readyCh   chan struct{}   // closed when ready becomes true; replaced when false
	// past holds each shard's counters over the attempts that ended (see
	// Stats).
	past map[int]shard.Stats

	face *cluster.Cluster // what the worker sees; set by New, never changed

	hooks testHooks // nil functions outside tests
}

// testHooks let a test stop the cluster at a point of a race; they are
// set before Serve and never in production.
type testHooks struct {
	runStart      func() // an attempt's runner begins, before it reads its start kind
	restartQueued func() // handle set a restart's kinds and is about to restart the unit
}

// command is a restart request for the cluster's owner goroutine. reply
// (capacity 1) gets the result of starting the restart; ready is closed
// once the cluster is ready again after it.
type command struct {
	kind  RestartKind
	reply chan error
	ready chan struct{}
}

// newCommand returns a restart command of kind with a one-shot reply
// channel (capacity 1) and an open ready channel.
func newCommand(kind RestartKind) *command {
	return &command{kind: kind, reply: make(chan error, 1), ready: make(chan struct{})}
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
		cmds:       make(chan *command, 8),
		done:       make(chan struct{}),
		readyCh:    make(chan struct{}),
		rest:       cfg.rest,
		bus:        cfg.bus,
		store:      cfg.store,
		activate:   make(chan struct{}),
		live:       make(chan struct{}),
		past:       make(map[int]shard.Stats),
	}
	if cfg.standby {
		c.standby.Store(true)
	} else {
		close(c.activate)
	}
	if c.bus == nil {
		c.bus = bus.New(bus.WithLogger(c.log))
	}
	c.unit = supervise.New("cluster-"+strconv.Itoa(id), supervise.RunnerFunc(c.run),
		supervise.WithPolicy(cfg.policy),
		supervise.WithLogger(c.log),
		supervise.WithFatal(cluster.IsFatal),
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.att == nil {
		return nil
	}
	return c.att.client
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
	c.mu.Lock()
	inc := c.launching
	c.mu.Unlock()
	if inc == nil {
		inc = c.fwd.cur.Load()
	}
	return inc
}

// Status returns the cluster's status. It never blocks.
func (c *Cluster) Status() supervisor.State {
	c.mu.Lock()
	ready, reloading := c.ready, c.reloading
	c.mu.Unlock()
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
func (c *Cluster) Ready() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readyCh
}

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
// or the cluster failed: a fatal error (see [cluster.IsFatal]) or too many crashes
// (supervise.ErrTooManyRestarts wrapping the last crash). The calling
// goroutine owns the cluster's restarts. Serve may be called once.
func (c *Cluster) Serve(ctx context.Context) error {
	if !c.served.CompareAndSwap(false, true) {
		return ErrAlreadyServed
	}
	defer close(c.done)
	if c.factory == nil {
		return ErrNoWorker
	}
	if !c.standby.Load() {
		if err := c.announce(); err != nil {
			return err
		}
	}
	defer c.forgetBus()
	if c.rest == nil {
		c.rest = newRESTClient(c.token, c.cfg.apiURL, c.log)
		c.ownRest = true
	}
	if c.ownRest {
		defer func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), c.cfg.shutdownTimeout)
			defer cancel()
			c.rest.Close(closeCtx)
		}()
	}
	c.mu.Lock()
	c.serveCtx = ctx
	c.mu.Unlock()
	errc := c.unit.ServeBackground(ctx)
	for {
		select {
		case err := <-errc:
			c.releaseWaiters()
			return err
		case cmd := <-c.cmds:
			c.handle(ctx, cmd)
		}
	}
}

// releaseWaiters drops the waiting restarts (they see c.done).
func (c *Cluster) releaseWaiters() {
	c.mu.Lock()
	c.waiters = nil
	c.mu.Unlock()
}

// handle runs one restart command on the owner goroutine.
func (c *Cluster) handle(ctx context.Context, cmd *command) {
	if c.inStandby() {
		cmd.reply <- ErrStandby
		return
	}
	if cmd.kind == cluster.RestartWorker {
		c.mu.Lock()
		a := c.att
		c.mu.Unlock()
		if a != nil {
			err := a.exec.requestSwap(ctx, a.stop)
			if !errors.Is(err, errAttemptEnded) {
				cmd.reply <- err
				if err == nil {
					close(cmd.ready)
				}
				return
			}
			// The attempt ended (a crash, a stall) before the swap ran:
			// the next attempt brings a new worker; wait for it.
			c.mu.Lock()
			c.waiters = append(c.waiters, cmd)
			c.mu.Unlock()
			cmd.reply <- nil
			return
		}
		// No attempt runs (backoff): the next attempt brings a new worker
		// anyway; start it now.
	}
	c.mu.Lock()
	switch cmd.kind {
	case cluster.RestartWorker:
		// No attempt was found running: the next one brings a new worker
		// and keeps the sessions; one that started meanwhile, cancelled
		// below, keeps them too.
		c.startKind, c.endKind = cluster.RestartResume, cluster.RestartResume
	default:
		c.startKind, c.endKind = cmd.kind, cmd.kind
	}
	c.waiters = append(c.waiters, cmd)
	c.mu.Unlock()
	if c.hooks.restartQueued != nil {
		c.hooks.restartQueued()
	}
	if err := c.unit.Restart(ctx); err != nil {
		c.mu.Lock()
		c.waiters = slices.DeleteFunc(c.waiters, func(w *command) bool { return w == cmd })
		c.mu.Unlock()
		if errors.Is(err, supervise.ErrStopped) {
			err = cluster.ErrStopped
		}
		cmd.reply <- err
		return
	}
	cmd.reply <- nil
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
	cmd := newCommand(kind)
	select {
	case c.cmds <- cmd:
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
	if !c.served.Load() {
		return ErrNotServing
	}
	if c.standby.Load() {
		return ErrStandby
	}
	return nil
}

// RestartAndWait restarts this cluster with the given kind and returns once
// it is ready again, or ctx ends, or the cluster stops (cluster.ErrStopped). It must
// not be called from this cluster's own listeners (use Restart there).
func (c *Cluster) RestartAndWait(ctx context.Context, kind RestartKind) error {
	if !validKind(kind) {
		return cluster.ErrInvalidRestartKind
	}
	if err := c.selfRestartable(); err != nil {
		return err
	}
	cmd := newCommand(kind)
	select {
	case c.cmds <- cmd:
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
	if n, ok := inc.worker.(AllClustersReadyNotifiee); ok {
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

// setReady records readiness and wakes waiters.
func (c *Cluster) setReady(ready bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ready == c.ready {
		return
	}
	c.ready = ready
	if ready {
		close(c.readyCh)
	} else {
		c.readyCh = make(chan struct{})
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
