// Package stats collects, aggregates and exports Megane's statistics.
//
// A [Collector] builds a typed [Snapshot] every interval ([Collector.Run])
// and on demand ([Collector.Collect]). A snapshot holds:
//
//   - the manager's runtime figures: uptime, goroutines, heap, GC, and the CPU
//     time spent since the previous snapshot ([ManagerStats]);
//   - each cluster's state, guilds, users, channels, members, restarts and
//     whatever its worker adds ([ClusterStats]), with each of its shards'
//     status, latency, event rate, resumes and reconnects ([ShardStats]);
//   - each service's state and whatever it adds ([ServiceStats]);
//   - the totals over all of them ([Totals]).
//
// The package knows nothing about clusters or services. The figures come
// from a [ClusterSource] and a [ServiceSource] that the caller (the megane
// Manager) implements. A cluster or a service that the source no longer
// reports is simply absent from the next snapshot; nothing is remembered for
// it except the previous event counters used to derive rates.
//
// [PrometheusCollector] exports the latest snapshot as Prometheus metrics with
// stable names (megane_*).
//
// Snapshots are JSON-encodable with stable field names. Durations encode as
// integer nanoseconds and their JSON names end in _ns.
package stats
