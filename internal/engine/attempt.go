package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/shardset"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// savedSession is what a resume keeps between two attempts: the shards'
// sessions and the client's cache.
type savedSession struct {
	states map[int]shard.State
	caches cache.Caches
}

// attempt is one run of a cluster under its supervisor: one disgo client,
// one set of shards, one executor, and one or more worker incarnations
// (several after worker-only reloads). It is owned by the goroutine that
// runs Cluster.run.
type attempt struct {
	c      *Cluster
	no     int
	ctx    context.Context
	log    *slog.Logger
	client *bot.Client
	shards *shardset.Set
	exec   *executor
	ready  *readiness
	crashc chan error    // capacity 1: the first crash wins
	stop   chan struct{} // closed when teardown begins; stops the watchdog
	// wg holds the goroutines the attempt starts (executor, shard opening,
	// watchdog, mailbox); teardown waits for them, bounded.
	wg sync.WaitGroup
	// mailbox is the attempt's bus mailbox, attached once the attempt is
	// ready and detached by teardown; only the attempt's goroutine
	// touches the field.
	mailbox *bus.Mailbox
	// standby: the cluster was in standby when the attempt began, so it
	// launches no worker until it goes live (see WithStandby).
	standby bool
	live    atomic.Bool // a standby attempt went live
}

// crash ends the attempt with err (the first call wins) and stops dispatch
// at once, so that the events not yet handed to the worker are replayed
// after the resume.
func (a *attempt) crash(err error) {
	select {
	case a.crashc <- err:
	default:
	}
	a.exec.abandon()
}

// end stops dispatch, then cancels the contexts of the attempt's worker
// incarnations (the running one and one being launched).
func (a *attempt) end() {
	a.exec.abandon()
	c := a.c
	for _, inc := range []*incarnation{c.view.Load().launching, c.fwd.cur.Load()} {
		if inc != nil && inc.att == a {
			inc.cancel()
		}
	}
	if c.hooks.ended != nil {
		c.hooks.ended(a.no)
	}
}

// ev returns an event of the attempt with no shard.
func (a *attempt) ev(kind EventKind) Event {
	return Event{Kind: kind, Shard: -1, Attempt: a.no, Standby: a.standby && !a.live.Load()}
}

// run is the supervisor's Runner: one attempt of the cluster. It takes
// the attempt's start from the cluster's state, reports the start, runs
// the attempt and reports how it ended.
func (c *Cluster) run(ctx context.Context) (err error) {
	if c.hooks.runStart != nil {
		c.hooks.runStart()
	}
	reply := make(chan begun, 1)
	b := ask(c, beginCmd{reply: reply}, reply)
	a := &attempt{c: c, no: b.no, ctx: ctx, crashc: make(chan error, 1), stop: make(chan struct{}),
		standby: b.standby}
	a.log = c.log.With(slog.Int("attempt", a.no))
	defer func() { err = a.exit(recover(), err) }()
	a.emitStart(b)
	return a.run(b.saved)
}

// emitStart reports the attempt's start: spawned for the first, restarted
// (with the kind it actually does) for the others.
func (a *attempt) emitStart(b begun) {
	if a.no == 1 {
		a.c.emit(a.ev(cluster.EventSpawned))
		return
	}
	e := a.ev(cluster.EventRestarted)
	e.Restart = b.kind
	if b.kind == 0 {
		e.Restart = cluster.RestartResume // after a crash
	}
	if b.saved == nil && e.Restart == cluster.RestartResume {
		e.Restart = cluster.RestartFull // nothing to resume from
	}
	a.c.emit(e)
}

// exit turns the runner's end (a recovered panic p, or its error) into
// what the supervisor gets, reports a crash, and hands the restarts that
// waited for this attempt to be ready, and did not see it, to the next.
func (a *attempt) exit(p any, err error) error {
	if p != nil {
		err = &PanicError{Value: p, Stack: debug.Stack()}
	}
	if err != nil && a.ctx.Err() != nil && !crashedAnyway(err) {
		// Cancelled on purpose (a restart or the end of Serve): the
		// supervisor does not count it as a crash, nor do we.
		a.log.Debug("cancelled attempt returned", slog.String("err", err.Error()))
		err = nil
	}
	if err != nil {
		e := a.ev(cluster.EventCrashed)
		e.Err, e.Restart = err, cluster.RestartResume
		if errors.Is(err, supervisor.ErrNoRestart) || IsFatal(err) {
			e.Restart = 0 // no restart follows
		}
		errors.As(err, &e.Panic)
		a.c.emit(e)
	}
	reply := make(chan struct{}, 1)
	ask(a.c, exitCmd{reply: reply}, reply)
	return err
}

// crashedAnyway reports whether err, returned by an attempt whose context
// was cancelled, is still a crash to report: a panic, or an error that is
// not the cancellation's own. The supervisor does not count it (the attempt
// was ending anyway), but the cluster's events must not lose it.
func crashedAnyway(err error) bool {
	var pe *PanicError
	if errors.As(err, &pe) {
		return true
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// run builds everything, launches the worker, opens the shards, waits
// until ready, and then until the end; once it has built the client it
// always tears down before returning.
func (a *attempt) run(saved *savedSession) error {
	if err := a.build(saved); err != nil {
		return err
	}
	a.startExecutor()
	// When the attempt's context ends, dispatch stops first and only then
	// do the workers' contexts end, so a listener that returns on its
	// context leaves the events behind it queued (to be replayed on resume)
	// instead of racing through them.
	stopAF := context.AfterFunc(a.ctx, a.end)
	defer stopAF()
	if !a.standby {
		if err := a.launchFirst(); err != nil {
			return a.teardown(err)
		}
	}
	opened := a.openShards()
	a.startWatchdog()
	return a.teardown(a.serve(opened))
}

// build makes the attempt's executor, readiness, shards and disgo client
// (resuming saved's sessions and cache, if any) and makes the attempt the
// cluster's running one.
func (a *attempt) build(saved *savedSession) error {
	c := a.c
	var states map[int]shard.State
	if saved != nil {
		states = saved.states
	}
	a.exec = newExecutor(c.cfg.dispatchBuffer, c.cfg.dispatchBytes, c.shardIDs, states)
	a.exec.handlerTime = c.cfg.handlerTime
	a.ready = newReadiness(c.shardIDs)
	a.shards = shardset.New(c.token, c.shardIDs, c.shardCount, a.managerOptions(states)...)
	client, err := disgo.New(c.token, a.clientOptions(saved)...)
	if err != nil {
		a.shards.CloseWithCode(context.Background(), 1000, "unused")
		// disgo's error may quote part of the token; never pass it on.
		return supervisor.NoRestart(cluster.ErrBadToken)
	}
	a.client = client
	client.AddEventListeners(&c.fwd)
	a.exec.handle = func(it item) {
		client.EventManager.HandleGatewayEvent(it.g, it.t, it.seq, it.ev)
		a.ready.observe(it.g.ShardID(), it.t, it.ev) // after: the cache has it
	}
	a.exec.swap = a.swapWorker
	a.exec.onPanic = func(r any, stack []byte) { a.crash(&PanicError{Value: r, Stack: stack}) }
	a.setupMaintenance()
	reply := make(chan struct{}, 1)
	ask(c, builtCmd{a: a, reply: reply}, reply)
	return nil
}

// clientOptions returns the options of the attempt's disgo client: the
// user's, then the attempt's shards, the shared REST client, and the cache
// (saved's on a resume).
func (a *attempt) clientOptions(saved *savedSession) []bot.ConfigOpt {
	c := a.c
	opts := append([]bot.ConfigOpt{bot.WithLogger(a.log)}, c.cfg.clientOpts...)
	opts = append(opts, bot.WithShardManager(a.shards), bot.WithRestClient(c.rest))
	if saved != nil && saved.caches != nil {
		opts = append(opts, bot.WithCaches(saved.caches))
	} else if c.cfg.caches != nil {
		opts = append(opts, bot.WithCaches(c.cfg.caches()))
	}
	return opts
}

// startExecutor starts the executor goroutine.
func (a *attempt) startExecutor() {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.exec.run()
	}()
}

// launchFirst launches the attempt's first worker incarnation.
func (a *attempt) launchFirst() error {
	inc := newIncarnation(a.ctx, a, a.c.factory())
	if err := a.launch(inc); err != nil {
		return err
	}
	a.c.fwd.cur.Store(inc)
	return nil
}

// openShards opens the attempt's shards on a goroutine of their own; the
// channel gets the result (see openAll).
func (a *attempt) openShards() <-chan error {
	opened := make(chan error, 1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		opened <- a.openAll()
	}()
	return opened
}

// startWatchdog starts the watchdog goroutine, if it is enabled.
func (a *attempt) startWatchdog() {
	if a.c.cfg.watchdog <= 0 {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.watchdog()
	}()
}

// progress is how far serve has brought the attempt.
type progress struct {
	opened    bool // every shard has opened
	marked    bool // every shard is ready, and so the attempt
	activated bool // a standby attempt was told to go live
}

// serve waits for the shards to open and the attempt to be ready, then
// runs until the attempt's context ends (nil) or it crashes (the crash).
// It returns the cause of the end, for teardown.
func (a *attempt) serve(opened <-chan error) error {
	readyTimer := time.NewTimer(time.Hour)
	readyTimer.Stop()
	defer readyTimer.Stop()
	var p progress
	for {
		var timer <-chan time.Time
		var changed <-chan struct{} // the readiness's next change, while not marked
		if p.opened && !p.marked {
			var err error
			if changed, timer, err = a.checkReady(&p, readyTimer); err != nil {
				return err
			}
		}
		var activate <-chan struct{}
		if a.standby && p.marked && !p.activated {
			activate = a.c.activate
		}
		select {
		case <-activate:
			p.activated = true
			if err := a.goLive(); err != nil {
				return err
			}
		case <-a.ctx.Done():
			return nil
		case err := <-a.crashc:
			return err
		case err := <-opened:
			if err != nil {
				return a.openFailed(err)
			}
			p.opened = true
		case <-changed:
		case <-timer:
		}
	}
}

// checkReady checks the readiness of the opened shards. Once every shard
// is ready it makes the attempt ready (an error ends the attempt); until
// then it returns the readiness's next change and, if a shard can time
// out, readyTimer's channel, set for the earliest such timeout.
func (a *attempt) checkReady(p *progress, readyTimer *time.Timer) (changed <-chan struct{}, timer <-chan time.Time, err error) {
	c := a.c
	all, next, late, ch := a.ready.check(time.Now(), c.cfg.readyTimeout)
	if len(late) > 0 {
		a.log.Warn("guilds still unavailable after the ready timeout; counting the shards ready",
			slog.Any("shards", late), slog.Duration("timeout", c.cfg.readyTimeout))
	}
	if all {
		p.marked = true
		return nil, nil, a.becomeReady()
	}
	if !next.IsZero() {
		readyTimer.Reset(time.Until(next))
		timer = readyTimer.C
	}
	return ch, timer, nil
}

// becomeReady makes the attempt ready: its mailbox attached (unless in
// standby), healthy for the supervisor, the cluster ready and, unless in
// standby, live; then the restarts that waited for it return.
func (a *attempt) becomeReady() error {
	c := a.c
	if !a.standby {
		if err := a.attachMailbox(); err != nil {
			return err
		}
	}
	supervise.MarkHealthy(a.ctx)
	c.setReady(true)
	c.emit(a.ev(cluster.EventReady))
	if !a.standby {
		c.markLive()
	}
	reply := make(chan struct{}, 1)
	ask(c, readyWaitersCmd{reply: reply}, reply)
	return nil
}

// openFailed is the cause of the end when the shards failed to open: none
// if the attempt's context has ended (a restart or a stop got in the way),
// else the failure, fatal if the shard's error is.
func (a *attempt) openFailed(err error) error {
	if a.ctx.Err() != nil {
		return nil
	}
	var se *ShardError
	if errors.As(err, &se) {
		se.Cluster = a.c.id
	}
	if IsFatal(err) {
		err = supervisor.NoRestart(err)
	}
	return err
}

// launch runs a worker's Launch with panic recovery, and gives up on it
// after the ready timeout (cluster.ErrLaunchTimeout): the incarnation's context
// ends and its goroutine is left to return by itself.
func (a *attempt) launch(inc *incarnation) (err error) {
	c := a.c
	if c.hooks.launchStart != nil {
		c.hooks.launchStart(a.no)
	}
	c.setLaunching(inc)
	if a.ctx.Err() != nil {
		// The attempt ended before inc was recorded as launching, so its
		// end found nothing to cancel; dispatch has stopped already.
		inc.cancel()
	}
	defer func() {
		c.setLaunching(nil)
		if err != nil {
			inc.dead.Store(true)
			inc.cancel()
			err = fmt.Errorf("cluster %d: launch: %w", c.id, err)
		}
	}()
	done := make(chan error, 1) // the Launch goroutine never blocks on it
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- &PanicError{Value: r, Stack: debug.Stack()}
			}
		}()
		done <- inc.worker.Launch(inc.ctx, c.face)
	}()
	var expired <-chan time.Time
	if d := c.cfg.readyTimeout; d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case err := <-done:
		return err
	case <-expired:
		return fmt.Errorf("%w (%v)", cluster.ErrLaunchTimeout, c.cfg.readyTimeout)
	}
}

// shutdown runs an incarnation's Shutdown (once) with the shutdown timeout
// and cancels its context.
func (a *attempt) shutdown(inc *incarnation) {
	inc.shutOnce.Do(func() {
		inc.dead.Store(true)
		defer inc.cancel()
		s, ok := inc.worker.(Shutdowner)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), a.c.cfg.shutdownTimeout)
		defer cancel()
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = &PanicError{Value: r, Stack: debug.Stack()}
				}
			}()
			return s.Shutdown(ctx)
		}()
		if err != nil {
			e := a.ev(cluster.EventError)
			e.Err = fmt.Errorf("cluster %d: worker shutdown: %w", a.c.id, err)
			a.c.emit(e)
		}
	})
}

// swapWorker is a worker-only reload. It runs on the executor goroutine,
// so no event is handed to any worker while it runs: they wait in the
// queues and go to the new worker afterwards.
func (a *attempt) swapWorker() error {
	c := a.c
	c.setReloading(true)
	c.setReady(false)
	defer c.setReloading(false)
	if old := c.fwd.cur.Load(); old != nil {
		a.shutdown(old)
	}
	inc := newIncarnation(a.ctx, a, c.factory())
	if err := a.launch(inc); err != nil {
		a.crash(err)
		return err
	}
	c.fwd.cur.Store(inc)
	e := a.ev(cluster.EventRestarted)
	e.Restart = cluster.RestartWorker
	c.emit(e)
	c.setReady(true)
	c.emit(a.ev(cluster.EventReady))
	return nil
}
