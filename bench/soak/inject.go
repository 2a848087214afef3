package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
)

// outcome is one fault as it was injected: the call that injected it ran
// from Start to End and returned Err.
type outcome struct {
	fault
	Start, End time.Time
	Err        error
}

// injector injects a plan of faults into the fake Discord and the bot.
// Each fault runs on its own goroutine at its time, so a blocking one (a
// restart waits until the cluster is ready again) delays no other.
type injector struct {
	fake      *discordtest.Server
	m         *megane.Manager
	arms      *arms
	book      *panicBook
	log       *slog.Logger
	opTimeout time.Duration // bounds each blocking call

	wg       sync.WaitGroup
	mu       sync.Mutex
	outcomes []outcome
}

// run injects faults at start+f.At until they are all started or ctx ends
// (the soak's duration). Faults already started go on; wait waits for
// them.
func (in *injector) run(ctx context.Context, faults []fault, start time.Time) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, f := range faults {
		timer.Reset(time.Until(start.Add(f.At)))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		in.wg.Go(func() { in.apply(f) })
	}
}

// wait waits for the faults in flight, at most d; it reports whether they
// all returned.
func (in *injector) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.wg.Wait()
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// results returns the outcomes so far, in the order the calls returned.
func (in *injector) results() []outcome {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]outcome(nil), in.outcomes...)
}

// apply injects one fault and records its outcome.
func (in *injector) apply(f fault) {
	ctx, cancel := context.WithTimeout(context.Background(), in.opTimeout)
	defer cancel()
	start := time.Now()
	err := in.inject(ctx, f)
	o := outcome{fault: f, Start: start, End: time.Now(), Err: err}
	in.mu.Lock()
	in.outcomes = append(in.outcomes, o)
	in.mu.Unlock()
	attrs := []any{slog.String("fault", f.String()), slog.Duration("took", o.End.Sub(o.Start).Round(time.Millisecond))}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	in.log.Debug("fault injected", attrs...)
}

// restartKinds maps the restart faults to their restart kind.
var restartKinds = map[kind]cluster.RestartKind{
	kindRestartFull: cluster.RestartFull, kindRestartResume: cluster.RestartResume, kindRestartWorker: cluster.RestartWorker,
	kindRollingFull: cluster.RestartFull, kindRollingResume: cluster.RestartResume, kindRollingWorker: cluster.RestartWorker,
}

// inject performs one fault. A nil error means it took effect, except for
// the panic kinds, whose effect the panic book counts (they return the
// error the caller saw, if any).
func (in *injector) inject(ctx context.Context, f fault) error {
	ki, _ := info(f.Kind)
	fake, sh := in.fake, f.Shard
	switch f.Kind {
	case kindReconnect:
		return fake.Reconnect(sh)
	case kindInvalidResume, kindInvalidFresh:
		return fake.InvalidSession(sh, f.Kind == kindInvalidResume)
	case kindClose4000, kindClose4001, kindClose4002, kindClose4005, kindClose4008,
		kindClose1006, kindClose1011, kindClose4003, kindClose4007, kindClose4009:
		return fake.CloseShard(sh, ki.code)
	case kindDrop:
		return fake.DropShard(sh)
	case kindZombie:
		return fake.WithholdAcks(sh, true)
	case kindMalformed:
		return fake.SendMalformed(sh)
	case kindDMGuild:
		return fake.SendDMGuildCreate(sh)
	case kindLatencyOn:
		fake.SetClientLatency(f.Param)
		return nil
	case kindLatencyOff:
		fake.SetClientLatency(0)
		return nil
	case kindListenerPanic:
		in.arms.armListener(f.Cluster)
		return nil
	case kindSlowHandler:
		in.arms.armSlow(f.Cluster, f.Param)
		return nil
	case kindMaintenance:
		return in.maintenance(ctx, f)
	case kindLaunchPanic:
		// A worker-only reload launches a new worker at once.
		in.arms.armLaunch(f.Cluster)
		return in.m.Restart(ctx, f.Cluster, cluster.RestartWorker)
	case kindEvalPanic, kindEvalFuncPanic, kindCommandPanic:
		return in.busPanic(ctx, f)
	case kindRestartFull, kindRestartResume, kindRestartWorker:
		return in.m.Restart(ctx, f.Cluster, restartKinds[f.Kind])
	case kindRollingFull, kindRollingResume, kindRollingWorker:
		return in.m.RollingRestart(ctx, restartKinds[f.Kind])
	case kindServiceError, kindServicePanic:
		id := in.book.newID(f.Kind)
		_, err := bus.Request[string](ctx, in.m.Bus(), bus.Manager(), bus.Service(serviceName), topicCrash,
			crashOrder{ID: id, Panic: f.Kind == kindServicePanic})
		return err
	}
	return errors.New("soak: no injection for " + string(f.Kind))
}

// maintenance puts a cluster in maintenance mode for f.Param, then takes
// it out: the events it holds meanwhile must all be delivered after, in
// order, so the ledger shows nothing lost.
func (in *injector) maintenance(ctx context.Context, f fault) error {
	if err := in.m.SetMaintenance(ctx, true, f.Cluster); err != nil {
		return err
	}
	hold := time.NewTimer(f.Param)
	select {
	case <-hold.C:
	case <-ctx.Done():
		hold.Stop()
	}
	return in.m.SetMaintenance(context.WithoutCancel(ctx), false, f.Cluster)
}

// busPanic sends a cluster an eval, a named eval or a command that panics,
// and records whether the caller was told (an error matching
// bus.ErrHandlerPanic). It returns the error the caller saw.
func (in *injector) busPanic(ctx context.Context, f fault) error {
	b, to := in.m.Bus(), bus.Cluster(f.Cluster)
	id := in.book.newID(f.Kind)
	var err error
	switch f.Kind {
	case kindEvalPanic:
		var res []bus.Result[int]
		res, err = bus.Eval(ctx, b, bus.Manager(), to, func(context.Context, *cluster.Cluster) (int, error) {
			panic(in.book.fire(id))
		})
		err = firstErr(res, err)
	case kindEvalFuncPanic:
		var res []bus.Result[int]
		res, err = bus.EvalFunc[int, int](ctx, b, bus.Manager(), to, funcPanic, id)
		err = firstErr(res, err)
	default:
		_, err = bus.Request[string](ctx, b, bus.Manager(), to, topicPanic, id)
	}
	if errors.Is(err, bus.ErrHandlerPanic) {
		in.book.reportedToCaller(id)
	}
	return err
}

// firstErr is the error of a one-target eval: err, or its result's.
func firstErr[T any](res []bus.Result[T], err error) error {
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	if len(res) == 0 {
		return bus.ErrNoTarget
	}
	return nil
}

// registerPanicFunc registers the named eval function that panics with the
// injection ID it is given.
func registerPanicFunc(b *bus.Bus, book *panicBook) error {
	return bus.RegisterFunc(b, funcPanic, func(_ context.Context, _ *cluster.Cluster, id int) (int, error) {
		panic(book.fire(id))
	})
}
