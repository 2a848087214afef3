package megane

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/megane-go/megane/stats"
)

// gauge returns the value of the metric family name whose labels include
// want, and false if there is none.
func gauge(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, want) {
				switch {
				case m.GetGauge() != nil:
					return m.GetGauge().GetValue(), true
				case m.GetCounter() != nil:
					return m.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// TestManagerStats: a snapshot with every cluster's caches, shards and
// custom worker fields, the services, and the totals; the periodic
// collection reaches the handler and the events; the Prometheus collector
// exports the same figures; after Run the clusters drop out.
func TestManagerStats(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 4)
	tl := newTally()
	factory, _ := gatedFactory(tl, 0)
	handled := make(chan stats.Snapshot, 1)
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(2), WithWorker(factory), allCaches(),
		WithService("counter", newCounter()),
		WithStatsInterval(5*time.Millisecond),
		WithStatsHandler(func(s stats.Snapshot) {
			select {
			case handled <- s:
			default:
			}
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.LatestStats(); ok {
		t.Fatal("a snapshot before any collection")
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)

	snap, err := m.Stats(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Clusters) != 2 || snap.Manager.Goroutines == 0 || snap.Manager.Uptime <= 0 {
		t.Fatalf("snapshot = %+v", snap)
	}
	guilds := 0
	for i, c := range snap.Clusters {
		want := 0
		for s := 2 * i; s < 2*i+2; s++ {
			want += len(fake.GuildIDs(s, 4))
		}
		guilds += want
		if c.ID != i || !c.Ready || c.State != "ready" || c.Guilds != want || c.Members != 2*want ||
			c.Users != 2*want || c.Channels != 2*want || c.LastError != "" {
			t.Fatalf("cluster %d = %+v, want %d guilds", i, c, want)
		}
		if c.Custom["cluster"] != i || c.Custom["nested"].(map[string]any)["ok"] != true {
			t.Fatalf("cluster %d custom = %v", i, c.Custom)
		}
		if len(c.Shards) != 2 {
			t.Fatalf("cluster %d shards = %+v", i, c.Shards)
		}
		for j, s := range c.Shards {
			if s.ID != 2*i+j || !s.Ready || s.Status != "ready" || s.Identifies != 1 || s.Events == 0 {
				t.Fatalf("cluster %d shard %d = %+v", i, j, s)
			}
		}
	}
	tot := snap.Totals
	if tot.Guilds != guilds || tot.Members != 2*guilds || tot.Shards != 4 || tot.ShardsReady != 4 ||
		tot.Clusters != 2 || tot.ClustersReady != 2 || tot.Services != 1 || tot.ServicesReady != 1 {
		t.Fatalf("totals = %+v", tot)
	}
	if _, err := json.Marshal(snap); err != nil {
		t.Fatalf("snapshot is not JSON-encodable: %v", err)
	}

	// The periodic collection reaches the handler and the events.
	select {
	case s := <-handled:
		if s.Seq == 0 {
			t.Fatalf("handled snapshot = %+v", s)
		}
	case <-ctxFor(t).Done():
		t.Fatal("the stats handler never ran")
	}
	tl.waitFor(t, "a StatsUpdated event", func(tl *tally) bool { return tl.count(StatsUpdated, -1) > 0 })
	if latest, ok := m.LatestStats(); !ok || latest.Seq < snap.Seq {
		t.Fatalf("LatestStats = %d, %v", latest.Seq, ok)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(m.PrometheusCollector())
	if n, err := testutil.GatherAndCount(reg, stats.MetricShardLatency); err != nil || n != 4 {
		t.Fatalf("%s: %d series, %v", stats.MetricShardLatency, n, err)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{stats.MetricClusters, nil, 2},
		{stats.MetricClustersReady, nil, 2},
		{stats.MetricShardsReady, nil, 4},
		{stats.MetricClusterGuilds, map[string]string{"cluster": "1"}, float64(snap.Clusters[1].Guilds)},
		{stats.MetricCustom, map[string]string{"cluster": "1", "key": "cluster"}, 1},
		{stats.MetricCustom, map[string]string{"cluster": "0", "key": "nested.ok"}, 1},
		{stats.MetricServiceUp, map[string]string{"service": "counter"}, 1},
	}
	for _, c := range checks {
		if got, ok := gauge(t, reg, c.name, c.labels); !ok || got != c.want {
			t.Fatalf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	after, err := m.Stats(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Clusters) != 0 || after.Totals.Shards != 0 {
		t.Fatalf("clusters still in the stats after Run: %+v", after.Clusters)
	}
}
