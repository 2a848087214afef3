// Package engine runs clusters: the supervised attempt that builds a
// cluster's shards and disgo client, the executor that feeds them to the
// worker, restarts, standby for re-sharding and the watchdog. The public
// face of an engine [Cluster] is its [Cluster.Handle], a *cluster.Cluster;
// package cluster documents the behaviour a worker sees. Only the root
// package (the Manager) imports this one.
//
// [Cluster.Serve] hands the cluster to a supervisor (internal/supervise)
// and makes the calling goroutine the owner of the cluster's state: callers
// and attempts send it commands, and reads load a snapshot it publishes
// (see [Cluster]).
//
// # Dispatch
//
// The shards hand their dispatches to one executor goroutine per attempt
// through a queue bounded in batches ([WithDispatchBuffer]) and in bytes of
// event data ([WithDispatchBytes]); when it is full they wait, so
// backpressure reaches the shards' own bounded queues and nothing is
// dropped. The executor feeds the disgo client, whose one permanent listener
// (ours) forwards each event to the listeners of the current worker
// incarnation. A worker-only reload swaps that incarnation on the executor
// itself, so the events that arrive meanwhile wait in the queues and go to
// the new worker.
//
// When an attempt ends, the executor is abandoned: it takes no more
// events, and each shard's saved sequence number is the last one the
// executor took in the shard's current session (0 when the shard
// identified again and the executor never took that session's READY), so
// a resume gets every other event replayed. A listener
// that never returns therefore holds only the executor's goroutine (which
// exits once it returns), never a shard or a restart.
//
// # Maintenance
//
// [Cluster.SetMaintenance] flips a switch that the executor reads once per
// batch, never per event. While it is on, the executor still hands every
// event to the disgo client (the cache, the readiness and the counters
// move on), but the forwarder puts the worker's bot events into a bounded
// hold buffer ([WithMaintenanceBuffer]; the oldest go first when it is
// full) or gives them to the maintenance handler
// ([WithMaintenanceHandler]). A held event's sequence number is not
// counted as delivered until the listeners have it, so a resume restart
// in maintenance gets the held events replayed and holds them again. When
// the switch goes off, the executor delivers the held events at the start
// of its next batch, before the batch's own. Off, maintenance costs that
// one atomic load per batch and one plain field read per event.
//
// # Standby (re-sharding)
//
// A cluster built [WithStandby] runs its shards and fills its cache but
// launches no worker and stays off the bus until [Cluster.Activate]; the
// Manager uses it to start a new shard set beside the running one and
// switch over once it is ready. [Cluster.ReleaseBus] hands a cluster's bus
// address to its successor of the same ID. [WithGeneration] labels the
// events of each set.
package engine
