package megane

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/megane-go/megane/cluster"
)

// family returns the gathered metric family name, or nil.
func family(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// sampleCount is the sum of the observations' counts of the histogram
// family name over its series whose labels include want.
func sampleCount(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) uint64 {
	t.Helper()
	var n uint64
	if mf := family(t, reg, name); mf != nil {
		for _, m := range mf.GetMetric() {
			if hasLabels(m, want) {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// TestManagerMetricsAtScrapeTime runs a Manager on the fake with a stats
// interval that never passes: its counters move between two scrapes all
// the same, the three histograms have observations (the listeners' time,
// GET /gateway/bot through the REST client, each shard's identify wait),
// the bus's mailboxes are there, megane_build_info is 1, and the whole
// export passes Prometheus's lint.
func TestManagerMetricsAtScrapeTime(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	tl := newTally()
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithShards(2), WithClusters(2),
		WithStatsInterval(time.Hour),
		WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }))...)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.PrometheusCollector())
	if got, ok := gauge(t, reg, "megane_build_info", nil); !ok || got != 1 {
		t.Fatalf("megane_build_info = %v (found %v), want 1", got, ok)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)

	shard0 := map[string]string{"cluster": "0", "shard": "0"}
	before, ok := gauge(t, reg, "megane_shard_events_total", shard0)
	if !ok || before == 0 {
		t.Fatalf("megane_shard_events_total%v = %v (found %v)", shard0, before, ok)
	}
	handled := sampleCount(t, reg, "megane_handler_duration_seconds", map[string]string{"cluster": "0"})
	if handled == 0 {
		t.Fatal("megane_handler_duration_seconds{cluster=0} has no observations")
	}
	tl.mu.Lock()
	msgs := tl.msgs[0]
	tl.mu.Unlock()
	if err := fake.Emit(0, 5); err != nil {
		t.Fatal(err)
	}
	tl.waitFor(t, "5 more messages on cluster 0", func(tl *tally) bool { return tl.msgs[0] >= msgs+5 })
	if after, _ := gauge(t, reg, "megane_shard_events_total", shard0); after < before+5 {
		t.Fatalf("megane_shard_events_total went from %v to %v, want 5 more without a collection", before, after)
	}
	if got := sampleCount(t, reg, "megane_handler_duration_seconds", map[string]string{"cluster": "0"}); got < handled+5 {
		t.Fatalf("handler observations went from %d to %d, want 5 more", handled, got)
	}
	// Run collected once when it started, and the hour has not passed.
	if latest, ok := m.LatestStats(); ok && latest.Seq != 1 {
		t.Fatalf("latest snapshot #%d, want #1: the scrapes must not collect", latest.Seq)
	}

	if n := sampleCount(t, reg, "megane_rest_request_duration_seconds", map[string]string{"method": "GET", "status": "2xx"}); n == 0 {
		t.Error("megane_rest_request_duration_seconds{GET,2xx} has no observations (GET /gateway/bot)")
	}
	if n := sampleCount(t, reg, "megane_identify_wait_seconds", nil); n < 2 {
		t.Errorf("megane_identify_wait_seconds: %d observations, want one per shard (2)", n)
	}
	for _, target := range []string{"cluster/0", "cluster/1"} {
		if _, ok := gauge(t, reg, "megane_bus_mailbox_depth", map[string]string{"kind": "cluster", "target": target}); !ok {
			t.Errorf("no megane_bus_mailbox_depth for %s", target)
		}
	}
	problems, err := testutil.CollectAndLint(m.PrometheusCollector())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
