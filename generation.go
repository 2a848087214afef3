package megane

import (
	"context"
	"sync"

	"github.com/disgoorg/disgo/rest"

	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/shard"
)

// runState is what Run shares with the re-shards while it runs: the
// contexts, the REST client and the one identify queue of the process, and
// every shard set that has goroutines.
type runState struct {
	ctx        context.Context // Run's; every shard set ends with it
	rest       rest.Client
	queue      shard.Queue
	gatewayURL string

	// Guarded by the Manager's mu:
	stopping bool                     // Run is stopping: no new sets
	gens     map[*generation]struct{} // sets whose goroutines may run
}

// generation is one shard set: a plan and its clusters, served by one
// goroutine per cluster. Generation 0 is the set Run starts; each re-shard
// starts the next one beside it.
type generation struct {
	no       int
	plan     shard.Plan
	clusters []*engine.Cluster
	cancel   context.CancelFunc
	done     chan struct{} // closed once every cluster's Serve returned

	mu   sync.Mutex
	errs []error       // clusters' Serve errors not yet taken
	seen []error       // every Serve error, for firstErr
	note chan struct{} // capacity 1: errs got an error
}

// fail records a cluster's Serve error. It never blocks.
func (g *generation) fail(err error) {
	g.mu.Lock()
	g.errs = append(g.errs, err)
	g.seen = append(g.seen, err)
	g.mu.Unlock()
	select {
	case g.note <- struct{}{}:
	default:
	}
}

// takeErrs returns the errors recorded since the last call.
func (g *generation) takeErrs() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	errs := g.errs
	g.errs = nil
	return errs
}

// firstErr returns the first error recorded, or nil.
func (g *generation) firstErr() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.seen) == 0 {
		return nil
	}
	return g.seen[0]
}

// stop cancels the set and waits until every cluster's Serve returned.
func (g *generation) stop() {
	g.cancel()
	<-g.done
}

// startGeneration builds the clusters of plan as generation no (in
// standby for a re-shard) and serves each on a goroutine that ends with
// rt.ctx or the set's stop. It fails with ErrNotRunning once Run is
// stopping.
func (m *Manager) startGeneration(rt *runState, plan shard.Plan, no int, standby bool) (*generation, error) {
	gctx, cancel := context.WithCancel(rt.ctx)
	g := &generation{no: no, plan: plan, cancel: cancel, done: make(chan struct{}), note: make(chan struct{}, 1)}
	m.mu.Lock()
	if m.rt != rt || rt.stopping {
		m.mu.Unlock()
		cancel()
		return nil, ErrNotRunning
	}
	opts := append(m.clusterOptions(rt.gatewayURL, rt.queue, rt.rest),
		engine.WithGeneration(no), engine.WithStandby(standby))
	g.clusters = make([]*engine.Cluster, len(plan.Clusters))
	for i, ids := range plan.Clusters {
		g.clusters[i] = engine.New(m.token, i, ids, plan.Count, m.cfg.worker, opts...)
	}
	rt.gens[g] = struct{}{}
	m.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range g.clusters {
		wg.Go(func() {
			if err := c.Serve(gctx); err != nil {
				g.fail(err)
			}
		})
	}
	go func() {
		wg.Wait()
		close(g.done)
	}()
	return g, nil
}

// dropGeneration stops g and forgets it.
func (m *Manager) dropGeneration(rt *runState, g *generation) {
	g.stop()
	m.mu.Lock()
	delete(rt.gens, g)
	m.mu.Unlock()
}

// setActive makes g the set that serves: the cluster table, the plan (and
// so guild routing) and the readiness count follow it. It reports false,
// changing nothing, once Run is stopping.
func (m *Manager) setActive(rt *runState, g *generation) bool {
	m.mu.Lock()
	if m.rt != rt || rt.stopping {
		m.mu.Unlock()
		return false
	}
	m.active, m.plan, m.clusters = g, g.plan, g.clusters
	m.mu.Unlock()
	m.readyMu.Lock()
	m.readyGen, m.nClusters = g.no, len(g.clusters)
	m.readySet = map[int]struct{}{}
	m.readyMu.Unlock()
	return true
}

// stopGenerations ends Run's shard sets: no new set may start, every set
// is cancelled, and it returns once every cluster's Serve has returned.
func (m *Manager) stopGenerations(rt *runState, cancel context.CancelFunc) {
	m.mu.Lock()
	rt.stopping = true
	gens := make([]*generation, 0, len(rt.gens))
	for g := range rt.gens {
		gens = append(gens, g)
	}
	m.mu.Unlock()
	cancel()
	for _, g := range gens {
		<-g.done
	}
	m.mu.Lock()
	m.clusters, m.active, m.rt = nil, nil, nil
	m.mu.Unlock()
}
