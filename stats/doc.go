// Package stats holds the typed snapshots of Megane's statistics: what a
// bot's author reads, logs, serves or graphs.
//
// A [Snapshot] holds:
//
//   - the manager's runtime figures: uptime, goroutines, heap, GC, and the CPU
//     time spent since the previous snapshot ([ManagerStats]);
//   - each cluster's state, guilds, users, channels, members, restarts and
//     whatever its worker adds ([ClusterStats]), with each of its shards'
//     status, latency, event rate, resumes and reconnects ([ShardStats]);
//   - each service's state and whatever it adds ([ServiceStats]);
//   - the totals over all of them ([Totals]).
//
// # Where snapshots come from
//
// The megane Manager collects them; this package only describes them.
//
//   - Manager.Stats(ctx) collects one now; Manager.LatestStats returns the
//     latest, which Manager.Run collects every WithStatsInterval (10 s by
//     default).
//   - megane.RequestStats(ctx, bus) asks the Manager for a fresh one over the
//     bus: the path for a cluster's worker or a service.
//   - megane.WithStatsHandler(fn) calls fn with every new one.
//   - Manager.PrometheusCollector returns a prometheus.Collector that exports
//     the latest one.
//
// A snapshot the Manager hands out is shared with every other reader: treat
// it, its slices and its Custom maps as read-only. Clusters are sorted by ID,
// each cluster's shards by ID, services by name; a cluster or service that
// no longer exists is absent. [Snapshot.Cluster] and [Snapshot.Service] look
// one up.
//
// # JSON
//
// Snapshots are JSON-encodable with stable snake_case field names (the
// struct tags are the contract). Durations encode as integer nanoseconds and
// their JSON names end in _ns (uptime_ns, latency_ns, cpu_user_ns, ...).
// last_error and custom are omitted when empty. Custom values must be
// JSON-encodable; a snapshot decoded from JSON holds its Custom numbers as
// float64.
//
// # Prometheus
//
// Manager.PrometheusCollector exports the same figures under stable names,
// so dashboards and alerts may rely on them (labels in braces; every
// *_total is a counter, every *_seconds without _total a histogram or a
// gauge as marked, the rest gauges):
//
//	megane_build_info{version, goversion} (always 1)
//	megane_uptime_seconds
//	megane_clusters, megane_clusters_ready, megane_shards, megane_shards_ready
//	megane_cluster_up, megane_cluster_guilds, megane_cluster_users,
//	megane_cluster_channels, megane_cluster_members,
//	megane_cluster_restarts_total, all {cluster}
//	megane_shard_latency_seconds (gauge), megane_shard_events_total,
//	megane_shard_resumes_total,
//	megane_shard_reconnects_total, megane_shard_identifies_total,
//	megane_shard_queue_depth, megane_shard_dropped_total, all {cluster, shard}
//	megane_shard_status{cluster, shard, status}
//	megane_service_up{service}, megane_service_restarts_total{service}
//	megane_custom{cluster, key}, megane_service_custom{service, key}
//	megane_handler_duration_seconds{cluster} (histogram)
//	megane_rest_request_duration_seconds{method, status} (histogram)
//	megane_identify_wait_seconds (histogram)
//	megane_identify_queue_depth, megane_session_starts_remaining
//	megane_bus_mailbox_depth{kind, target}, megane_bus_mailbox_capacity{kind, target}
//	megane_bus_dropped_total{kind, target, reason}
//
// Every figure is read at scrape time (a scrape waits at most 2 s for the
// clusters and their workers), not taken from the last snapshot, and a
// scrape neither makes a snapshot nor waits for one. Counters never go
// down, across restarts and re-shards. The Go runtime's and the process's
// figures (goroutines, heap, GC, CPU) come from the standard
// collectors.NewGoCollector and collectors.NewProcessCollector, which the
// Manager does not register for you. Only numeric and boolean Custom values
// are exported (nested map[string]any keys are joined with "."); NaN and
// infinite values are skipped, and label values that are not valid UTF-8
// have their invalid bytes replaced by U+FFFD.
package stats
