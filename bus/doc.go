// Package bus is Megane's typed in-process message bus: the manager, the
// clusters and the services of one process talk through it with addresses,
// fire-and-forget sends, request/reply, broadcasts with partial results, and
// eval. It knows nothing about Discord.
//
// # Addresses
//
// An [Address] names the manager, cluster N, service NAME, all clusters, all
// services, or the cluster that owns a guild. Cluster 0 is an ordinary
// cluster everywhere; the zero Address, which names nobody, is not
// Cluster(0). Addresses are JSON-encodable ("cluster/0").
//
// # Mailboxes
//
// A target attaches a bounded [Mailbox] with [Bus.Attach] and drains it on its
// own goroutine with [Mailbox.Serve]; the bus starts no goroutine per message,
// and handlers of one target run one at a time in arrival order. A restarting
// target calls [Mailbox.Detach] and later attaches again; a removed one is
// dropped with [Bus.Forget]. Messages to a detached target fail with
// [ErrTargetStopped], messages to an unknown one with [ErrNoTarget].
//
// # When a mailbox is full
//
// A mailbox holds [WithMailboxSize] messages (256 by default; [WithCapacity]
// per mailbox). When it is full:
//
//   - [Bus.Send] never blocks. It fails at once with [ErrMailboxFull], the
//     message is dropped, and the mailbox's Stats().Full counts it.
//   - [Request], [Broadcast], [Eval] and [EvalFunc] wait for room until their
//     context ends. Then they fail with an error that matches both
//     [ErrMailboxFull] and the context's error, the message was never
//     delivered, and Stats().Full counts it. If the target detaches while
//     they wait, they fail with [ErrTargetStopped].
//
// So [ErrMailboxFull] always means "not delivered", while [ErrTimeout] means
// "delivered, but no reply before the deadline".
//
// # Handlers
//
// A target's [Handler] gets every message sent to it. A [Mux] is the usual
// one: typed functions registered per topic with [Handle], which get the
// payload as the sender's value in-process or decoded from its JSON form
// (as a message from another host would carry it). Megane's cluster
// workers and services take commands this way, and may also implement
// [StatsProvider] and [AllClustersReadyHandler], declared here once for
// both.
//
// # Requests and replies
//
// Each request carries its own reply channel with room for exactly one reply,
// so a handler that finishes after its requester has given up never blocks,
// and a request whose context has ended before its handler starts is skipped.
// A request whose context has no deadline gets the bus's [WithRequestTimeout]
// (30 s by default). Replies are typed: [Request] checks the reply's type and
// returns a [*TypeError] on a mismatch. A handler's error reaches the
// requester as a [*HandlerError] carrying its message, and unwraps to the
// original error in-process. A handler that panics does not stop its
// mailbox or its target: the panic is recovered on the Serve goroutine and
// the requester gets a [*HandlerError] with the panic value and its stack,
// matching [ErrHandlerPanic] (a fire-and-forget message's panic is logged).
// A handler that requests its own target with its own ctx (say, a broadcast
// to all clusters from a cluster's handler) gets the nested request run
// inline rather than a deadlock.
//
// # Broadcast and eval
//
// [Broadcast], [Eval] and [EvalFunc] address every member of a group
// concurrently and return one [Result] per target,
// sorted by address. They never fail as a whole because one target is
// detached, full or failing: that target's Result carries the error.
// An eval function takes its target typed (a cluster's is its
// *cluster.Cluster); a target of another type gets a [*TypeError].
// Closures given to [Eval] are in-process only; functions registered with
// [RegisterFunc] take a JSON argument carried in an envelope, so they can
// cross hosts once a networked transport exists. Routing sits behind an
// internal transport seam for that purpose. Eval never runs source text:
// it runs a closure of this process or a function registered by name, and
// an unregistered name fails with [ErrUnknownFunc] on the sender's side
// and on the target's.
package bus
