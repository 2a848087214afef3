package stats

import (
	"cmp"
	"slices"
	"time"
)

// Snapshot is one collection of every figure Megane tracks.
//
// A Snapshot from the megane Manager (Manager.Stats, Manager.LatestStats,
// the WithStatsHandler hook) is shared with every other reader: treat it,
// its slices and its Custom maps as read-only. The zero value is an empty
// snapshot.
type Snapshot struct {
	// Time is when the collection finished.
	Time time.Time `json:"time"`
	// Seq numbers the snapshots of one Manager, starting at 1.
	Seq uint64 `json:"seq"`
	// Manager holds the process-wide runtime figures.
	Manager ManagerStats `json:"manager"`
	// Clusters is sorted by ID. A cluster that no longer exists is
	// absent.
	Clusters []ClusterStats `json:"clusters"`
	// Services is sorted by Name. A service that no longer exists is
	// absent.
	Services []ServiceStats `json:"services"`
	// Totals sums the clusters, shards and services above.
	Totals Totals `json:"totals"`
}

// ManagerStats holds the process-wide runtime figures of one snapshot.
type ManagerStats struct {
	// Uptime is the time since the Manager was made by megane.New.
	Uptime time.Duration `json:"uptime_ns"`
	// Goroutines is runtime.NumGoroutine().
	Goroutines int `json:"goroutines"`
	// GOMAXPROCS is runtime.GOMAXPROCS(0).
	GOMAXPROCS int `json:"gomaxprocs"`
	// HeapAlloc is the bytes of allocated heap objects.
	HeapAlloc uint64 `json:"heap_alloc"`
	// HeapInuse is the bytes in in-use heap spans.
	HeapInuse uint64 `json:"heap_inuse"`
	// HeapObjects is the number of allocated heap objects.
	HeapObjects uint64 `json:"heap_objects"`
	// Sys is the total bytes of memory obtained from the OS.
	Sys uint64 `json:"sys"`
	// GCPauseTotal is the cumulative stop-the-world pause time since the
	// process started.
	GCPauseTotal time.Duration `json:"gc_pause_total_ns"`
	// NumGC is the number of completed GC cycles since the process started.
	NumGC uint32 `json:"num_gc"`
	// CPUUser and CPUSystem are the CPU time the process spent in user and
	// kernel mode since the previous snapshot (for the first snapshot: since
	// the Manager was made).
	CPUUser   time.Duration `json:"cpu_user_ns"`
	CPUSystem time.Duration `json:"cpu_system_ns"`
	// CPUUserTotal and CPUSystemTotal are the cumulative CPU times since the
	// process started.
	CPUUserTotal   time.Duration `json:"cpu_user_total_ns"`
	CPUSystemTotal time.Duration `json:"cpu_system_total_ns"`
	// CPUPercent is (CPUUser+CPUSystem) over the wall time since the previous
	// snapshot, in percent of one core (200 means two busy cores).
	CPUPercent float64 `json:"cpu_percent"`
	// CPUSource says where the CPU figures come from: "getrusage" (exact user
	// and system split) or "runtime/metrics" (the Go runtime's estimate,
	// which puts everything in user time).
	CPUSource string `json:"cpu_source"`
}

// ClusterStats describes one cluster. Its Shards are sorted by ID.
type ClusterStats struct {
	// ID is the cluster's ID. Cluster 0 is an ordinary cluster.
	ID int `json:"id"`
	// State is the cluster's supervisor state as text, e.g. "ready".
	State string `json:"state"`
	// Ready reports whether the cluster is serving (counted in
	// Totals.ClustersReady).
	Ready bool `json:"ready"`
	// Guilds, Users, Channels and Members count the cluster's cache.
	Guilds   int `json:"guilds"`
	Users    int `json:"users"`
	Channels int `json:"channels"`
	Members  int `json:"members"`
	// Restarts counts the cluster's restarts since the manager started.
	Restarts int `json:"restarts"`
	// LastError is the text of the cluster's last crash, or "".
	LastError string `json:"last_error,omitempty"`
	// Custom holds what the cluster's worker adds. Values must be
	// JSON-encodable; numeric and boolean values (also inside nested
	// map[string]any, with keys joined by ".") are exported to Prometheus
	// as megane_custom{cluster,key}.
	Custom map[string]any `json:"custom,omitempty"`
	// Shards is sorted by ID.
	Shards []ShardStats `json:"shards"`
}

// ShardStats describes one gateway shard.
type ShardStats struct {
	// ID is the shard's ID.
	ID int `json:"id"`
	// Status is the shard's connection status as text, e.g. "ready".
	Status string `json:"status"`
	// Ready reports whether the shard is connected and has received READY
	// or RESUMED (counted in Totals.ShardsReady).
	Ready bool `json:"ready"`
	// Latency is the last heartbeat round trip.
	Latency time.Duration `json:"latency_ns"`
	// EventsPerSecond is the dispatch rate. When the shard does not report
	// one, the Manager derives it from Events and the previous snapshot.
	EventsPerSecond float64 `json:"events_per_second"`
	// Events counts the dispatches received. It and the other counters
	// below are the shard's history for the life of the Manager (every
	// restart and re-shard included), so they never go back.
	Events uint64 `json:"events"`
	// Resumes, Reconnects and Identifies count the shard's history.
	Resumes    uint64 `json:"resumes"`
	Reconnects uint64 `json:"reconnects"`
	Identifies uint64 `json:"identifies"`
	// QueueDepth is the number of dispatches waiting for the handler.
	QueueDepth int `json:"queue_depth"`
	// Dropped counts dispatches dropped (malformed or over the queue limit).
	Dropped uint64 `json:"dropped"`
}

// ServiceStats describes one service.
type ServiceStats struct {
	// Name is the service's name.
	Name string `json:"name"`
	// State is the service's supervisor state as text, e.g. "running".
	State string `json:"state"`
	// Ready reports whether the current run called Ready (exported as
	// megane_service_up and counted in Totals.ServicesReady).
	Ready bool `json:"ready"`
	// Restarts counts the service's restarts.
	Restarts int `json:"restarts"`
	// LastError is the text of the service's last crash, or "".
	LastError string `json:"last_error,omitempty"`
	// Custom holds what the service's Stats method adds; exported to
	// Prometheus like ClusterStats.Custom, as megane_service_custom.
	Custom map[string]any `json:"custom,omitempty"`
}

// Totals sums one snapshot's clusters, shards and services.
type Totals struct {
	Guilds          int     `json:"guilds"`
	Users           int     `json:"users"`
	Channels        int     `json:"channels"`
	Members         int     `json:"members"`
	Shards          int     `json:"shards"`
	ShardsReady     int     `json:"shards_ready"`
	Events          uint64  `json:"events"`
	EventsPerSecond float64 `json:"events_per_second"`
	Clusters        int     `json:"clusters"`
	ClustersReady   int     `json:"clusters_ready"`
	Services        int     `json:"services"`
	ServicesReady   int     `json:"services_ready"`
}

// Cluster returns the cluster with the given ID and whether it is present.
func (s *Snapshot) Cluster(id int) (ClusterStats, bool) {
	i, ok := slices.BinarySearchFunc(s.Clusters, id, func(c ClusterStats, id int) int { return cmp.Compare(c.ID, id) })
	if !ok {
		return ClusterStats{}, false
	}
	return s.Clusters[i], true
}

// Service returns the service with the given name and whether it is present.
func (s *Snapshot) Service(name string) (ServiceStats, bool) {
	i, ok := slices.BinarySearchFunc(s.Services, name, func(v ServiceStats, n string) int { return cmp.Compare(v.Name, n) })
	if !ok {
		return ServiceStats{}, false
	}
	return s.Services[i], true
}
