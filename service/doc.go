// Package service runs services: plain Go structs that live beside the
// clusters of a Megane bot, each supervised on its own.
//
// A service is any value with a Serve method (see [Service]). Serve follows
// suture's contract: it blocks until its context ends, calls
// [Context.Ready] once it is ready, and returns an error to crash. A service
// may also implement [bus.Handler] (commands from clusters, through the bus at
// address bus.Service(name); typically a [bus.Mux] of typed [bus.Handle]
// functions), [bus.StatsProvider] (figures added to the stats) and
// [bus.AllClustersReadyHandler].
//
// The Manager runs the services of one process: register them with
// megane.WithService (or Manager.AddService, before or while Run serves),
// each with its [Option]s; Manager.RestartService and StopService act on
// them by name, and Manager.Services reports their [Info]. Each service
// runs as a supervised unit: a panic is recovered with its stack
// ([supervisor.PanicError]), a crash restarts it with exponential backoff
// ([supervisor.Policy]), and too many crashes in a window stop it
// ([supervisor.StateFailed]) without stopping the others.
//
// # Commands and the bus
//
// A service's address is bus.Service(name); a command to it is a
// bus.Request (or bus.Send, bus.Broadcast) to that address, with the
// command's name as the topic. Its reply is typed: the requester asks for
// the exact type the service's function returns. From its registration
// until Manager.Run starts the services, requests to it fail with
// bus.ErrTargetStopped (retry later). Whenever a service is started (by
// Run, before it starts the clusters; by AddService while Run serves; by
// RestartService of a stopped service) the mailbox of its first run is
// attached at once (before AddService or RestartService returns), so a
// command sent from then on is queued. A run drains its mailbox only once
// it has called Ready, so commands sent meanwhile wait
// (bounded by the mailbox's capacity and the requester's deadline) and are
// never handled by a service that is not ready. When the run ends (a crash,
// a restart, the ready timeout) the mailbox is detached: requests waiting in it
// and requests sent until the next run attaches fail at once with
// bus.ErrTargetStopped. That is deliberate: a crashed service may wait out
// a backoff of up to 30 s or fail for good, and a requester is better told
// at once so it can retry or give up on its own terms. When the service
// is removed with Manager.StopService, its address is forgotten and
// requests fail with bus.ErrNoTarget.
//
// HandleMessage, Stats, and functions evaluated on the service with bus.Eval
// (whose target is the service's own value) all run on the run's one mailbox goroutine, one at a time, so they need no
// locking among themselves; they do run concurrently with Serve. A panic in
// any of them does not crash the run: the mailbox recovers it, the
// requester gets a *bus.HandlerError that matches bus.ErrHandlerPanic and
// carries the stack, and the service keeps serving (a panic in Stats is
// logged and leaves that snapshot without Custom figures).
package service
