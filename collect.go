package megane

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/collector"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/stats"
)

// minCollectTimeout is the least time a periodic collection waits for the
// clusters' and services' answers.
const minCollectTimeout = time.Second

// newCollector builds the Manager's stats collector over its clusters and
// services. It starts nothing; Run runs it.
func (m *Manager) newCollector() *collector.Collector {
	return collector.New(
		collector.WithInterval(m.cfg.statsInterval),
		// Workers get at least a second to answer for their custom
		// figures, however short the interval: a periodic snapshot taken
		// on a loaded machine should not lose them.
		collector.WithCollectTimeout(max(m.cfg.statsInterval, minCollectTimeout)),
		collector.WithLogger(m.log),
		collector.WithClusters(collector.ClusterSourceFunc(m.clusterStats)),
		collector.WithServices(collector.ServiceSourceFunc(m.serviceStats)),
		collector.WithOnUpdate(m.onStats),
	)
}

// Stats collects a snapshot now and returns it (it also becomes the
// latest, and the stats handler and a StatsUpdated event see it). ctx
// bounds the collection: clusters or services that do not answer in time
// are reported without their custom figures. It fails only if ctx ends
// before the collection could start. Before Run (and after it) the
// snapshot holds the manager's runtime figures and the registered
// services, and no clusters. Safe for concurrent use; it must not be
// called from the stats handler.
func (m *Manager) Stats(ctx context.Context) (stats.Snapshot, error) { return m.col.Collect(ctx) }

// LatestStats returns the most recent snapshot (collected every
// WithStatsInterval while Run runs, or by Stats), and false if none has
// been collected yet. The snapshot is shared: treat it as read-only.
func (m *Manager) LatestStats() (stats.Snapshot, bool) { return m.col.Latest() }

// PrometheusCollector returns a prometheus.Collector exporting the
// Manager's figures under the stable megane_* names (see package stats).
// Register it once, beside the standard Go and process collectors, for
// example:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(m.PrometheusCollector(),
//		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Figures are read at scrape time, from the clusters and services
// themselves (a scrape waits at most 2 s for them), not from the last
// snapshot: WithStatsInterval does not make them older.
func (m *Manager) PrometheusCollector() prometheus.Collector {
	return promCollectors{stats: collector.Prometheus(m.col), bus: collector.Bus(m.bus), m: m}
}

// onStats is the collector's update hook: the stats handler, then a
// StatsUpdated event.
func (m *Manager) onStats(s stats.Snapshot) {
	if m.cfg.statsHandler != nil {
		m.cfg.statsHandler(s)
	}
	m.emit(cluster.Event{Kind: cluster.EventStatsUpdated, Cluster: -1, Shard: -1, At: s.Time})
}

// clusterStats is the collector's cluster source: every running cluster,
// asked concurrently. Clusters of a Manager that no longer runs are gone.
// A shard's counters include those of the same shard id in the shard sets
// that re-shards replaced, so that they never go back.
func (m *Manager) clusterStats(ctx context.Context) []stats.ClusterStats {
	cs, err := m.all()
	if err != nil {
		return nil
	}
	past := m.shardHistory(ctx)
	out := make([]stats.ClusterStats, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			st := c.Stats(ctx)
			for j, s := range st.Shards {
				st.Shards[j] = s.Add(past[s.ShardID])
			}
			out[i] = toClusterStats(st)
		})
	}
	wg.Wait()
	return out
}

// shardHistory sums, by shard id, the counters of the shard sets that
// re-shards replaced: the final ones of the sets stopped, and the current
// ones of a set still stopping.
func (m *Manager) shardHistory(ctx context.Context) map[int]shard.Stats {
	v := m.view()
	past := maps.Clone(v.Retired)
	retiring := v.Retiring
	if past == nil {
		past = map[int]shard.Stats{}
	}
	for _, c := range retiring {
		for _, s := range c.Stats(ctx).Shards {
			past[s.ShardID] = s.Add(past[s.ShardID])
		}
	}
	return past
}

// serviceStats is the collector's service source: every registered
// service; removed ones are gone.
func (m *Manager) serviceStats(ctx context.Context) []stats.ServiceStats {
	reg := m.madeRegistry()
	if reg == nil {
		return nil // nothing was registered or added yet; do not start the store for it
	}
	sts := reg.Stats(ctx)
	out := make([]stats.ServiceStats, len(sts))
	for i, s := range sts {
		out[i] = stats.ServiceStats{Name: s.Name, State: s.State.String(), Ready: s.Ready, Restarts: s.Restarts, Custom: s.Custom}
		if s.LastError != nil {
			out[i].LastError = s.LastError.Error()
		}
	}
	return out
}

func toClusterStats(st cluster.Stats) stats.ClusterStats {
	cs := stats.ClusterStats{
		ID:       st.ID,
		State:    st.Status.String(),
		Ready:    st.Ready,
		Guilds:   st.Guilds,
		Users:    st.Users,
		Channels: st.Channels,
		Members:  st.Members,
		Restarts: st.Restarts,
		Custom:   st.Custom,
		Shards:   make([]stats.ShardStats, len(st.Shards)),
	}
	if st.LastError != nil {
		cs.LastError = st.LastError.Error()
	}
	for i, s := range st.Shards {
		cs.Shards[i] = toShardStats(s)
	}
	return cs
}

func toShardStats(s shard.Stats) stats.ShardStats {
	return stats.ShardStats{
		ID:              s.ShardID,
		Status:          shardStatusName(s.Status),
		Ready:           s.Status == gateway.StatusReady,
		Latency:         s.Latency,
		EventsPerSecond: s.EventsPerSecond,
		Events:          s.Events,
		Resumes:         s.Resumes,
		Reconnects:      s.Reconnects,
		Identifies:      s.Identifies,
		QueueDepth:      s.QueueDepth,
		Dropped:         s.Dropped,
	}
}

// shardStatusName is the snake_case name of a shard's gateway status, as
// the stats report it ("ready", "waiting_for_hello", ...).
func shardStatusName(s gateway.Status) string {
	switch s {
	case gateway.StatusUnconnected:
		return "unconnected"
	case gateway.StatusConnecting:
		return "connecting"
	case gateway.StatusWaitingForHello:
		return "waiting_for_hello"
	case gateway.StatusIdentifying:
		return "identifying"
	case gateway.StatusResuming:
		return "resuming"
	case gateway.StatusWaitingForReady:
		return "waiting_for_ready"
	case gateway.StatusReady:
		return "ready"
	case gateway.StatusDisconnected:
		return "disconnected"
	}
	return "unknown"
}
