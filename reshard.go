package megane

import (
	"context"
	"errors"
	"fmt"

	"github.com/megane-go/megane/internal/fleet"
	"github.com/megane-go/megane/internal/shardplan"
)

// Errors of re-sharding.
var (
	// ErrReshardInProgress is returned by Reshard while another re-shard
	// runs, and by Restart, RestartAll and RollingRestart during one: the
	// clusters they name are about to be replaced. Retry once the
	// ReshardCompleted or ReshardFailed event has come.
	ErrReshardInProgress = fleet.ErrReshardInProgress
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
	f := m.fleet.Load()
	if f == nil {
		return ErrNotRunning
	}
	return f.Reshard(ctx, func(ctx context.Context) (shardplan.Plan, error) {
		if newCount == 0 {
			return f.Recommended(ctx)
		}
		return m.planOf(shardplan.WithShardCount(newCount))
	})
}

// autoPlanOptions are the plan options of an automatic shard count.
func (m *Manager) autoPlanOptions(recommended int) []shardplan.PlanOption {
	opts := []shardplan.PlanOption{shardplan.WithRecommended(recommended)}
	if m.cfg.guildsPerShard > 0 {
		opts = append(opts, shardplan.WithGuildsPerShard(m.cfg.guildsPerShard))
	}
	if m.cfg.shardMultiple > 1 {
		opts = append(opts, shardplan.WithMultipleOf(m.cfg.shardMultiple))
	}
	return opts
}

// planOf plans a shard set with the Manager's cluster options.
func (m *Manager) planOf(opts ...shardplan.PlanOption) (shardplan.Plan, error) {
	plan, err := shardplan.NewPlan(append(opts, shardplan.WithClusters(m.cfg.clusters))...)
	if err != nil {
		return shardplan.Plan{}, fmt.Errorf("megane: plan shards: %w", err)
	}
	return plan, nil
}

// recommendedPlan plans the count GET /gateway/bot recommends now, and
// refreshes the identify queue's limits from the same answer.
func (m *Manager) recommendedPlan(ctx context.Context, rt *runState) (shardplan.Plan, error) {
	// The call ends with Run too: a Reshard's caller may have passed a
	// context that outlives it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(rt.ctx, cancel)()
	gb, err := m.gatewayBot(ctx, rt.rest)
	if err != nil {
		return shardplan.Plan{}, err
	}
	m.applyLimit(rt, gb)
	return m.planOf(m.autoPlanOptions(gb.Shards)...)
}

// checkReshard runs one re-shard check now (what WithReshardCheck's
// ticker runs) and returns once it is done.
func (m *Manager) checkReshard(ctx context.Context) error {
	if f := m.fleet.Load(); f != nil {
		return f.CheckReshard(ctx)
	}
	return nil
}

// doubledPlan plans twice count shards (and the multiple): the answer to
// a close 4011 when GET /gateway/bot recommends no more than run.
func (m *Manager) doubledPlan(count int) (shardplan.Plan, error) {
	opts := []shardplan.PlanOption{shardplan.WithShardCount(2 * count)}
	if m.cfg.shardMultiple > 1 {
		opts = append(opts, shardplan.WithMultipleOf(m.cfg.shardMultiple))
	}
	return m.planOf(opts...)
}
