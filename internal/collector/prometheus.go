package collector

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names exported by Prometheus. They are stable: dashboards and
// alerts may rely on them, and package stats' doc lists them.
const (
	metricUptime          = "megane_uptime_seconds"
	metricGoroutines      = "megane_goroutines"
	metricHeap            = "megane_heap_bytes"
	metricHeapInuse       = "megane_heap_inuse_bytes"
	metricSys             = "megane_sys_bytes"
	metricGCPause         = "megane_gc_pause_seconds_total"
	metricGCCycles        = "megane_gc_cycles_total"
	metricCPU             = "megane_cpu_seconds_total"
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
	metricShardEventRate  = "megane_shard_events_per_second"
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

// promScrapeTimeout bounds the one collection a scrape triggers when no
// snapshot exists yet.
const promScrapeTimeout = 5 * time.Second

type promDescs struct {
	uptime, goroutines, heap, heapInuse, sys, gcPause, gcCycles, cpu                    *prometheus.Desc
	clusters, clustersReady, shards, shardsReady                                        *prometheus.Desc
	clusterUp, guilds, users, channels, members, clusterRestarts                        *prometheus.Desc
	latency, events, eventRate, status, resumes, reconnects, identifies, queue, dropped *prometheus.Desc
	serviceUp, serviceRestarts, custom, serviceCustom                                   *prometheus.Desc
}

func newPromDescs() promDescs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	cl, sh := []string{"cluster"}, []string{"cluster", "shard"}
	return promDescs{
		uptime:          d(metricUptime, "Time since the manager started."),
		goroutines:      d(metricGoroutines, "Number of goroutines in the process."),
		heap:            d(metricHeap, "Bytes of allocated heap objects."),
		heapInuse:       d(metricHeapInuse, "Bytes in in-use heap spans."),
		sys:             d(metricSys, "Bytes of memory obtained from the OS."),
		gcPause:         d(metricGCPause, "Cumulative GC stop-the-world pause time."),
		gcCycles:        d(metricGCCycles, "Completed GC cycles."),
		cpu:             d(metricCPU, "CPU time spent by the process.", "mode"),
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
		eventRate:       d(metricShardEventRate, "Dispatch events per second over the last interval.", sh...),
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
	c *Collector
	d promDescs
}

var _ prometheus.Collector = (*promCollector)(nil)

// Prometheus returns a prometheus.Collector that exports c's latest
// snapshot; Manager.PrometheusCollector hands it to users. The metric names
// are stable, so dashboards and alerts may rely on them; users find them in
// package stats' doc, which must list every one (TestPrometheusNamesDocumented
// checks it).
//
// A scrape does not trigger a collection (run c.Run for fresh figures),
// except when c has no snapshot yet: then it collects once, bounded by 5 s.
// Describe and Collect are consistent: every metric belongs to a fixed
// descriptor with fixed label names. Only numeric and boolean Custom values
// are exported (nested map[string]any keys are joined with "."); NaN and
// infinite values are skipped. Label values that are not valid UTF-8 (a
// Custom key, a shard status) have their invalid bytes replaced by U+FFFD
// rather than failing the scrape.
func Prometheus(c *Collector) prometheus.Collector {
	return &promCollector{c: c, d: newPromDescs()}
}

// Describe sends every descriptor the collector can emit.
func (p *promCollector) Describe(ch chan<- *prometheus.Desc) {
	d := p.d
	for _, desc := range []*prometheus.Desc{
		d.uptime, d.goroutines, d.heap, d.heapInuse, d.sys, d.gcPause, d.gcCycles, d.cpu,
		d.clusters, d.clustersReady, d.shards, d.shardsReady,
		d.clusterUp, d.guilds, d.users, d.channels, d.members, d.clusterRestarts,
		d.latency, d.events, d.eventRate, d.status, d.resumes, d.reconnects, d.identifies, d.queue, d.dropped,
		d.serviceUp, d.serviceRestarts, d.custom, d.serviceCustom,
	} {
		ch <- desc
	}
}

// Collect sends the metrics of the latest snapshot.
func (p *promCollector) Collect(ch chan<- prometheus.Metric) {
	s, ok := p.c.Latest()
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), promScrapeTimeout)
		var err error
		s, err = p.c.Collect(ctx)
		cancel()
		if err != nil {
			return
		}
	}
	d := p.d
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(desc, prometheus.GaugeValue, v, labels)
	}
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(desc, prometheus.CounterValue, v, labels)
	}

	m := s.Manager
	gauge(d.uptime, m.Uptime.Seconds())
	gauge(d.goroutines, float64(m.Goroutines))
	gauge(d.heap, float64(m.HeapAlloc))
	gauge(d.heapInuse, float64(m.HeapInuse))
	gauge(d.sys, float64(m.Sys))
	counter(d.gcPause, m.GCPauseTotal.Seconds())
	counter(d.gcCycles, float64(m.NumGC))
	counter(d.cpu, m.CPUUserTotal.Seconds(), "user")
	counter(d.cpu, m.CPUSystemTotal.Seconds(), "system")

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
		counter(d.clusterRestarts, float64(c.Restarts), id)
		for _, sh := range c.Shards {
			sid := strconv.Itoa(sh.ID)
			gauge(d.latency, sh.Latency.Seconds(), id, sid)
			counter(d.events, float64(sh.Events), id, sid)
			gauge(d.eventRate, sh.EventsPerSecond, id, sid)
			status := validLabel(sh.Status)
			if status == "" {
				status = "unknown"
			}
			gauge(d.status, 1, id, sid, status)
			counter(d.resumes, float64(sh.Resumes), id, sid)
			counter(d.reconnects, float64(sh.Reconnects), id, sid)
			counter(d.identifies, float64(sh.Identifies), id, sid)
			gauge(d.queue, float64(sh.QueueDepth), id, sid)
			counter(d.dropped, float64(sh.Dropped), id, sid)
		}
		for _, kv := range numericFields(c.Custom) {
			gauge(d.custom, kv.value, id, kv.key)
		}
	}
	for _, sv := range s.Services {
		gauge(d.serviceUp, boolFloat(sv.Ready), sv.Name)
		counter(d.serviceRestarts, float64(sv.Restarts), sv.Name)
		for _, kv := range numericFields(sv.Custom) {
			gauge(d.serviceCustom, kv.value, sv.Name, kv.key)
		}
	}
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
