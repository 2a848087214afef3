// Package collector is the Manager's stats machinery: it builds the
// [stats.Snapshot] values that users read, and exports them to Prometheus.
//
// Only the megane Manager builds a [Collector] (in collect.go). Users never
// see this package: they get snapshots from Manager.Stats,
// Manager.LatestStats, megane.RequestStats and the WithStatsHandler hook, and
// the exporter from Manager.PrometheusCollector.
//
// A Collector builds a snapshot every interval ([Collector.Run]) and on
// demand ([Collector.Collect]). It knows nothing about clusters or services:
// the figures come from a [ClusterSource] and a [ServiceSource] that the
// Manager implements. A cluster or a service that the source no longer
// reports is simply absent from the next snapshot; nothing is remembered for
// it except the previous event counters used to derive rates.
//
// Goroutines: New starts none. Run is the collector's one periodic
// goroutine; Manager.Run starts it (startShared in shared.go) and owns it, on
// the shared context that outlives the clusters, and waits for it to return.
// Collect runs on its caller's goroutine; collections are serialised.
// [Prometheus] starts none either: a scrape reads the sources
// ([Collector.Read]) on the scraping goroutine.
package collector
