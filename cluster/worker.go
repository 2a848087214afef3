package cluster

import "context"

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
// A worker may also implement [Shutdowner], [bus.StatsProvider] and
// [bus.AllClustersReadyHandler], and take commands by implementing
// [bus.Handler], for example by embedding a [bus.Mux] on which Launch
// registers typed functions with [bus.Handle] (commands reach a worker only
// once its Launch has returned). Every message to the
// cluster's address bus.Cluster(id) whose topic does not start with
// [ReservedTopicPrefix] (those are Megane's) goes to the worker's
// HandleMessage. It runs on the cluster's mailbox goroutine, one message at
// a time (with evals and Stats), concurrently with the worker's listeners,
// and only while the cluster is ready. A panic in it does not crash the
// cluster: the requester gets a *bus.HandlerError matching
// bus.ErrHandlerPanic, with the stack, and the cluster keeps serving.
type Worker interface {
	Launch(ctx context.Context, c *Cluster) error
}

// WorkerFunc adapts a function to a [Worker].
type WorkerFunc func(ctx context.Context, c *Cluster) error

// Launch calls f(ctx, c).
func (f WorkerFunc) Launch(ctx context.Context, c *Cluster) error { return f(ctx, c) }

// Shutdowner is implemented by a worker that must clean up when its
// incarnation ends (any restart kind, or shutdown). Shutdown runs after
// dispatch to the worker has stopped; ctx carries the shutdown timeout
// (10 s). Its error is logged, not treated as a crash.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Compile-time checks that the adapters satisfy the interfaces.
var _ Worker = WorkerFunc(nil)
