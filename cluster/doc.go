// Package cluster is what a worker's author writes against: a [Worker]
// (with its optional interfaces [Shutdowner], [bus.Handler] for commands,
// [bus.StatsProvider] and [bus.AllClustersReadyHandler]), the [*Cluster]
// it runs in,
// the [RestartKind]s, the lifecycle [Event]s, and the cross-cluster fetch
// calls. A cluster is one group of a bot's shards under one disgo
// bot.Client; Megane's engine (internal, driven by a megane.Manager) runs
// it, supervises it and owns its state.
//
// # Life of a cluster
//
// The Manager hands each cluster to a supervisor of its own.
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
// restart resumes the sessions and keeps the cache (the backoff and the
// restart cap are a [supervisor.Policy]; a panic is kept with its stack as
// a [supervisor.PanicError]). A fatal gateway error (invalid token,
// disallowed intents, ...), or an error from Launch that wraps
// [supervisor.ErrNoRestart] (see [supervisor.NoRestart]), stops it for good
// and Manager.Run returns it. [Cluster.Status] says where the cluster is,
// as a [supervisor.State].
//
// # Restarts
//
// [RestartFull], [RestartResume] and [RestartWorker] say exactly what
// survives; see their docs. [Cluster.RestartAndWait] returns once the
// cluster is ready again.
//
// # Bus, store and cross-cluster calls
//
// A cluster answers bus messages at bus.Cluster(id) ([Cluster.Address]; the
// Manager shares one bus over every cluster and service). Its mailbox is attached
// when an attempt becomes ready and detached when the attempt ends, so a
// request to a restarting cluster fails at once with bus.ErrTargetStopped,
// and a broadcast reports that cluster as stopped while the others answer.
// Once the cluster has stopped the address is forgotten (bus.ErrNoTarget). A
// worker-only reload keeps the mailbox attached; a command that arrives
// while the worker is being swapped fails with a *bus.HandlerError that
// matches bus.ErrTargetStopped. The
// mailbox is drained by one goroutine of the attempt: worker commands
// (the worker's [bus.Handler]), the worker's [bus.StatsProvider], the fetch
// topics and bus.Eval functions (whose target is the *Cluster: take a
// *cluster.Cluster) run there one at a time.
// A panic in any of them does not crash the cluster: it is recovered on the
// mailbox goroutine, the requester gets a *bus.HandlerError that matches
// bus.ErrHandlerPanic and carries the stack, and the mailbox goes on with
// the next message (a fire-and-forget message's panic is logged instead).
//
// [FetchGuild], [FetchChannel], [FetchUser] and [FetchUsers] read another
// cluster's cache through the bus and return disgo's types; members and
// messages are left out unless asked for ([WithMembers], [WithMessages]).
package cluster
