// Package cluster runs one group of a bot's shards as a supervised unit:
// one disgo bot.Client over our own shards (package shard), plus the
// user's Worker.
//
// # Life of a cluster
//
// [Cluster.Serve] hands the cluster to a supervisor (internal/supervise).
// Each attempt builds the shards and the client, makes a new Worker with
// the user's factory and calls its Launch, opens the shards through the
// process-wide identify queue, and becomes ready once every shard has its
// READY and the GUILD_CREATE of each guild READY listed (or RESUMED). It
// then runs until its context ends or it crashes.
//
// A crash is an error from Launch, a panic anywhere in the cluster's
// dispatch (including a listener: disgo would swallow it, we do not), a
// stalled dispatch seen by the watchdog, or a fatal shard error. The
// supervisor restarts a crashed cluster with exponential backoff; the
// restart resumes the sessions and keeps the cache. A fatal gateway error
// (invalid token, disallowed intents, ...) stops it for good and Serve
// returns it.
//
// # Restarts
//
// [RestartFull], [RestartResume] and [RestartWorker] say exactly what
// survives; see their docs. [Cluster.RestartAndWait] returns once the
// cluster is ready again.
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
// executor took, so a resume gets every other event replayed. A listener
// that never returns therefore holds only the executor's goroutine (which
// exits once it returns), never a shard or a restart.
//
// # Standby (re-sharding)
//
// A cluster built [WithStandby] runs its shards and fills its cache but
// launches no worker and stays off the bus until [Cluster.Activate]; the
// Manager uses it to start a new shard set beside the running one and
// switch over once it is ready. [Cluster.ReleaseBus] hands a cluster's bus
// address to its successor of the same ID. [WithGeneration] labels the
// events of each set.
//
// # Bus, store and cross-cluster calls
//
// A cluster answers bus messages at bus.Cluster(id) ([WithBus]; the Manager
// shares one bus over every cluster and service). Its mailbox is attached
// when an attempt becomes ready and detached when the attempt ends, so a
// request to a restarting cluster fails at once with bus.ErrTargetStopped,
// and a broadcast reports that cluster as stopped while the others answer.
// Once Serve has returned the address is forgotten (bus.ErrNoTarget). A
// worker-only reload keeps the mailbox attached; a command that arrives
// while the worker is being swapped fails with a *bus.HandlerError that
// matches bus.ErrTargetStopped. The
// mailbox is drained by one goroutine of the attempt: worker commands
// ([CommandHandler]), the worker's [StatsProvider], the fetch topics and
// bus.Eval closures (whose target is the *Cluster) run there one at a time.
// A panic in any of them does not crash the cluster: it is recovered on the
// mailbox goroutine, the requester gets a *bus.HandlerError that matches
// bus.ErrHandlerPanic and carries the stack, and the mailbox goes on with
// the next message (a fire-and-forget message's panic is logged instead).
//
// [FetchGuild], [FetchChannel], [FetchUser] and [FetchUsers] read another
// cluster's cache through the bus and return disgo's types; members and
// messages are left out unless asked for ([WithMembers], [WithMessages]).
package cluster
