package megane

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/megane-go/megane/cluster"
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
	tl.waitFor(t, "a StatsUpdated event", func(tl *tally) bool { return tl.count(cluster.EventStatsUpdated, -1) > 0 })
	if latest, ok := m.LatestStats(); !ok || latest.Seq < snap.Seq {
		t.Fatalf("LatestStats = %d, %v", latest.Seq, ok)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(m.PrometheusCollector())
	if n, err := testutil.GatherAndCount(reg, "megane_shard_latency_seconds"); err != nil || n != 4 {
		t.Fatalf("megane_shard_latency_seconds: %d series, %v", n, err)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"megane_clusters", nil, 2},
		{"megane_clusters_ready", nil, 2},
		{"megane_shards_ready", nil, 4},
		{"megane_cluster_guilds", map[string]string{"cluster": "1"}, float64(snap.Clusters[1].Guilds)},
		{"megane_custom", map[string]string{"cluster": "1", "key": "cluster"}, 1},
		{"megane_custom", map[string]string{"cluster": "0", "key": "nested.ok"}, 1},
		{"megane_service_up", map[string]string{"service": "counter"}, 1},
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

// TestShardCountersNeverGoBack: a shard's _total counters are its history
// for the life of the Manager. They used to start again from 0 at every
// resume or full restart (each attempt builds new shards) and at every
// re-shard (each builds new clusters).
func TestShardCountersNeverGoBack(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	tl := newTally()
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithShards(2), WithClusters(1),
		WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.PrometheusCollector())

	// check collects a snapshot and compares each shard's counters with
	// want (identifies, resumes), and with the previous snapshot.
	prev := map[int]stats.ShardStats{}
	check := func(step string, want map[int][2]uint64) {
		t.Helper()
		snap, err := m.Stats(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]stats.ShardStats{}
		for _, c := range snap.Clusters {
			for _, s := range c.Shards {
				got[s.ID] = s
			}
		}
		for id, w := range want {
			s, ok := got[id]
			if !ok || s.Identifies != w[0] || s.Resumes != w[1] {
				t.Fatalf("%s: shard %d = %+v, want %d identifies and %d resumes", step, id, s, w[0], w[1])
			}
			if p := prev[id]; s.Events < p.Events || s.Reconnects < p.Reconnects {
				t.Fatalf("%s: shard %d went back: %+v after %+v", step, id, s, p)
			}
		}
		prev = got
		// What Prometheus scrapes is the same history.
		want0 := fmt.Sprintf(`megane_shard_identifies_total{cluster="0",shard="0"} %d`, want[0][0])
		var buf strings.Builder
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, mt := range mf.GetMetric() {
				if mf.GetName() == "megane_shard_identifies_total" && labelValue(mt, "shard") == "0" && labelValue(mt, "cluster") == "0" {
					fmt.Fprintf(&buf, `%s{cluster="0",shard="0"} %d`, mf.GetName(), int(mt.GetCounter().GetValue()))
				}
			}
		}
		if buf.String() != want0 {
			t.Fatalf("%s: scraped %q, want %q", step, buf.String(), want0)
		}
	}
	check("start", map[int][2]uint64{0: {1, 0}, 1: {1, 0}})
	if err := m.Restart(ctxFor(t), 0, cluster.RestartResume); err != nil {
		t.Fatal(err)
	}
	check("after a resume restart", map[int][2]uint64{0: {1, 1}, 1: {1, 1}})
	if err := m.Restart(ctxFor(t), 0, cluster.RestartFull); err != nil {
		t.Fatal(err)
	}
	check("after a full restart", map[int][2]uint64{0: {2, 1}, 1: {2, 1}})
	if err := m.Reshard(ctxFor(t), 4); err != nil {
		t.Fatal(err)
	}
	check("after a re-shard", map[int][2]uint64{0: {3, 1}, 1: {3, 1}, 2: {1, 0}, 3: {1, 0}})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// labelValue returns the value of the metric's label name, or "".
func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
