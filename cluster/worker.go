package cluster

import (
	"context"
	"encoding/json"
)

// Worker is the user's bot logic for one cluster. A new Worker value is made
// by the user's factory for every (re)start of a cluster, so a worker never
// sees the state of a previous incarnation unless it keeps it elsewhere.
//
// Launch is called once per incarnation, before the cluster's shards open
// (and, for a [RestartWorker] reload, while they stay open with dispatch
// paused). It registers listeners with [Cluster.AddEventListeners], starts
// whatever it needs, and returns. The disgo client is built (REST works)
// when Launch runs. ctx ends when this incarnation ends; goroutines started
// by the worker must stop on it. An error from Launch, or a panic, is a
// crash of the cluster: its supervisor restarts it with backoff.
//
// In a cluster started in standby by a re-shard, Launch
// runs only at the activation, on the dispatch goroutine, with the shards
// already ready and the cache full; the listeners it adds get every event
// from the next one on.
//
// A worker may also implement [CommandHandler], [StatsProvider],
// [Shutdowner] and [AllClustersReadyNotifiee].
type Worker interface {
	Launch(ctx context.Context, c *Cluster) error
}

// WorkerFunc adapts a function to a [Worker].
type WorkerFunc func(ctx context.Context, c *Cluster) error

// Launch calls f(ctx, c).
func (f WorkerFunc) Launch(ctx context.Context, c *Cluster) error { return f(ctx, c) }

// CommandHandler is implemented by a worker that answers named commands sent
// to its cluster through the bus (address bus.Cluster(id)): the message's
// topic is name, and its payload is passed as JSON (a json.RawMessage as
// is, anything else encoded with encoding/json). The result is the reply
// (a requester using bus.Request[Resp] must ask for its exact type) and
// must be JSON-encodable if it may cross hosts. Topics starting with
// [ReservedTopicPrefix] are Megane's and never reach the worker.
//
// HandleCommand runs on the cluster's mailbox goroutine, one message at a
// time (with evals and Stats), concurrently with the worker's listeners,
// and only while the cluster is ready. A panic in it does not crash the
// cluster: the requester gets a *bus.HandlerError matching
// bus.ErrHandlerPanic, with the stack, and the cluster keeps serving.
type CommandHandler interface {
	HandleCommand(ctx context.Context, name string, payload json.RawMessage) (any, error)
}

// StatsProvider is implemented by a worker that adds figures to its
// cluster's stats (stats.ClusterStats.Custom). Stats runs on the cluster's
// mailbox goroutine like HandleCommand, concurrently with the worker's
// listeners, so it must be safe for that; a panic in it is logged with its
// stack and leaves the cluster running, without Custom figures for that
// snapshot. The map must be JSON-encodable and not modified after it is
// returned; numeric and boolean values are exported to Prometheus.
type StatsProvider interface {
	Stats() map[string]any
}

// Shutdowner is implemented by a worker that must clean up when its
// incarnation ends (any restart kind, or shutdown). Shutdown runs after
// dispatch to the worker has stopped; ctx carries the shutdown timeout
// (10 s). Its error is logged, not treated as a crash.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// AllClustersReadyNotifiee is implemented by a worker that wants to know
// when every cluster of the process became ready for the first time.
// AllClustersReady is called once per Manager run, on the Manager's
// goroutine, concurrently with the worker's listeners; after a re-shard,
// the workers of the new shard set get it once more when they take over.
type AllClustersReadyNotifiee interface {
	AllClustersReady(ctx context.Context)
}

// Compile-time checks that the adapters satisfy the interfaces.
var _ Worker = WorkerFunc(nil)
