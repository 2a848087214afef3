package cluster

import (
	"context"
	"log/slog"

	"github.com/disgoorg/disgo/bot"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/clusterlink"
	"github.com/megane-go/megane/store"
	"github.com/megane-go/megane/supervisor"
)

// Cluster is one cluster as its worker sees it: a group of shards under
// one disgo client, run by Megane's engine, which owns all of its state.
// Every (re)start of the cluster hands the new [Worker] the same *Cluster;
// its methods read the engine and are safe for concurrent use. A Cluster
// is made only by Megane (a [megane.Manager] makes one per cluster of each
// shard plan); the zero value is not usable.
type Cluster struct{ e engine }

// engine is what a Cluster reads: the engine's cluster implements it.
type engine interface {
	ID() int
	ShardIDs() []int
	ShardCount() int
	Generation() int
	Logger() *slog.Logger
	Client() *bot.Client
	AddEventListeners(listeners ...bot.EventListener)
	RemoveEventListeners(listeners ...bot.EventListener)
	Bus() *bus.Bus
	Store() *store.Store
	Address() bus.Address
	Status() supervisor.State
	Restarts() int
	Crashes() int
	LastError() error
	Ready() <-chan struct{}
	WaitReady(ctx context.Context) error
	RestartAndWait(ctx context.Context, kind RestartKind) error
	RestartCluster(ctx context.Context, id int, kind RestartKind) error
	Stats(ctx context.Context) Stats
	Worker() Worker
	Done() <-chan struct{}
	String() string
	GoString() string
	LogValue() slog.Value
}

func init() {
	clusterlink.Wrap = func(e any) any { return &Cluster{e: e.(engine)} }
}

// ID returns the cluster's ID (0-based; 0 is an ordinary cluster).
func (c *Cluster) ID() int { return c.e.ID() }

// ShardIDs returns a copy of the IDs of the shards this cluster runs.
func (c *Cluster) ShardIDs() []int { return c.e.ShardIDs() }

// Generation returns the number of the shard plan this cluster belongs to:
// 0 for the plan Run starts with, one more for each re-shard.
func (c *Cluster) Generation() int { return c.e.Generation() }

// ShardCount returns the total shard count of the bot.
func (c *Cluster) ShardCount() int { return c.e.ShardCount() }

// Logger returns the cluster's logger, which carries the "cluster"
// attribute.
func (c *Cluster) Logger() *slog.Logger { return c.e.Logger() }

// Client returns the disgo client of the current attempt, or nil between
// attempts. A full or resume restart replaces the client, so do not keep it
// across restarts: listeners get theirs from the event (e.Client()), and a
// worker gets it in Launch.
func (c *Cluster) Client() *bot.Client { return c.e.Client() }

// AddEventListeners registers listeners for the current worker
// incarnation (during Launch: the one being launched). They receive every
// event of the cluster's client until the incarnation ends, in order, on
// the cluster's one dispatch goroutine. A panic in a listener crashes the
// cluster (it is restarted with backoff); disgo would only log it.
func (c *Cluster) AddEventListeners(listeners ...bot.EventListener) {
	c.e.AddEventListeners(listeners...)
}

// RemoveEventListeners removes listeners of the current incarnation.
func (c *Cluster) RemoveEventListeners(listeners ...bot.EventListener) {
	c.e.RemoveEventListeners(listeners...)
}

// Bus returns the message bus the cluster's mailbox is attached to, the
// Manager's; it is never nil. The cluster's own address is
// [Cluster.Address]. To call another cluster or a service, use the bus
// package with it, for example:
//
//	n, err := bus.Request[int](ctx, c.Bus(), c.Address(), bus.Service("counter"), "incr", 1)
//	res := bus.Broadcast[string](ctx, c.Bus(), c.Address(), bus.AllClusters(), "ping", nil)
//
// or the typed fetch calls:
//
//	g, err := cluster.FetchGuild(ctx, c.Bus(), c.Address(), guildID)
func (c *Cluster) Bus() *bus.Bus { return c.e.Bus() }

// Store returns the central store shared by the process. Values in it are shared, not copied.
func (c *Cluster) Store() *store.Store { return c.e.Store() }

// Address returns the cluster's bus address, bus.Cluster(ID()).
func (c *Cluster) Address() bus.Address { return c.e.Address() }

// Status returns the cluster's state. It never blocks. A cluster reports
// [supervisor.StateStarting] until every shard is ready, then
// [supervisor.StateReady], and [supervisor.StateReloading] while a
// worker-only reload runs; it never reports [supervisor.StateRunning].
func (c *Cluster) Status() supervisor.State { return c.e.Status() }

// Restarts returns how many attempts started after the first, for any
// reason. Worker-only reloads are not counted.
func (c *Cluster) Restarts() int { return c.e.Restarts() }

// Crashes returns how many attempts ended with an error or a panic.
func (c *Cluster) Crashes() int { return c.e.Crashes() }

// LastError returns the most recent crash or fatal error, or nil.
func (c *Cluster) LastError() error { return c.e.LastError() }

// Ready returns a channel that is closed while the cluster is ready. It is
// replaced when the cluster stops being ready, so take it again after a
// restart.
func (c *Cluster) Ready() <-chan struct{} { return c.e.Ready() }

// WaitReady blocks until the cluster is ready, ctx ends, or the cluster
// stops ([ErrStopped]).
func (c *Cluster) WaitReady(ctx context.Context) error { return c.e.WaitReady(ctx) }

// RestartAndWait restarts this cluster with the given kind and returns once
// it is ready again, or ctx ends, or the cluster stops ([ErrStopped]). It must
// not be called from this cluster's own listeners (use RestartCluster with
// its own ID there, which only schedules the restart).
func (c *Cluster) RestartAndWait(ctx context.Context, kind RestartKind) error {
	return c.e.RestartAndWait(ctx, kind)
}

// RestartCluster restarts cluster id with the given kind. For another
// cluster it asks the Manager and returns once that cluster is ready
// again. For its own cluster it only schedules the restart and
// returns at once, because a listener that waited for its own cluster's
// restart would wait for itself; watch the events, or use the Manager, to
// learn when it is done. [ErrRestartPending] means earlier requests are still
// queued.
func (c *Cluster) RestartCluster(ctx context.Context, id int, kind RestartKind) error {
	return c.e.RestartCluster(ctx, id, kind)
}

// Stats returns the cluster's figures. The worker's Stats method is asked
// through the cluster's mailbox (so it runs on the mailbox goroutine, one
// message at a time with commands; a panic in it is logged at error level
// with its stack, and Custom stays nil); ctx bounds that wait. Everything
// else is read directly and never blocks for long. Counting Users costs one
// pass over the member cache.
// Stats is safe for concurrent use.
func (c *Cluster) Stats(ctx context.Context) Stats { return c.e.Stats(ctx) }

// Worker returns the current incarnation's worker, or nil.
func (c *Cluster) Worker() Worker { return c.e.Worker() }

// Done returns a channel closed once Serve has returned.
func (c *Cluster) Done() <-chan struct{} { return c.e.Done() }

// String describes the cluster as "cluster ID (shards [...] of COUNT)".
// Printing a *Cluster with fmt (%v, %+v, %s) or slog shows only this: the
// token it holds never reaches a log line or panic message that way.
func (c *Cluster) String() string { return c.e.String() }

// GoString implements fmt.GoStringer for %#v, with the same redaction as
// String.
func (c *Cluster) GoString() string { return c.e.GoString() }

// LogValue implements slog.LogValuer: the cluster's id, shard ids and
// shard count.
func (c *Cluster) LogValue() slog.Value { return c.e.LogValue() }
