package bus

import "context"

// The optional interfaces below are implemented by the values behind bus
// targets: a cluster's worker and a service. Megane's cluster engine and
// service registry look for them; the bus itself calls neither. They are
// declared here, in the layer that both the cluster and the service
// packages import, so that each is declared once. A target that takes
// commands implements [Handler] (for example by holding a [Mux]).

// StatsProvider is implemented by a worker or a service that adds figures
// to its stats (the Custom map of its cluster's or service's stats). Stats
// runs on the target's mailbox goroutine, like its [Handler], and only
// while the cluster or service is ready; for a worker that is concurrently
// with its event listeners, so it must be safe for that. A panic in it is
// logged with its stack, is not a crash, and leaves that snapshot without
// Custom figures. The map must be JSON-encodable and must not be modified
// after it is returned; numeric and boolean values are exported to
// Prometheus.
type StatsProvider interface {
	Stats() map[string]any
}

// AllClustersReadyHandler is implemented by a worker or a service that wants
// to know when every cluster of the process became ready for the first
// time. AllClustersReady must respect ctx and return promptly.
//
//   - A worker gets it once per Manager run, on the Manager's goroutine,
//     concurrently with its listeners; after a re-shard, the workers of the
//     new shard set get it once more when they take over.
//   - A service gets it at most once per registration, after the clusters
//     are ready and after its first Ready, whichever comes last,
//     concurrently with Serve; a panic in it is recovered and logged.
type AllClustersReadyHandler interface {
	AllClustersReady(ctx context.Context)
}
