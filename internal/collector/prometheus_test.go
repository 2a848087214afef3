package collector

import (
	"fmt"
	"go/parser"
	"go/token"
	"math"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/stats"
)

func promFixture(t *testing.T) (*fakeSource, *Collector) {
	t.Helper()
	src := &fakeSource{}
	src.set(twoClusters(), twoServices())
	c := New(WithClusters(src), WithServices(src))
	if _, err := c.Collect(t.Context()); err != nil {
		t.Fatal(err)
	}
	return src, c
}

func TestPrometheusOutput(t *testing.T) {
	t.Parallel()
	_, c := promFixture(t)
	pc := Prometheus(c)

	tests := []struct {
		name   string
		metric string
		want   string
	}{
		{
			name:   "cluster guilds",
			metric: metricClusterGuilds,
			want: `
# HELP megane_cluster_guilds Guilds in the cluster's cache.
# TYPE megane_cluster_guilds gauge
megane_cluster_guilds{cluster="0"} 10
megane_cluster_guilds{cluster="1"} 30
`,
		},
		{
			name:   "cluster restarts",
			metric: metricClusterRestarts,
			want: `
# HELP megane_cluster_restarts_total Restarts of the cluster.
# TYPE megane_cluster_restarts_total counter
megane_cluster_restarts_total{cluster="0"} 0
megane_cluster_restarts_total{cluster="1"} 2
`,
		},
		{
			name:   "shard events",
			metric: metricShardEvents,
			want: `
# HELP megane_shard_events_total Dispatch events received by the shard.
# TYPE megane_shard_events_total counter
megane_shard_events_total{cluster="0",shard="0"} 15
megane_shard_events_total{cluster="0",shard="1"} 10
megane_shard_events_total{cluster="1",shard="2"} 25
megane_shard_events_total{cluster="1",shard="3"} 50
`,
		},
		{
			name:   "shard latency",
			metric: metricShardLatency,
			want: `
# HELP megane_shard_latency_seconds Last heartbeat round trip of the shard.
# TYPE megane_shard_latency_seconds gauge
megane_shard_latency_seconds{cluster="0",shard="0"} 0
megane_shard_latency_seconds{cluster="0",shard="1"} 0
megane_shard_latency_seconds{cluster="1",shard="2"} 0
megane_shard_latency_seconds{cluster="1",shard="3"} 0.04
`,
		},
		{
			name:   "shard status",
			metric: metricShardStatus,
			want: `
# HELP megane_shard_status 1 for the shard's current status.
# TYPE megane_shard_status gauge
megane_shard_status{cluster="0",shard="0",status="ready"} 1
megane_shard_status{cluster="0",shard="1",status="ready"} 1
megane_shard_status{cluster="1",shard="2",status="resuming"} 1
megane_shard_status{cluster="1",shard="3",status="ready"} 1
`,
		},
		{
			name:   "service up",
			metric: metricServiceUp,
			want: `
# HELP megane_service_up 1 if the service is ready, else 0.
# TYPE megane_service_up gauge
megane_service_up{service="metrics"} 0
megane_service_up{service="twitch"} 1
`,
		},
		{
			name:   "custom worker fields (numeric only, nested flattened)",
			metric: metricCustom,
			want: `
# HELP megane_custom Numeric figures added by a cluster's worker.
# TYPE megane_custom gauge
megane_custom{cluster="1",key="queue.len"} 3
megane_custom{cluster="1",key="songs"} 7
`,
		},
		{
			name:   "service custom",
			metric: metricServiceCustom,
			want: `
# HELP megane_service_custom Numeric figures added by a service.
# TYPE megane_service_custom gauge
megane_service_custom{key="streams",service="twitch"} 4
`,
		},
		{
			name:   "ready shards",
			metric: metricShardsReady,
			want: `
# HELP megane_shards_ready Number of ready shards.
# TYPE megane_shards_ready gauge
megane_shards_ready 3
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := testutil.CollectAndCompare(pc, strings.NewReader(tt.want), tt.metric); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestPrometheusManagerMetrics(t *testing.T) {
	t.Parallel()
	_, c := promFixture(t)
	pc := Prometheus(c)
	for _, name := range []string{metricBuildInfo, metricUptime, metricClusters, metricClustersReady, metricShards} {
		if n := testutil.CollectAndCount(pc, name); n != 1 {
			t.Errorf("%s: %d series, want 1", name, n)
		}
	}
	// The Go runtime's and the process's figures are left to the standard
	// collectors (collectors.NewGoCollector, NewProcessCollector).
	for _, name := range []string{"megane_goroutines", "megane_heap_bytes", "megane_heap_inuse_bytes",
		"megane_sys_bytes", "megane_gc_pause_seconds_total", "megane_gc_cycles_total", "megane_cpu_seconds_total",
		"megane_shard_events_per_second"} {
		if n := testutil.CollectAndCount(pc, name); n != 0 {
			t.Errorf("%s: %d series, want none", name, n)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Prometheus(c))
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("pedantic gather (Describe/Collect consistency): %v", err)
	}
}

// TestPrometheusBuildInfo: megane_build_info is 1, labelled with the main
// module's version ("(devel)" in a test binary) and the Go version.
func TestPrometheusBuildInfo(t *testing.T) {
	t.Parallel()
	_, c := promFixture(t)
	want := fmt.Sprintf(`
# HELP megane_build_info Always 1; the labels say which build runs.
# TYPE megane_build_info gauge
megane_build_info{goversion=%q,version="(devel)"} 1
`, runtime.Version())
	if err := testutil.CollectAndCompare(Prometheus(c), strings.NewReader(want), metricBuildInfo); err != nil {
		t.Error(err)
	}
}

func TestPrometheusLint(t *testing.T) {
	t.Parallel()
	_, c := promFixture(t)
	problems, err := testutil.CollectAndLint(Prometheus(c))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestPrometheusNamesDocumented checks that package stats' doc lists every
// metric the exporter describes: the names are unexported, and users reach
// the exporter only through Manager.PrometheusCollector, so stats' doc is
// where a user finds them.
func TestPrometheusNamesDocumented(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "../../stats/doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	if doc == "" {
		t.Fatal("package stats has no doc comment")
	}
	_, c := promFixture(t)
	ch := make(chan *prometheus.Desc, 64)
	Prometheus(c).Describe(ch)
	Bus(bus.New()).Describe(ch)
	NewHistograms().Describe(ch)
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	n := 0
	for desc := range ch {
		m := fqName.FindStringSubmatch(desc.String())
		if m == nil {
			t.Fatalf("no name in %s", desc)
		}
		n++
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(m[1]) + `\b`).MatchString(doc) {
			t.Errorf("%s is not in package stats' doc comment", m[1])
		}
	}
	if n != 30 {
		t.Errorf("%d descriptors, want 30", n)
	}
}

func TestPrometheusRemovedClusterDisappears(t *testing.T) {
	t.Parallel()
	src, c := promFixture(t)
	pc := Prometheus(c)
	if n := testutil.CollectAndCount(pc, metricClusterGuilds); n != 2 {
		t.Fatalf("before: %d clusters", n)
	}
	src.set(twoClusters()[1:], nil)
	if _, err := c.Collect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(pc, metricClusterGuilds); n != 1 {
		t.Errorf("after removing cluster 1: %d cluster series, want 1", n)
	}
	if n := testutil.CollectAndCount(pc, metricServiceUp); n != 0 {
		t.Errorf("after removing services: %d service series, want 0", n)
	}
}

// TestPrometheusReadsAtScrapeTime: each scrape reads the sources, so a
// counter moves between two scrapes with no collection in between, and a
// scrape neither needs nor makes a snapshot.
func TestPrometheusReadsAtScrapeTime(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	cl := twoClusters()
	src.set(cl, nil)
	c := New(WithClusters(src), WithInterval(time.Hour))
	pc := Prometheus(c)
	events := func() float64 {
		t.Helper()
		return testutil.ToFloat64(onlySeries(pc, metricShardEvents, `"3"`))
	}
	if got := events(); got != 50 {
		t.Fatalf("first scrape: shard 3 events = %v, want 50", got)
	}
	cl = twoClusters()
	cl[0].Shards[0].Events = 80
	src.set(cl, nil)
	if got := events(); got != 80 {
		t.Fatalf("second scrape: shard 3 events = %v, want 80", got)
	}
	if _, ok := c.Latest(); ok {
		t.Error("a scrape stored a snapshot")
	}
}

// TestPrometheusCountersNeverGoDown: a source whose counter starts again
// from zero (a cluster that a re-shard replaced: its restarts count from 0)
// is exported as a counter that goes on from its last value.
func TestPrometheusCountersNeverGoDown(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	src.set(twoClusters(), nil)
	pc := Prometheus(New(WithClusters(src)))
	restarts := func() float64 {
		t.Helper()
		return testutil.ToFloat64(onlySeries(pc, metricClusterRestarts, `"1"`))
	}
	steps := []struct {
		source int
		want   float64
	}{{2, 2}, {0, 2}, {1, 3}, {4, 6}}
	for _, st := range steps {
		cl := twoClusters()
		cl[0].Restarts = st.source
		src.set(cl, nil)
		if got := restarts(); got != st.want {
			t.Fatalf("source %d: exported %v, want %v", st.source, got, st.want)
		}
	}
}

// onlySeries is a collector of the one series of pc named name whose
// label values include quoted (such as "3").
func onlySeries(pc prometheus.Collector, name, quoted string) prometheus.Collector {
	return prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		all := make(chan prometheus.Metric, 256)
		pc.Collect(all)
		close(all)
		for m := range all {
			if !strings.Contains(m.Desc().String(), `"`+name+`"`) {
				continue
			}
			var pb dto.Metric
			if err := m.Write(&pb); err != nil {
				continue
			}
			for _, lp := range pb.GetLabel() {
				if `"`+lp.GetValue()+`"` == quoted && lp.GetName() != "key" {
					ch <- m
					break
				}
			}
		}
	})
}

func TestNumericFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   map[string]any
		want []keyValue
	}{
		{"nil", nil, nil},
		{"types", map[string]any{
			"i": int(1), "i8": int8(-2), "u64": uint64(3), "f32": float32(0.5), "b": true, "off": false,
			"d": 1500 * time.Millisecond, "s": "text", "sl": []int{1}, "nan": math.NaN(), "inf": math.Inf(1),
		}, []keyValue{{"b", 1}, {"d", 1.5}, {"f32", 0.5}, {"i", 1}, {"i8", -2}, {"off", 0}, {"u64", 3}}},
		{"nested", map[string]any{"a": map[string]any{"b": 1, "c": map[string]any{"d": 2.5}}, "a.b": 9},
			[]keyValue{{"a.b", 1}, {"a.c.d", 2.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := numericFields(tt.in); !equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// A worker's Custom map is outside input: a key that is not valid UTF-8 (or a
// shard status that is not) must not abort the scrape. Before the fix,
// MustNewConstMetric panicked mid-Collect: every later series was lost and
// the registry turned the scrape into an error (HTTP 500 from promhttp). Now
// the label is made valid (invalid bytes become U+FFFD) and nothing is lost.
func TestPrometheusInvalidLabelValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(cl []stats.ClusterStats, sv []stats.ServiceStats)
		metric string // the family holding the repaired series
		label  string // its repaired label value
	}{
		{"cluster custom key", func(cl []stats.ClusterStats, _ []stats.ServiceStats) {
			cl[0].Custom = map[string]any{"ok": 1, "bad\xff": 2}
		}, metricCustom, "bad\uFFFD"},
		{"nested custom key", func(cl []stats.ClusterStats, _ []stats.ServiceStats) {
			cl[0].Custom = map[string]any{"q\xfe": map[string]any{"len": 3}}
		}, metricCustom, "q\uFFFD.len"},
		{"service custom key", func(_ []stats.ClusterStats, sv []stats.ServiceStats) {
			sv[0].Custom = map[string]any{"ok": 1, "bad\xff": 2}
		}, metricServiceCustom, "bad\uFFFD"},
		{"shard status", func(cl []stats.ClusterStats, _ []stats.ServiceStats) {
			cl[0].Shards[0].Status = "bad\xff"
		}, metricShardStatus, "bad\uFFFD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cl, sv := twoClusters(), twoServices()
			tc.mutate(cl, sv)
			src := &fakeSource{}
			src.set(cl, sv)
			c := New(WithClusters(src), WithServices(src))
			if _, err := c.Collect(t.Context()); err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(Prometheus(c))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatalf("Gather: %v", err)
			}
			got := map[string]int{}
			found := false
			for _, mf := range mfs {
				got[mf.GetName()] = len(mf.GetMetric())
				if mf.GetName() != tc.metric {
					continue
				}
				for _, m := range mf.GetMetric() {
					for _, lp := range m.GetLabel() {
						if lp.GetValue() == tc.label {
							found = true
						}
					}
				}
			}
			if got[metricClusterGuilds] != 2 || got[metricServiceUp] != 2 || got[metricShardStatus] != 4 {
				t.Errorf("series lost: %v", got)
			}
			if !found {
				t.Errorf("%s has no series labelled %q", tc.metric, tc.label)
			}
		})
	}
}
