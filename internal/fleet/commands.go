package fleet

import (
	"slices"

	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/internal/shardplan"
	"github.com/megane-go/megane/shard"
)

// command is a change to a fleet's state, applied by the owner. The
// unexported method seals the set. A command that expects an answer
// carries a reply channel with room for it, so apply never blocks.
type command interface{ apply(st *state) }

// failCmd: a cluster of g returned from Serve with err.
type failCmd struct {
	g   *generation
	err error
}

func (c failCmd) apply(st *state) { st.onFailure(c.g, c.err) }

// doneCmd: every cluster of g returned from Serve.
type doneCmd struct{ g *generation }

func (c doneCmd) apply(*state) { close(c.g.done) }

// readyCmd: cluster became ready in generation gen.
type readyCmd struct{ cluster, gen int }

func (c readyCmd) apply(st *state) {
	if st.stopping || c.gen != st.readyGen {
		// A set that is not (or not yet) the active one: its re-shard
		// counts its readiness itself when it switches over.
		return
	}
	st.readySet[c.cluster] = struct{}{}
	if len(st.readySet) == len(st.active.clusters) && !st.allReadySent {
		st.allReadySent = true
		st.announceAllReady()
	}
}

// beginCmd takes the fleet for a re-shard: it answers with the active set
// and the count whose periodic re-shard failed last, or an error.
type beginCmd struct{ reply chan beginReply }

type beginReply struct {
	old         *generation
	checkFailed int
	err         error
}

func (c beginCmd) apply(st *state) {
	switch {
	case st.stopping || st.active == nil:
		c.reply <- beginReply{err: ErrNotRunning}
	case st.resharding:
		c.reply <- beginReply{err: ErrReshardInProgress}
	default:
		st.resharding = true
		st.publish()
		c.reply <- beginReply{old: st.active, checkFailed: st.checkFailed}
	}
}

// endCmd gives the fleet back after a re-shard; failedCount (if not 0) is
// the count a periodic re-shard failed to reach.
type endCmd struct{ failedCount int }

func (c endCmd) apply(st *state) {
	st.resharding = false
	if c.failedCount != 0 {
		st.checkFailed = c.failedCount
	}
	st.publish()
}

// newGenCmd starts the next generation of plan, in standby.
type newGenCmd struct {
	plan  shardplan.Plan
	reply chan *generation // nil: Run is stopping
}

func (c newGenCmd) apply(st *state) {
	if st.stopping {
		c.reply <- nil
		return
	}
	st.lastGen++
	c.reply <- st.startGeneration(c.plan, st.lastGen, true)
}

// dropCmd forgets a set whose goroutines have all returned.
type dropCmd struct{ g *generation }

func (c dropCmd) apply(st *state) { delete(st.gens, c.g) }

// switchCmd makes g the active set in place of old, whose clusters start
// retiring. It answers false, changing nothing, once Run is stopping.
type switchCmd struct {
	old, g *generation
	reply  chan bool
}

func (c switchCmd) apply(st *state) {
	if st.stopping {
		c.reply <- false
		return
	}
	st.retiring = append(st.retiring, c.old.clusters...)
	st.activate(c.g)
	for _, cl := range c.g.clusters {
		st.readySet[cl.ID()] = struct{}{}
	}
	if !st.allReadySent {
		st.allReadySent = true
		st.announceAllReady()
	} else {
		st.notifyClusters(c.g.clusters)
	}
	st.publish()
	c.reply <- true
}

// retireCmd records the final counters of a stopped set's clusters.
type retireCmd struct {
	clusters []*engine.Cluster
	final    [][]shard.Stats
}

func (c retireCmd) apply(st *state) {
	for _, shards := range c.final {
		for _, s := range shards {
			st.retired[s.ShardID] = s.Add(st.retired[s.ShardID])
		}
	}
	st.retiring = slices.DeleteFunc(st.retiring, func(cl *engine.Cluster) bool { return slices.Contains(c.clusters, cl) })
	st.publish()
}
