package fleet

import (
	"context"
	"sync"

	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/internal/shardplan"
)

// generation is one shard set: a plan and its clusters, served by one
// goroutine per cluster. Generation 0 is the set Run starts; each re-shard
// starts the next one beside it. Its fields are set when it is built and
// never change, except err, which the owner writes once before it closes
// failed.
type generation struct {
	no       int
	plan     shardplan.Plan
	clusters []*engine.Cluster
	cancel   context.CancelFunc
	done     chan struct{} // closed (by the owner) once every cluster's Serve returned

	failed chan struct{} // closed by the owner at the set's first Serve error
	err    error         // that error; read only after failed is closed
}

// stop cancels the set and waits until every cluster's Serve returned.
func (g *generation) stop() {
	g.cancel()
	<-g.done
}

// startGeneration builds the clusters of plan as generation no (in
// standby for a re-shard) and serves each on a goroutine that ends with
// the run or the set's stop. Called by the owner.
func (st *state) startGeneration(plan shardplan.Plan, no int, standby bool) *generation {
	gctx, cancel := context.WithCancel(st.ctx)
	g := &generation{no: no, plan: plan, cancel: cancel, done: make(chan struct{}), failed: make(chan struct{})}
	g.clusters = make([]*engine.Cluster, len(plan.Clusters))
	for i, ids := range plan.Clusters {
		g.clusters[i] = st.f.cfg.NewCluster(no, i, ids, plan.Count, standby)
	}
	st.gens[g] = struct{}{}
	var wg sync.WaitGroup
	for _, c := range g.clusters {
		wg.Go(func() {
			if err := c.Serve(gctx); err != nil {
				st.f.send(failCmd{g: g, err: err})
			}
		})
	}
	go func() {
		wg.Wait()
		// The owner closes done, after the failures the Serve goroutines
		// sent before they returned: whoever sees done closed sees err.
		if !st.f.send(doneCmd{g: g}) {
			close(g.done)
		}
	}()
	return g
}
