package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/shardplan"
	"github.com/megane-go/megane/shard"
)

// PlanFunc plans the shard set a re-shard moves to.
type PlanFunc func(ctx context.Context) (shardplan.Plan, error)

// Reshard moves the bot to the plan that plan returns; see megane's
// Manager.Reshard for the contract. A plan with the active count does
// nothing. It fails with ErrReshardInProgress while another re-shard runs
// and ErrNotRunning outside Run.
func (f *Fleet) Reshard(ctx context.Context, plan PlanFunc) error {
	r := make(chan beginReply, 1)
	b, ok := ask(f, beginCmd{reply: r}, r)
	if !ok {
		return ErrNotRunning
	}
	if b.err != nil {
		return b.err
	}
	defer f.send(endCmd{})
	p, err := plan(ctx)
	if err != nil {
		return f.cfg.ReshardError(b.old.plan.Count, 0, err)
	}
	if p.Count == b.old.plan.Count {
		return nil
	}
	return f.reshard(ctx, b.old, p)
}

// Recommended plans the shards as GET /gateway/bot now recommends
// (Config.Recommended).
func (f *Fleet) Recommended(ctx context.Context) (shardplan.Plan, error) {
	return f.cfg.Recommended(ctx)
}

// reshardAfter4011 answers a close 4011 (sharding required) of set failed:
// a re-shard to the recommended count, or to twice the current one when
// the recommendation is not higher. The owner has taken the fleet for it.
// It returns nil when it worked or Run is stopping, and else the error
// that ends Run.
func (f *Fleet) reshardAfter4011(ctx context.Context, failed *generation, cause error) error {
	defer f.send(endCmd{})
	plan, err := f.cfg.Recommended(ctx)
	if err == nil && plan.Count <= failed.plan.Count {
		plan, err = f.cfg.Doubled(failed.plan.Count)
	}
	if err == nil {
		err = f.reshard(ctx, failed, plan)
	} else {
		err = f.cfg.ReshardError(failed.plan.Count, 0, err)
	}
	if err == nil || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("megane: answering close 4011: %w", errors.Join(cause, err))
}

// CheckReshard runs one re-shard check now, as the ReshardCheck ticker
// does, and returns once it is done. It does nothing while another
// re-shard runs or outside Run.
func (f *Fleet) CheckReshard(ctx context.Context) error {
	r := make(chan beginReply, 1)
	b, ok := ask(f, beginCmd{reply: r}, r)
	if !ok || b.err != nil {
		return nil
	}
	return f.checkReshard(ctx, b.old, b.checkFailed)
}

// checkReshard re-shards when GET /gateway/bot recommends more shards than
// old runs, unless that count failed last time. The owner has taken the
// fleet for it. Its failures are logged, never fatal.
func (f *Fleet) checkReshard(ctx context.Context, old *generation, checkFailed int) error {
	failedCount := 0
	defer func() { f.send(endCmd{failedCount: failedCount}) }()
	plan, err := f.cfg.Recommended(ctx)
	if err != nil {
		if ctx.Err() == nil {
			f.cfg.Log.Warn("re-shard check failed", slog.String("err", err.Error()))
		}
		return nil
	}
	if plan.Count <= old.plan.Count || plan.Count == checkFailed {
		return nil
	}
	f.cfg.Log.Info("GET /gateway/bot recommends more shards; re-sharding",
		slog.Int("shards", old.plan.Count), slog.Int("new_shards", plan.Count))
	if err := f.reshard(ctx, old, plan); err != nil {
		failedCount = plan.Count
	}
	return nil
}

// reshard starts plan's set in standby beside old, waits until it is
// ready, and switches over; if it does not become ready, it is stopped and
// old keeps serving.
func (f *Fleet) reshard(ctx context.Context, old *generation, plan shardplan.Plan) error {
	r := make(chan *generation, 1)
	g, ok := ask(f, newGenCmd{plan: plan, reply: r}, r)
	if !ok || g == nil {
		return f.cfg.ReshardError(old.plan.Count, plan.Count, ErrNotRunning)
	}
	ev := func(kind cluster.EventKind, err error) cluster.Event {
		return cluster.Event{Kind: kind, Cluster: -1, Shard: -1, Generation: g.no, OldShards: old.plan.Count,
			NewShards: plan.Count, Err: err, At: time.Now()}
	}
	f.cfg.Emit(ev(cluster.EventReshardStarted, nil))
	if err := f.awaitStandby(ctx, g); err != nil {
		f.drop(g)
		rerr := f.cfg.ReshardError(old.plan.Count, plan.Count, err)
		f.cfg.Emit(ev(cluster.EventReshardFailed, rerr))
		return rerr
	}
	f.switchOver(old, g)
	f.cfg.Emit(ev(cluster.EventReshardCompleted, nil))
	return nil
}

// drop stops g and forgets it.
func (f *Fleet) drop(g *generation) {
	g.stop()
	f.send(dropCmd{g: g})
}

// awaitStandby waits until every cluster of g is ready in standby.
func (f *Fleet) awaitStandby(ctx context.Context, g *generation) error {
	if f.cfg.ReshardTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.cfg.ReshardTimeout)
		defer cancel()
	}
	for _, c := range g.clusters {
		select {
		case <-c.Ready():
		case <-g.failed:
			return g.err
		case <-g.done:
			select {
			case <-g.failed:
				return g.err
			default:
				return ErrNotRunning
			}
		case <-f.done:
			return ErrNotRunning
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// switchOver hands the bus addresses from old to g, launches g's workers,
// makes g the active set, then stops old and keeps its final counters.
func (f *Fleet) switchOver(old, g *generation) {
	for _, c := range old.clusters {
		c.ReleaseBus()
	}
	for _, c := range g.clusters {
		c.Activate()
	}
	wait := time.NewTimer(f.cfg.ReadyTimeout)
	defer wait.Stop()
	for _, c := range g.clusters {
		select {
		case <-c.Live():
		case <-c.Done():
		case <-f.done:
		case <-wait.C:
			f.cfg.Log.Warn("a cluster of the new shard set is not live yet; stopping the old set anyway",
				slog.Int("cluster", c.ID()), slog.Int("generation", g.no))
		}
	}
	r := make(chan bool, 1)
	if ok, _ := ask(f, switchCmd{old: old, g: g, reply: r}, r); !ok {
		return // Run is stopping; it stops both sets
	}
	f.drop(old)
	final := make([][]shard.Stats, len(old.clusters))
	for i, c := range old.clusters {
		final[i] = c.Stats(context.Background()).Shards // stopped: no attempt, no request
	}
	f.send(retireCmd{clusters: old.clusters, final: final})
	for id := len(g.clusters); id < len(old.clusters); id++ {
		f.cfg.Forget(id) // released by the old set, taken by nobody
	}
}
