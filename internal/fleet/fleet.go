// Package fleet runs the shard sets of one Manager.Run: the set Run starts,
// the sets re-shards start beside it, the switch from one to the next, the
// readiness of the whole bot, and the fatal errors that end the run. Only
// the root package imports it; package engine runs each cluster.
//
// # One owner
//
// All of a fleet's state belongs to the goroutine that calls [Fleet.Run]:
// which sets exist and which one is active, the generation numbers, the
// re-shard in progress, the readiness count, and the counters of the sets
// that were replaced. Other goroutines (the clusters' event hooks and
// Serve goroutines, a re-shard, the Manager's callers) change it only by
// sending commands, each of which the owner applies at once without
// waiting for anything; they read it through the [View] the owner
// publishes after every change. Every send also watches the owner's end,
// so nothing blocks against a fleet whose Run has returned.
package fleet

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/internal/shardplan"
	"github.com/megane-go/megane/shard"
)

// Errors a fleet returns; the root package exports them under the same
// values.
var (
	// ErrNotRunning: Run has not started the first set yet, or is stopping.
	ErrNotRunning = errors.New("megane: manager not running")
	// ErrReshardInProgress: a re-shard runs; explicit restarts and a
	// second re-shard are refused meanwhile.
	ErrReshardInProgress = errors.New("megane: re-shard in progress")
)

// Config is what a fleet needs from the Manager. Every function field must
// be set, and each may be called from any goroutine.
type Config struct {
	Log *slog.Logger
	// NewCluster builds cluster id (of shardIDs, out of count shards) of
	// generation gen, in standby when standby is set.
	NewCluster func(gen, id int, shardIDs []int, count int, standby bool) *engine.Cluster
	// Recommended plans the shards as GET /gateway/bot now recommends.
	Recommended func(ctx context.Context) (shardplan.Plan, error)
	// Doubled plans twice count shards: the answer to a close 4011 when
	// the recommendation is not higher.
	Doubled func(count int) (shardplan.Plan, error)
	// ReshardError wraps a re-shard's failure (the error Reshard returns
	// and a EventReshardFailed carries).
	ReshardError func(oldShards, newShards int, err error) error
	// Emit delivers one of the fleet's own events (re-shards, all ready,
	// fatal errors). Cluster events reach the Manager through the
	// clusters' own hook, which must call Observe.
	Emit func(cluster.Event)
	// AllReady runs, on a goroutine of its own, when every cluster of the
	// bot is ready for the first time: the services' AllClustersReady.
	AllReady func(ctx context.Context)
	// Forget drops the bus address of cluster id: a re-shard to fewer
	// clusters leaves the old set's higher IDs to nobody.
	Forget func(id int)

	AutoReshard    bool          // answer a close 4011 with a re-shard
	ReshardCheck   time.Duration // how often to ask for a higher recommendation; 0: never
	ReshardTimeout time.Duration // how long a new set may take to be ready; 0: no limit
	ReadyTimeout   time.Duration // how long a switch-over waits for a new cluster to go live
}

// View is a fleet's state as the owner last published it. It is never
// changed after it is published: read it, do not write it.
type View struct {
	// Running: the first set has started and Run is not stopping.
	Running bool
	// Plan and Clusters are the active set's.
	Plan     shardplan.Plan
	Clusters []*engine.Cluster
	// Resharding: a re-shard runs.
	Resharding bool
	// Retired holds, by shard ID, the final counters of the sets re-shards
	// stopped; Retiring the clusters of a set being stopped.
	Retired  map[int]shard.Stats
	Retiring []*engine.Cluster
}

// Fleet runs the shard sets of one Run. Make it with New; it starts
// nothing until Run. A Fleet runs once and must not be copied.
type Fleet struct {
	cfg  Config
	cmds chan command  // to the owner; unbuffered
	done chan struct{} // closed when Run's owner loop has returned
	view atomic.Pointer[View]
}

// New returns a fleet with cfg.
func New(cfg Config) *Fleet {
	f := &Fleet{cfg: cfg, cmds: make(chan command), done: make(chan struct{})}
	f.view.Store(&View{})
	return f
}

// View returns the state the owner published last; before Run and after
// it, a View with Running false.
func (f *Fleet) View() *View { return f.view.Load() }

// Run starts plan's clusters as generation 0 and owns the fleet until ctx
// ends or a fatal error: a cluster's Serve error other than a close 4011
// that a re-shard answers, or a failed automatic re-shard. It then stops
// every set and returns that error, or nil when ctx ended.
func (f *Fleet) Run(ctx context.Context, plan shardplan.Plan) error {
	defer close(f.done)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := newState(f, runCtx)
	g := st.startGeneration(plan, 0, false)
	st.activate(g)
	st.publish()
	err := st.loop(cancel)
	st.stopAll(cancel)
	f.view.Store(&View{})
	return err
}

// send hands cmd to the owner. It reports false, sending nothing, once Run
// has returned.
func (f *Fleet) send(cmd command) bool {
	select {
	case f.cmds <- cmd:
		return true
	case <-f.done:
		return false
	}
}

// ask sends cmd and waits for its reply on reply. It returns zero and false
// once Run has returned.
func ask[T any](f *Fleet, cmd command, reply <-chan T) (T, bool) {
	var zero T
	if !f.send(cmd) {
		return zero, false
	}
	select {
	case v := <-reply:
		return v, true
	case <-f.done:
		return zero, false
	}
}

// Observe takes a cluster's event into the bot's readiness count. Call it
// from the clusters' event hook; it never blocks for long.
func (f *Fleet) Observe(e cluster.Event) {
	if e.Kind == cluster.EventReady && !e.Standby {
		f.send(readyCmd{cluster: e.Cluster, gen: e.Generation})
	}
}
