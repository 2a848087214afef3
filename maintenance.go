package megane

import (
	"context"
	"slices"
	"sync"

	"github.com/disgoorg/disgo/bot"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/engine"
)

// WithMaintenanceHandler sends the events of a cluster in maintenance to h
// instead of holding them for the worker (see [Manager.SetMaintenance]).
// h runs on the cluster's dispatch goroutine in place of the worker's
// listeners, one event at a time and in order, so it must return quickly;
// a panic in it crashes the cluster like a panic in a listener. The events
// h got are not delivered again when maintenance ends.
func WithMaintenanceHandler(h func(cl *cluster.Cluster, e bot.Event)) Option {
	return func(c *config) { c.maintenanceHandler = h }
}

// WithMaintenanceBuffer sets how many events each cluster in maintenance
// holds for its worker (0: the default, 10 000 bot events, up to about
// 30 MB of heap per cluster; negative is an *OptionError). When the buffer is full the oldest held event is dropped:
// every drop is counted (cluster.Stats.HeldDropped), and the first drop of
// a maintenance episode is logged at warn level, as is the episode's total
// drops when it ends.
func WithMaintenanceBuffer(n int) Option { return func(c *config) { c.maintenanceBuffer = n } }

// SetMaintenance puts clusters in maintenance (on) or takes them out: the
// given cluster IDs, or, with none, the whole bot. In maintenance a
// cluster's shards keep receiving and its client keeps handling every
// event (the cache and the stats keep moving, and the cluster stays
// ready), but the worker's listeners get none: the events wait in a
// bounded buffer ([WithMaintenanceBuffer]) or go to the maintenance
// handler ([WithMaintenanceHandler]). Bus messages to the worker are
// answered with an error matching cluster.ErrMaintenance; Megane's own
// topics (stats, fetches) still work. Leaving maintenance delivers the
// held events in order, before any newer event; SetMaintenance returns
// without waiting for that.
//
// The whole-bot setting also applies to every cluster started later: the
// clusters of a re-shard begin in it. A cluster's own setting survives its
// restarts; a re-shard's new clusters take the whole-bot setting, not the
// old clusters' own. Held events are not counted as delivered, so a resume
// restart in maintenance gets them replayed from Discord and holds them
// again; a full restart loses them, as it loses any event in flight.
//
// Each change sends cluster.EventMaintenance for the cluster; see also
// ClusterInfo.Maintenance. An unknown ID gives a *NoClusterError and
// changes nothing; before Run has planned the clusters it returns
// ErrNotRunning. ctx is checked before anything changes; the call never
// blocks for long.
func (m *Manager) SetMaintenance(ctx context.Context, on bool, clusters ...int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(clusters) == 0 {
		if _, err := m.all(); err != nil {
			return err
		}
		m.maint.setAll(on)
		return nil
	}
	cs := make([]*engine.Cluster, 0, len(clusters))
	for _, id := range clusters {
		c, err := m.cluster(id)
		if err != nil {
			return err
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		c.SetMaintenance(on)
	}
	return nil
}

// maintenance is the whole-bot maintenance setting and the clusters it
// reaches: every cluster the Manager built whose Serve has not returned,
// active or in standby. Its lock makes "build a cluster with the setting"
// and "change the setting everywhere" exclusive, so no cluster misses a
// change.
type maintenance struct {
	mu       sync.Mutex
	all      bool
	clusters []*engine.Cluster
}

// newCluster builds a cluster with build, in maintenance when the whole
// bot is, and registers it for later whole-bot changes.
func (mt *maintenance) newCluster(build func(on bool) *engine.Cluster) *engine.Cluster {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	c := build(mt.all)
	mt.prune()
	mt.clusters = append(mt.clusters, c)
	return c
}

// setAll changes the whole-bot setting and every registered cluster's.
func (mt *maintenance) setAll(on bool) {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	mt.all = on
	mt.prune()
	for _, c := range mt.clusters {
		c.SetMaintenance(on)
	}
}

// prune forgets the clusters whose Serve has returned.
func (mt *maintenance) prune() {
	mt.clusters = slices.DeleteFunc(mt.clusters, func(c *engine.Cluster) bool {
		select {
		case <-c.Done():
			return true
		default:
			return false
		}
	})
}

// maintenanceOptions are the engine options of a cluster built while the
// whole bot's maintenance is on.
func (m *Manager) maintenanceOptions(on bool) []engine.Option {
	opts := []engine.Option{engine.WithMaintenance(on), engine.WithMaintenanceBuffer(m.cfg.maintenanceBuffer)}
	if h := m.cfg.maintenanceHandler; h != nil {
		opts = append(opts, engine.WithMaintenanceHandler(h))
	}
	return opts
}
