package collector

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names exported by Prometheus. They are stable: dashboards and
// alerts may rely on them, and package stats' doc lists them.
const (
	metricBuildInfo       = "megane_build_info"
	metricUptime          = "megane_uptime_seconds"
	metricClusters        = "megane_clusters"
	metricClustersReady   = "megane_clusters_ready"
	metricShards          = "megane_shards"
	metricShardsReady     = "megane_shards_ready"
	metricClusterUp       = "megane_cluster_up"
	metricClusterGuilds   = "megane_cluster_guilds"
	metricClusterUsers    = "megane_cluster_users"
	metricClusterChannels = "megane_cluster_channels"
	metricClusterMembers  = "megane_cluster_members"
	metricClusterRestarts = "megane_cluster_restarts_total"
	metricShardLatency    = "megane_shard_latency_seconds"
	metricShardEvents     = "megane_shard_events_total"
	metricShardStatus     = "megane_shard_status"
	metricShardResumes    = "megane_shard_resumes_total"
	metricShardReconnects = "megane_shard_reconnects_total"
	metricShardIdentifies = "megane_shard_identifies_total"
	metricShardQueueDepth = "megane_shard_queue_depth"
	metricShardDropped    = "megane_shard_dropped_total"
	metricServiceUp       = "megane_service_up"
	metricServiceRestarts = "megane_service_restarts_total"
	metricCustom          = "megane_custom"
	metricServiceCustom   = "megane_service_custom"
)

// ScrapeTimeout bounds what one scrape waits for the sources (the
// clusters' figures and their workers' Custom maps): a source that has not
// answered by then is exported without what it lacks.
const ScrapeTimeout = 2 * time.Second

type promDescs struct {
	buildInfo, uptime                                                        *prometheus.Desc
	clusters, clustersReady, shards, shardsReady                             *prometheus.Desc
	clusterUp, guilds, users, channels, members, clusterRestarts             *prometheus.Desc
	latency, events, status, resumes, reconnects, identifies, queue, dropped *prometheus.Desc
	serviceUp, serviceRestarts, custom, serviceCustom                        *prometheus.Desc
}

func newPromDescs() promDescs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	cl, sh := []string{"cluster"}, []string{"cluster", "shard"}
	return promDescs{
		buildInfo:       d(metricBuildInfo, "Always 1; the labels say which build runs.", "version", "goversion"),
		uptime:          d(metricUptime, "Time since the manager started."),
		clusters:        d(metricClusters, "Number of clusters."),
		clustersReady:   d(metricClustersReady, "Number of ready clusters."),
		shards:          d(metricShards, "Number of shards."),
		shardsReady:     d(metricShardsReady, "Number of ready shards."),
		clusterUp:       d(metricClusterUp, "1 if the cluster is ready, else 0.", cl...),
		guilds:          d(metricClusterGuilds, "Guilds in the cluster's cache.", cl...),
		users:           d(metricClusterUsers, "Users in the cluster's cache.", cl...),
		channels:        d(metricClusterChannels, "Channels in the cluster's cache.", cl...),
		members:         d(metricClusterMembers, "Members in the cluster's cache.", cl...),
		clusterRestarts: d(metricClusterRestarts, "Restarts of the cluster.", cl...),
		latency:         d(metricShardLatency, "Last heartbeat round trip of the shard.", sh...),
		events:          d(metricShardEvents, "Dispatch events received by the shard.", sh...),
		status:          d(metricShardStatus, "1 for the shard's current status.", "cluster", "shard", "status"),
		resumes:         d(metricShardResumes, "Session resumes of the shard.", sh...),
		reconnects:      d(metricShardReconnects, "Reconnects of the shard.", sh...),
		identifies:      d(metricShardIdentifies, "Identifies sent by the shard.", sh...),
		queue:           d(metricShardQueueDepth, "Dispatches waiting for the handler.", sh...),
		dropped:         d(metricShardDropped, "Dispatches dropped by the shard.", sh...),
		serviceUp:       d(metricServiceUp, "1 if the service is ready, else 0.", "service"),
		serviceRestarts: d(metricServiceRestarts, "Restarts of the service.", "service"),
		custom:          d(metricCustom, "Numeric figures added by a cluster's worker.", "cluster", "key"),
		serviceCustom:   d(metricServiceCustom, "Numeric figures added by a service.", "service", "key"),
	}
}

// promCollector adapts a Collector to prometheus.Collector.
type promCollector struct {
	c       *Collector
	d       promDescs
	version string // of the main module, for build_info
	goVer   string
	floor   counterFloor
}

var _ prometheus.Collector = (*promCollector)(nil)

// Prometheus returns a prometheus.Collector that exports c's sources' figures
// as they are at scrape time; Manager.PrometheusCollector hands it to
// users. The metric names are stable, so dashboards and alerts may rely on
// them; users find them in package stats' doc, which must list every one
// (TestPrometheusNamesDocumented checks it).
//
// Each scrape reads the sources through c.Read, bounded by ScrapeTimeout; it
// neither waits for nor changes c's periodic snapshots. The Go runtime's and
// the process's figures are not here: register collectors.NewGoCollector
// and collectors.NewProcessCollector beside it. Every *_total series is a
// counter that never goes down, even when its source starts again from
// zero (a cluster that a re-shard replaced reports 0 restarts): the
// exporter then adds the last value it exported to what follows.
//
// Describe and Collect are consistent: every metric belongs to a fixed
// descriptor with fixed label names. Only numeric and boolean Custom values
// are exported (nested map[string]any keys are joined with "."); NaN and
// infinite values are skipped. Label values that are not valid UTF-8 (a
// Custom key, a shard status) have their invalid bytes replaced by U+FFFD
// rather than failing the scrape.
func Prometheus(c *Collector) prometheus.Collector {
	p := &promCollector{c: c, d: newPromDescs(), version: "(devel)", goVer: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			p.version = v
		}
		if bi.GoVersion != "" {
			p.goVer = bi.GoVersion
		}
	}
	return p
}

// Describe sends every descriptor the collector can emit.
func (p *promCollector) Describe(ch chan<- *prometheus.Desc) {
	d := p.d
	for _, desc := range []*prometheus.Desc{
		d.buildInfo, d.uptime,
		d.clusters, d.clustersReady, d.shards, d.shardsReady,
		d.clusterUp, d.guilds, d.users, d.channels, d.members, d.clusterRestarts,
		d.latency, d.events, d.status, d.resumes, d.reconnects, d.identifies, d.queue, d.dropped,
		d.serviceUp, d.serviceRestarts, d.custom, d.serviceCustom,
	} {
		ch <- desc
	}
}

// Collect reads the sources and sends their metrics.
func (p *promCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	s := p.c.Read(ctx)
	cancel()
	d := p.d
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(desc, prometheus.GaugeValue, v, labels)
	}
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		for i, l := range labels {
			labels[i] = validLabel(l)
		}
		ch <- constMetric(desc, prometheus.CounterValue, p.floor.value(desc, v, labels), labels)
	}

	gauge(d.buildInfo, 1, p.version, p.goVer)
	gauge(d.uptime, s.Manager.Uptime.Seconds())

	t := s.Totals
	gauge(d.clusters, float64(t.Clusters))
	gauge(d.clustersReady, float64(t.ClustersReady))
	gauge(d.shards, float64(t.Shards))
	gauge(d.shardsReady, float64(t.ShardsReady))

	for _, c := range s.Clusters {
		id := strconv.Itoa(c.ID)
		gauge(d.clusterUp, boolFloat(c.Ready), id)
		gauge(d.guilds, float64(c.Guilds), id)
		gauge(d.users, float64(c.Users), id)
		gauge(d.channels, float64(c.Channels), id)
		gauge(d.members, float64(c.Members), id)
		counter(d.clusterRestarts, uint64(max(c.Restarts, 0)), id)
		for _, sh := range c.Shards {
			sid := strconv.Itoa(sh.ID)
			gauge(d.latency, sh.Latency.Seconds(), id, sid)
			counter(d.events, sh.Events, id, sid)
			status := validLabel(sh.Status)
			if status == "" {
				status = "unknown"
			}
			gauge(d.status, 1, id, sid, status)
			counter(d.resumes, sh.Resumes, id, sid)
			counter(d.reconnects, sh.Reconnects, id, sid)
			counter(d.identifies, sh.Identifies, id, sid)
			gauge(d.queue, float64(sh.QueueDepth), id, sid)
			counter(d.dropped, sh.Dropped, id, sid)
		}
		for _, kv := range numericFields(c.Custom) {
			gauge(d.custom, kv.value, id, kv.key)
		}
	}
	for _, sv := range s.Services {
		gauge(d.serviceUp, boolFloat(sv.Ready), sv.Name)
		counter(d.serviceRestarts, uint64(max(sv.Restarts, 0)), sv.Name)
		for _, kv := range numericFields(sv.Custom) {
			gauge(d.serviceCustom, kv.value, sv.Name, kv.key)
		}
	}
}

// counterFloor keeps the exported counters from going down. For each
// series it remembers the last value its source gave and an offset: when
// the source's value falls (the thing counted was rebuilt and counts from
// zero again), the last exported value becomes the offset. Series are
// never forgotten, so a counter whose cluster comes back (a re-shard back
// to more clusters) goes on from where it was; that costs one small entry
// per series ever exported.
type counterFloor struct {
	mu     sync.Mutex
	series map[counterKey]*floorState
}

type counterKey struct {
	desc   *prometheus.Desc
	labels string
}

type floorState struct{ last, offset uint64 }

// value returns the counter to export for a source value v of the series
// (desc, labels).
func (f *counterFloor) value(desc *prometheus.Desc, v uint64, labels []string) float64 {
	k := counterKey{desc, strings.Join(labels, "\xff")}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.series == nil {
		f.series = map[counterKey]*floorState{}
	}
	st := f.series[k]
	if st == nil {
		st = &floorState{}
		f.series[k] = st
	}
	if v < st.last {
		st.offset += st.last
	}
	st.last = v
	return float64(st.offset + v)
}

// constMetric builds one series. Label values come from sources and from
// workers' Custom maps, so they are made valid UTF-8 first (Prometheus
// rejects anything else); should the metric still be refused, the scrape
// gets an invalid metric carrying the error for this one series instead of
// a panic that would lose every series after it.
func constMetric(desc *prometheus.Desc, vt prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	for i, l := range labels {
		labels[i] = validLabel(l)
	}
	m, err := prometheus.NewConstMetric(desc, vt, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

// validLabel returns s with each run of invalid UTF-8 bytes replaced by
// U+FFFD, so that it is a valid Prometheus label value.
func validLabel(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type keyValue struct {
	key   string
	value float64
}

// numericFields flattens the numeric and boolean values of a Custom map,
// joining nested keys with ".", sorted by key; a key that appears twice after
// flattening keeps its first value.
func numericFields(m map[string]any) []keyValue {
	var out []keyValue
	seen := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			key := validLabel(k)
			if prefix != "" {
				key = prefix + "." + k
			}
			if nested, ok := m[k].(map[string]any); ok {
				walk(key, nested)
				continue
			}
			v, ok := toFloat(m[k])
			if !ok || seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, keyValue{key, v})
		}
	}
	walk("", m)
	slices.SortFunc(out, func(a, b keyValue) int { return cmp.Compare(a.key, b.key) })
	return out
}

// toFloat converts a numeric or boolean value; it reports false for other
// types and for NaN or infinities.
func toFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case uintptr:
		f = float64(x)
	case float32:
		f = float64(x)
	case float64:
		f = x
	case bool:
		f = boolFloat(x)
	case time.Duration:
		f = x.Seconds()
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return 0, false
		}
		f = n
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
