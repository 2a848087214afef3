package megane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
)

// Errors of re-sharding.
var (
	// ErrReshardInProgress is returned by Reshard while another re-shard
	// runs, and by Restart, RestartAll and RollingRestart during one: the
	// clusters they name are about to be replaced. Retry once the
	// ReshardCompleted or ReshardFailed event has come.
	ErrReshardInProgress = errors.New("megane: re-shard in progress")
	// ErrReshardFailed is matched by every *ReshardError.
	ErrReshardFailed = errors.New("megane: re-shard failed")
	// ErrInvalidShardCount is returned by Reshard for a negative count.
	ErrInvalidShardCount = errors.New("megane: invalid shard count")
)

// ReshardError says that a re-shard from OldShards to NewShards shards did
// not complete: the new shard set failed to become ready (Err: a fatal
// error of one of its clusters, the context's error, or
// context.DeadlineExceeded after WithReshardTimeout), or GET /gateway/bot
// failed (NewShards is then 0). The new set, if any, was stopped and the
// old one keeps serving. It matches ErrReshardFailed and Err.
type ReshardError struct {
	OldShards, NewShards int
	Err                  error
}

// Error implements error.
func (e *ReshardError) Error() string {
	return fmt.Sprintf("megane: re-shard from %d to %d shards: %v", e.OldShards, e.NewShards, e.Err)
}

// Unwrap returns ErrReshardFailed and the cause.
func (e *ReshardError) Unwrap() []error { return []error{ErrReshardFailed, e.Err} }

// Reshard moves the bot to newCount shards without stopping it, or, with
// newCount 0 (AutoShards), to the count GET /gateway/bot recommends, scaled
// by WithGuildsPerShard and rounded up by WithShardMultiple. It returns nil
// at once when the count would not change.
//
// It starts the new shard set beside the old one, in standby: its shards
// identify through the process's one identify queue and fill their caches,
// but no worker runs and nothing of it is on the bus, while the old set
// keeps serving every event. Once every new cluster is ready, the switch
// is made: the new workers are launched (see cluster.Worker) and their
// clusters take over the bus addresses, the Manager's cluster table, its
// shard count and guild routing (ClusterOf, bus.GuildOwner), its stats and
// its events follow the new set, and then the old set is stopped (its
// sessions closed with 1000). The cluster count is planned as at start
// (WithClusters).
//
// No event is lost: the old set delivers until the new one is live. An
// event may be delivered twice, once by each set, between the activation
// of the new set and the end of the old one; make handlers that matter
// idempotent. During the switch a request to a cluster's bus address can
// fail with bus.ErrTargetStopped, as during a restart.
//
// If the new set does not become ready (ctx ends, WithReshardTimeout
// passes, or one of its clusters fails fatally), it is stopped, the old
// set keeps serving, a ReshardFailed event is sent and a *ReshardError is
// returned. Events ReshardStarted and ReshardCompleted frame a successful
// re-shard.
//
// One re-shard runs at a time: a second call gets ErrReshardInProgress,
// and so do Restart, RestartAll and RollingRestart until it ends (a
// cluster's own supervisor still restarts it after a crash). Reshard
// fails with ErrNotRunning unless Run is running. Safe for concurrent use;
// it must not be called from a worker's listener (it waits for clusters
// whose dispatch that listener may hold).
func (m *Manager) Reshard(ctx context.Context, newCount int) error {
	if newCount < 0 {
		return fmt.Errorf("%w: %d", ErrInvalidShardCount, newCount)
	}
	select {
	case m.reshardSem <- struct{}{}:
	default:
		return ErrReshardInProgress
	}
	defer func() { <-m.reshardSem }()
	rt, old, err := m.current()
	if err != nil {
		return err
	}
	var plan shard.Plan
	if newCount == 0 {
		plan, err = m.recommendedPlan(ctx, rt)
	} else {
		plan, err = m.planOf(shard.WithShardCount(newCount))
	}
	if err != nil {
		return &ReshardError{OldShards: old.plan.Count, Err: err}
	}
	if plan.Count == old.plan.Count {
		return nil
	}
	return m.reshard(ctx, rt, old, plan)
}

// resharding reports whether a re-shard runs.
func (m *Manager) resharding() bool { return len(m.reshardSem) > 0 }

// current returns Run's state and the active shard set, or ErrNotRunning.
func (m *Manager) current() (*runState, *generation, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.rt == nil || m.rt.stopping || m.active == nil {
		return nil, nil, ErrNotRunning
	}
	return m.rt, m.active, nil
}

// autoPlanOptions are the plan options of an automatic shard count.
func (m *Manager) autoPlanOptions(recommended int) []shard.PlanOption {
	opts := []shard.PlanOption{shard.WithRecommended(recommended)}
	if m.cfg.guildsPerShard > 0 {
		opts = append(opts, shard.WithGuildsPerShard(m.cfg.guildsPerShard))
	}
	if m.cfg.shardMultiple > 1 {
		opts = append(opts, shard.WithMultipleOf(m.cfg.shardMultiple))
	}
	return opts
}

// planOf plans a shard set with the Manager's cluster options.
func (m *Manager) planOf(opts ...shard.PlanOption) (shard.Plan, error) {
	plan, err := shard.NewPlan(append(opts, shard.WithClusters(m.cfg.clusters))...)
	if err != nil {
		return shard.Plan{}, fmt.Errorf("megane: plan shards: %w", err)
	}
	return plan, nil
}

// recommendedPlan plans the count GET /gateway/bot recommends now, and
// refreshes the identify queue's limits from the same answer.
func (m *Manager) recommendedPlan(ctx context.Context, rt *runState) (shard.Plan, error) {
	gb, err := m.gatewayBot(ctx, rt.rest)
	if err != nil {
		return shard.Plan{}, err
	}
	m.applyLimit(rt, gb)
	return m.planOf(m.autoPlanOptions(gb.Shards)...)
}

// reshardAfter4011 answers a close 4011 of the active set failed: it
// re-shards to the recommended count, or to twice the current count when
// the recommendation is not above it (4011 says the current count is too
// low). It waits for a re-shard that runs already, and does nothing if
// that one replaced failed. Its error (fatal for Run) matches both cause
// and ErrReshardFailed; it is nil when ctx ended.
func (m *Manager) reshardAfter4011(ctx context.Context, failed *generation, cause error) error {
	select {
	case m.reshardSem <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	defer func() { <-m.reshardSem }()
	rt, old, err := m.current()
	if err != nil || old != failed {
		return nil // stopping, or already replaced
	}
	plan, err := m.recommendedPlan(ctx, rt)
	if err == nil && plan.Count <= old.plan.Count {
		opts := []shard.PlanOption{shard.WithShardCount(2 * old.plan.Count)}
		if m.cfg.shardMultiple > 1 {
			opts = append(opts, shard.WithMultipleOf(m.cfg.shardMultiple))
		}
		plan, err = m.planOf(opts...)
	}
	if err == nil {
		err = m.reshard(ctx, rt, old, plan)
	} else {
		err = &ReshardError{OldShards: old.plan.Count, Err: err}
	}
	if err == nil || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("megane: answering close 4011: %w", errors.Join(cause, err))
}

// checkReshard is one WithReshardCheck: re-shard when the recommendation
// is above the current count. It never returns an error: a failure is
// logged (and a failed re-shard sent as an event), and the old set keeps
// serving; a count whose re-shard failed is not tried again by the check
// until the recommendation changes.
func (m *Manager) checkReshard(ctx context.Context) error {
	select {
	case m.reshardSem <- struct{}{}:
	default:
		return nil // a re-shard runs; check again next time
	}
	defer func() { <-m.reshardSem }()
	rt, old, err := m.current()
	if err != nil {
		return nil
	}
	plan, err := m.recommendedPlan(ctx, rt)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("re-shard check failed", slog.String("err", err.Error()))
		}
		return nil
	}
	if plan.Count <= old.plan.Count || plan.Count == m.checkFailed {
		return nil
	}
	m.log.Info("GET /gateway/bot recommends more shards; re-sharding",
		slog.Int("shards", old.plan.Count), slog.Int("new_shards", plan.Count))
	if err := m.reshard(ctx, rt, old, plan); err != nil {
		// Logged and sent as an event. Every try spends identifies, so
		// the check does not try this count again until the
		// recommendation changes.
		m.checkFailed = plan.Count
	}
	return nil
}

// reshard runs one re-shard from old to plan; the caller holds
// reshardSem.
func (m *Manager) reshard(ctx context.Context, rt *runState, old *generation, plan shard.Plan) error {
	m.mu.Lock()
	m.lastGen++
	no := m.lastGen
	m.mu.Unlock()
	ev := func(kind cluster.EventKind, err error) cluster.Event {
		return cluster.Event{Kind: kind, Cluster: -1, Shard: -1, Generation: no, OldShards: old.plan.Count,
			NewShards: plan.Count, Err: err, At: time.Now()}
	}
	m.emitOwn(ev(cluster.EventReshardStarted, nil))
	g, err := m.startGeneration(rt, plan, no, true)
	if err == nil {
		err = m.awaitStandby(ctx, rt, g)
		if err != nil {
			m.dropGeneration(rt, g)
		}
	}
	if err != nil {
		rerr := &ReshardError{OldShards: old.plan.Count, NewShards: plan.Count, Err: err}
		m.emitOwn(ev(cluster.EventReshardFailed, rerr))
		return rerr
	}
	m.switchOver(rt, old, g)
	m.emitOwn(ev(cluster.EventReshardCompleted, nil))
	return nil
}

// awaitStandby waits until every cluster of the standby set g is ready, or
// fails: a cluster of g failed, ctx or Run ended, or the re-shard timeout
// passed.
func (m *Manager) awaitStandby(ctx context.Context, rt *runState, g *generation) error {
	if m.cfg.reshardTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.reshardTimeout)
		defer cancel()
	}
	for _, c := range g.clusters {
		select {
		case <-c.Ready():
		case <-g.note:
			return g.firstErr()
		case <-g.done:
			if err := g.firstErr(); err != nil {
				return err
			}
			return ErrNotRunning
		case <-rt.ctx.Done():
			return ErrNotRunning
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// switchOver makes the ready standby set g the active one and stops old.
// From here the re-shard is committed: the new workers are launched, the
// bus addresses handed over, the table swapped, and only then is the old
// set stopped, so that some set delivers every event at every moment.
func (m *Manager) switchOver(rt *runState, old, g *generation) {
	for _, c := range old.clusters {
		c.ReleaseBus()
	}
	for _, c := range g.clusters {
		c.Activate()
	}
	// Going live is a Launch and a mailbox attach. A cluster that crashes
	// meanwhile is restarted by its supervisor (live this time); the wait
	// is bounded so that the old set is not kept forever beside it.
	wait := time.NewTimer(m.cfg.readyTimeout)
	defer wait.Stop()
	for _, c := range g.clusters {
		select {
		case <-c.Live():
		case <-c.Done():
		case <-rt.ctx.Done():
		case <-wait.C:
			m.log.Warn("a cluster of the new shard set is not live yet; stopping the old set anyway",
				slog.Int("cluster", c.ID()), slog.Int("generation", g.no))
		}
	}
	m.mu.Lock()
	m.retiring = append(m.retiring, old.clusters...)
	m.mu.Unlock()
	if !m.setActive(rt, g) {
		return // Run is stopping; it stops both sets
	}
	m.readyMu.Lock()
	for _, c := range g.clusters {
		m.readySet[c.ID()] = struct{}{}
	}
	first := !m.allReadySent
	m.allReadySent = true
	m.readyMu.Unlock()
	if first {
		// The set Run started never was all ready (a 4011): this one is,
		// and Run's loop announces it.
		select {
		case m.allReady <- struct{}{}:
		default:
		}
	} else {
		for _, c := range g.clusters {
			c.NotifyAllReady(rt.ctx)
		}
	}
	select {
	case m.swapped <- struct{}{}:
	default:
	}
	m.dropGeneration(rt, old)
	m.retire(old.clusters)
	for id := len(g.clusters); id < len(old.clusters); id++ {
		m.bus.Forget(bus.Cluster(id)) // released by the old set, taken by nobody
	}
}
