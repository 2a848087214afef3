package fleet

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/shard"
)

// state is a fleet's mutable state. Only the owner (Run's goroutine)
// touches it.
type state struct {
	f   *Fleet
	ctx context.Context // the run's; every set ends with it

	gens     map[*generation]struct{} // sets whose goroutines may run
	active   *generation              // the set that serves
	lastGen  int                      // the newest generation number handed out
	stopping bool                     // Run is stopping: no new set, no switch

	resharding  bool     // a re-shard holds the fleet (beginReshard)
	checkFailed int      // the count whose periodic re-shard failed last
	autoRunning bool     // an automatic re-shard or check runs
	pending     *pending // a close 4011 to answer

	readyGen     int // the generation whose EventReady count
	readySet     map[int]struct{}
	allReadySent bool

	retired  map[int]shard.Stats
	retiring []*engine.Cluster

	fatal    error          // the first fatal error; ends the loop
	autoDone chan error     // the automatic re-shard's result
	notifies sync.WaitGroup // the AllClustersReady calls
}

func newState(f *Fleet, ctx context.Context) *state {
	return &state{f: f, ctx: ctx, gens: map[*generation]struct{}{}, readySet: map[int]struct{}{},
		retired: map[int]shard.Stats{}, autoDone: make(chan error, 1)}
}

// pending is a close 4011 of set g, to be answered by a re-shard.
type pending struct {
	g   *generation
	err error
}

// publish stores a new View of st.
func (st *state) publish() {
	v := &View{
		Running:    !st.stopping && st.active != nil,
		Resharding: st.resharding,
		Retired:    maps.Clone(st.retired),
		Retiring:   slices.Clone(st.retiring),
	}
	if v.Running {
		v.Plan, v.Clusters = st.active.plan, st.active.clusters
	}
	st.f.view.Store(v)
}

// activate makes g the set that serves: the cluster table, the plan (and
// so guild routing) and the readiness count follow it.
func (st *state) activate(g *generation) {
	st.active = g
	st.readyGen = g.no
	st.readySet = map[int]struct{}{}
}

// loop applies commands and runs the automatic re-shards until the run's
// context ends or a fatal error.
func (st *state) loop(cancel context.CancelFunc) error {
	var tick <-chan time.Time
	if st.f.cfg.ReshardCheck > 0 {
		t := time.NewTicker(st.f.cfg.ReshardCheck)
		defer t.Stop()
		tick = t.C
	}
	for st.fatal == nil {
		st.startPending()
		select {
		case <-st.ctx.Done():
			return nil
		case cmd := <-st.f.cmds:
			cmd.apply(st)
		case err := <-st.autoDone:
			st.autoRunning = false
			if err != nil && st.ctx.Err() == nil {
				st.fail(err)
			}
		case <-tick:
			if !st.autoRunning && st.pending == nil && !st.resharding {
				st.takeForAuto()
				ctx, old, failed := st.ctx, st.active, st.checkFailed
				go func() { st.autoDone <- st.f.checkReshard(ctx, old, failed) }()
			}
		}
	}
	st.f.cfg.Emit(cluster.Event{Kind: cluster.EventError, Cluster: -1, Shard: -1, Err: st.fatal, At: time.Now()})
	cancel()
	return st.fatal
}

// startPending starts the answer to a close 4011 once no other re-shard
// runs. An answer to a set that was replaced meanwhile is dropped.
func (st *state) startPending() {
	p := st.pending
	if p == nil || st.autoRunning || st.resharding {
		return
	}
	st.pending = nil
	if p.g != st.active {
		return
	}
	st.takeForAuto()
	ctx := st.ctx
	go func() { st.autoDone <- st.f.reshardAfter4011(ctx, p.g, p.err) }()
}

// takeForAuto takes the fleet for an automatic re-shard, which gives it
// back with endCmd.
func (st *state) takeForAuto() {
	st.autoRunning = true
	st.resharding = true
	st.publish()
}

// fail records the run's first fatal error.
func (st *state) fail(err error) {
	if st.fatal == nil {
		st.fatal = err
	}
}

// stopAll ends the run's sets: no new set may start, every set is
// cancelled, and it returns once every cluster's Serve has returned, the
// automatic re-shard has ended and the AllClustersReady calls are done.
// It goes on applying commands meanwhile, so that nothing waiting for the
// owner holds a set up.
func (st *state) stopAll(cancel context.CancelFunc) {
	st.stopping = true
	st.publish()
	cancel()
	for len(st.gens) > 0 || st.autoRunning {
		var gdone <-chan struct{}
		var g *generation
		for g = range st.gens {
			gdone = g.done
			break
		}
		select {
		case <-gdone:
			delete(st.gens, g)
		case cmd := <-st.f.cmds:
			cmd.apply(st)
		case <-st.autoDone:
			st.autoRunning = false
		}
	}
	st.notifies.Wait()
}

// announceAllReady tells every cluster of the active set and the
// services that the whole bot is ready, on goroutines of their own.
func (st *state) announceAllReady() {
	st.f.cfg.Emit(cluster.Event{Kind: cluster.EventAllReady, Cluster: -1, Shard: -1, At: time.Now()})
	st.notifyClusters(st.active.clusters)
	ctx := st.ctx
	st.notifies.Go(func() { st.f.cfg.AllReady(ctx) })
}

// notifyClusters calls NotifyAllReady of clusters on a goroutine.
func (st *state) notifyClusters(clusters []*engine.Cluster) {
	ctx := st.ctx
	st.notifies.Go(func() {
		for _, c := range clusters {
			c.NotifyAllReady(ctx)
		}
	})
}

// onFailure handles a cluster's Serve error in set g.
func (st *state) onFailure(g *generation, err error) {
	if g.err == nil {
		g.err = err
		close(g.failed)
	}
	if g != st.active || st.stopping {
		return // a standby set: its re-shard sees failed
	}
	if !errors.Is(err, shard.ErrShardingRequired) || !st.f.cfg.AutoReshard {
		st.fail(err)
		return
	}
	// The newest 4011 wins: an answer to an older set that was replaced
	// meanwhile does nothing.
	st.f.cfg.Log.Warn("close 4011: sharding required; re-sharding", slog.Int("shards", g.plan.Count))
	st.pending = &pending{g: g, err: err}
}
