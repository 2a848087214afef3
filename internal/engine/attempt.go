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
	// mailbox is the attempt's bus mailbox, attached once the attempt is
	// ready and detached by teardown; only the attempt's goroutine
	// touches the field.
	mailbox *bus.Mailbox
	// standby: the cluster was in standby when the attempt began, so it
	// launches no worker until it goes live (see WithStandby).
	standby bool
	live    atomic.Bool // a standby attempt went live
	// counted: the shards' counters were added to Cluster.past (teardown
	// closed them); guarded by the cluster's mu.
	counted bool
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
	c.mu.Lock()
	launching := c.launching
	c.mu.Unlock()
	for _, inc := range []*incarnation{launching, c.fwd.cur.Load()} {
		if inc != nil && inc.att == a {
			inc.cancel()
		}
	}
}

// ev returns an event of the attempt with no shard.
func (a *attempt) ev(kind EventKind) Event {
	return Event{Kind: kind, Shard: -1, Attempt: a.no, Standby: a.standby && !a.live.Load()}
}

// run is the supervisor's Runner: one attempt of the cluster.
func (c *Cluster) run(ctx context.Context) (err error) {
	if c.hooks.runStart != nil {
		c.hooks.runStart()
	}
	c.mu.Lock()
	c.attempts++
	a := &attempt{c: c, no: c.attempts, ctx: ctx, crashc: make(chan error, 1), stop: make(chan struct{}),
		standby: c.standby.Load()}
	kind, saved := c.startKind, c.saved
	c.startKind, c.saved = 0, nil
	if kind == cluster.RestartFull {
		saved = nil // a full restart discards what a crash may have kept
	}
	waiters := c.waiters
	c.waiters = nil
	c.mu.Unlock()
	a.log = c.log.With(slog.Int("attempt", a.no))

	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
		if err != nil && ctx.Err() != nil && !crashedAnyway(err) {
			// Cancelled on purpose (a restart or the end of Serve): the
			// supervisor does not count it as a crash, nor do we.
			a.log.Debug("cancelled attempt returned", slog.String("err", err.Error()))
			err = nil
		}
		if err != nil {
			e := a.ev(cluster.EventCrashed)
			e.Err, e.Restart = err, cluster.RestartResume
			if errors.Is(err, supervisor.ErrNoRestart) || cluster.IsFatal(err) {
				e.Restart = 0 // no restart follows
			}
			errors.As(err, &e.Panic)
			c.emit(e)
		}
		// Restarts that waited for this attempt to be ready, and did not
		// see it, wait for the next one.
		if len(waiters) > 0 {
			c.mu.Lock()
			c.waiters = append(waiters, c.waiters...)
			c.mu.Unlock()
		}
	}()

	if a.no == 1 {
		c.emit(a.ev(cluster.EventSpawned))
	} else {
		e := a.ev(cluster.EventRestarted)
		e.Restart = kind
		if kind == 0 {
			e.Restart = cluster.RestartResume // after a crash
		}
		if saved == nil && e.Restart == cluster.RestartResume {
			e.Restart = cluster.RestartFull // nothing to resume from
		}
		c.emit(e)
	}
	return a.run(saved, func() {
		for _, w := range waiters {
			close(w.ready)
		}
		waiters = nil
	})
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
// until ready, and then until the end; it always tears down before
// returning.
func (a *attempt) run(saved *savedSession, onReady func()) error {
	c := a.c
	start := map[int]int{}
	var states map[int]shard.State
	if saved != nil {
		states = saved.states
		for id, st := range states {
			start[id] = st.Seq
		}
	}
	a.exec = newExecutor(c.cfg.dispatchBuffer, c.cfg.dispatchBytes, c.shardIDs, start)
	a.ready = newReadiness(c.shardIDs)
	a.shards = shardset.New(c.token, c.shardIDs, c.shardCount, a.managerOptions(states)...)

	opts := append([]bot.ConfigOpt{bot.WithLogger(a.log)}, c.cfg.clientOpts...)
	opts = append(opts, bot.WithShardManager(a.shards), bot.WithRestClient(c.rest))
	if saved != nil && saved.caches != nil {
		opts = append(opts, bot.WithCaches(saved.caches))
	} else if c.cfg.caches != nil {
		opts = append(opts, bot.WithCaches(c.cfg.caches()))
	}
	client, err := disgo.New(c.token, opts...)
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

	c.mu.Lock()
	c.att = a
	c.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.exec.run()
	}()

	// When the attempt's context ends, dispatch stops first and only then
	// do the workers' contexts end, so a listener that returns on its
	// context leaves the events behind it queued (to be replayed on resume)
	// instead of racing through them.
	stopAF := context.AfterFunc(a.ctx, a.end)
	defer stopAF()

	if !a.standby {
		inc := newIncarnation(a.ctx, a, c.factory())
		if err := a.launch(inc); err != nil {
			return a.teardown(&wg, err)
		}
		c.fwd.cur.Store(inc)
	}

	openErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		openErr <- a.openShards()
	}()
	if c.cfg.watchdog > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.watchdog()
		}()
	}

	readyTimer := time.NewTimer(time.Hour)
	readyTimer.Stop()
	defer readyTimer.Stop()
	opened, marked, activated := false, false, false
	for {
		var timer <-chan time.Time
		var changed <-chan struct{} // the readiness's next change, while not marked
		if opened && !marked {
			all, next, late, ch := a.ready.check(time.Now(), c.cfg.readyTimeout)
			changed = ch
			if len(late) > 0 {
				a.log.Warn("guilds still unavailable after the ready timeout; counting the shards ready",
					slog.Any("shards", late), slog.Duration("timeout", c.cfg.readyTimeout))
			}
			if all {
				marked = true
				if !a.standby {
					if err := a.attachMailbox(&wg); err != nil {
						return a.teardown(&wg, err)
					}
				}
				supervise.MarkHealthy(a.ctx)
				c.setReady(true)
				c.emit(a.ev(cluster.EventReady))
				if !a.standby {
					c.markLive()
				}
				onReady()
			} else if !next.IsZero() {
				readyTimer.Reset(time.Until(next))
				timer = readyTimer.C
			}
		}
		var activate <-chan struct{}
		if a.standby && marked && !activated {
			activate = c.activate
		}
		select {
		case <-activate:
			activated = true
			if err := a.goLive(&wg); err != nil {
				return a.teardown(&wg, err)
			}
		case <-a.ctx.Done():
			return a.teardown(&wg, nil)
		case err := <-a.crashc:
			return a.teardown(&wg, err)
		case err := <-openErr:
			if err != nil {
				if a.ctx.Err() != nil {
					return a.teardown(&wg, nil)
				}
				var se *ShardError
				if errors.As(err, &se) {
					se.Cluster = c.id
				}
				if cluster.IsFatal(err) {
					err = supervisor.NoRestart(err)
				}
				return a.teardown(&wg, err)
			}
			opened = true
		case <-changed:
		case <-timer:
		}
	}
}

// launch runs a worker's Launch with panic recovery, and gives up on it
// after the ready timeout (cluster.ErrLaunchTimeout): the incarnation's context
// ends and its goroutine is left to return by itself.
func (a *attempt) launch(inc *incarnation) (err error) {
	c := a.c
	c.mu.Lock()
	c.launching = inc
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.launching = nil
		c.mu.Unlock()
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
	c.mu.Lock()
	c.reloading = true
	c.mu.Unlock()
	c.setReady(false)
	defer func() {
		c.mu.Lock()
		c.reloading = false
		c.mu.Unlock()
	}()
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

// teardown ends the attempt. How depends on why:
//   - a restart with cluster.RestartFull, a fatal error, or the end of Serve's
//     context: shards close with 1000 and nothing is kept;
//   - a restart with cluster.RestartResume, or a crash: shards close with 4000 and
//     their sessions (at the last event handed to the worker) and the cache
//     are kept for the next attempt.
//
// It returns cause.
func (a *attempt) teardown(wg *sync.WaitGroup, cause error) error {
	c := a.c
	c.setReady(false)
	c.mu.Lock()
	ending, stopping := c.endKind, c.serveCtx.Err() != nil
	c.endKind = 0
	c.mu.Unlock()
	resume := false
	switch {
	case cause != nil:
		resume = !errors.Is(cause, supervisor.ErrNoRestart) && !cluster.IsFatal(cause)
	case stopping:
		// Serve's context ended: the cluster stops and its sessions end.
	case a.ctx.Err() != nil:
		// A restart cancelled the attempt: only a full one ends the sessions.
		resume = ending != cluster.RestartFull
	}

	close(a.stop)
	c.mu.Lock()
	if c.mailbox == a.mailbox {
		c.mailbox = nil
	}
	c.mu.Unlock()
	if a.mailbox != nil {
		// Requests fail fast with bus.ErrTargetStopped from now on; the
		// mailbox goroutine returns after its current handler.
		a.mailbox.Detach()
	}
	a.exec.abandon()
	code, reason := 1000, "shutting down"
	if resume {
		code, reason = 4000, "restarting"
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), c.cfg.drainTimeout)
	a.shards.CloseWithCode(closeCtx, code, reason)
	cancel()
	final := a.shards.Stats()
	c.mu.Lock()
	for _, st := range final {
		c.past[st.ShardID] = st.Add(c.past[st.ShardID])
	}
	a.counted = true
	c.mu.Unlock()

	var saved *savedSession
	if resume {
		saved = &savedSession{states: a.shards.States(), caches: a.client.Caches}
		for id, st := range saved.states {
			if d := a.exec.delivered[id]; d != nil && st.SessionID != "" && int(d.Load()) < st.Seq {
				st.Seq = int(d.Load())
				saved.states[id] = st
			}
		}
	}

	// Stop the workers: cancel their contexts so listeners that watch them
	// return, wait for the executor (bounded), then Shutdown.
	a.end()
	inc := c.fwd.cur.Load()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		wg.Wait()
	}()
	timer := time.NewTimer(c.cfg.drainTimeout)
	select {
	case <-drained:
		timer.Stop()
	case <-timer.C:
		a.log.Error("a listener did not return within the drain timeout; abandoning its goroutine",
			slog.Duration("timeout", c.cfg.drainTimeout))
	}
	if inc != nil && inc.att == a {
		a.shutdown(inc)
		c.fwd.cur.CompareAndSwap(inc, nil)
	}
	// The REST client is shared and stays open; only voice belongs to the
	// attempt's client.
	closeCtx, cancel = context.WithTimeout(context.Background(), c.cfg.shutdownTimeout)
	if a.client.VoiceManager != nil {
		a.client.VoiceManager.Close(closeCtx)
	}
	cancel()

	c.mu.Lock()
	c.att = nil
	c.saved = saved
	c.mu.Unlock()
	return cause
}
