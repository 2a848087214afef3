package engine

import (
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/rest"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/store"
	"github.com/megane-go/megane/supervisor"
)

// config holds a Cluster's settings. Build it with defaultConfig.
type config struct {
	apiURL          string
	gatewayURL      string
	queue           shard.Queue
	clientOpts      []bot.ConfigOpt
	caches          func() cache.Caches
	shardOpts       []shard.Option
	logger          *slog.Logger
	hook            func(Event)
	policy          supervisor.Policy
	readyTimeout    time.Duration
	watchdog        time.Duration
	shutdownTimeout time.Duration
	drainTimeout    time.Duration
	dispatchBuffer  int
	dispatchBytes   int64
	restarter       Restarter
	rest            rest.Client
	bus             *bus.Bus
	store           *store.Store
	mailboxCapacity int
	generation      int
	standby         bool

	maintenance        bool
	maintenanceHandler func(*cluster.Cluster, bot.Event)
	maintenanceBuffer  int

	handlerTime Observer // see WithHandlerObserver
}

func defaultConfig() config {
	return config{
		logger:          slog.Default(),
		policy:          supervisor.DefaultPolicy(),
		readyTimeout:    2 * time.Minute,
		watchdog:        2 * time.Minute,
		shutdownTimeout: 10 * time.Second,
		drainTimeout:    10 * time.Second,
		dispatchBuffer:  64,
		dispatchBytes:   DefaultDispatchBytes,

		maintenanceBuffer: DefaultMaintenanceBuffer,
	}
}

func (c *config) apply(opts []Option) {
	for _, o := range opts {
		o(c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.maintenanceBuffer < 1 {
		c.maintenanceBuffer = DefaultMaintenanceBuffer
	}
	if c.dispatchBuffer < 1 {
		c.dispatchBuffer = 1
	}
	if c.shutdownTimeout <= 0 {
		c.shutdownTimeout = time.Millisecond
	}
	if c.drainTimeout <= 0 {
		c.drainTimeout = time.Millisecond
	}
}

// Option configures a [Cluster] in [New].
type Option func(*config)

// WithAPIURL sets the REST base URL of the cluster's disgo client (for a
// fake Discord or a proxy), e.g. discordtest's APIURL. Empty keeps disgo's
// default, Discord itself.
func WithAPIURL(url string) Option { return func(c *config) { c.apiURL = url } }

// WithGatewayURL sets the gateway URL the shards dial, as returned by
// GET /gateway/bot. Empty keeps the shard package's default.
func WithGatewayURL(url string) Option { return func(c *config) { c.gatewayURL = url } }

// WithQueue sets the identify queue shared by every shard of the process.
// Without it the shards of each attempt share a queue of their own (the
// shardset.Set default), which is only right for a single-cluster bot or
// a test.
func WithQueue(q shard.Queue) Option { return func(c *config) { c.queue = q } }

// WithClientOpts adds disgo client options (caches, member chunking, ...)
// to every client the cluster builds. The cluster adds its own shard
// manager, REST URL, logger and (for resume restarts) caches after these,
// so those four cannot be overridden here.
func WithClientOpts(opts ...bot.ConfigOpt) Option {
	return func(c *config) { c.clientOpts = append(c.clientOpts, opts...) }
}

// WithCaches sets the factory of the caches each new client gets: it is
// called on the first start and on every full restart, never on a resume
// restart or a crash restart, which keep the caches they had. The result
// wins over cache options given through WithClientOpts. nil leaves disgo's
// own cache construction (from WithClientOpts) in place.
func WithCaches(factory func() cache.Caches) Option {
	return func(c *config) { c.caches = factory }
}

// DefaultReadCoalescing is how long a cluster's shards let incoming data
// wait so that one wake-up reads every shard's frames
// (shard.WithReadCoalescing), unless WithShardOptions sets another period.
// At a gateway's paced traffic the CPU goes to waking up, not to decoding:
// on the 2-core benchmark machine one bare Go timer wake-up costs about
// 120 µs of CPU at a 5 ms period (pacedfloor's timer row), so fewer
// periods per second is what saves CPU. 20 ms against 5 ms, in paired quick
// benches: paced 10k/s 26.1 -> 20.1 CPU-µs per event (4.85x -> 6.25x plain
// disgo), 1k/s 84.5 -> 51.9 (2.55x -> 4.25x), full rate unchanged (see
// bench/RESULTS.md, "Read coalescing"). The cost is up to 20 ms more
// delivery latency per event, and up to 20 ms more in each heartbeat's
// measured latency. shard.WithReadCoalescing(0) turns it off.
const DefaultReadCoalescing = 20 * time.Millisecond

// WithShardOptions adds options to every shard the cluster builds
// (intents, compression, protocol times for tests). The cluster sets the
// URL, queue, logger, event hook and resume state after these.
func WithShardOptions(opts ...shard.Option) Option {
	return func(c *config) { c.shardOpts = append(c.shardOpts, opts...) }
}

// WithLogger sets the logger. The cluster adds the attribute "cluster".
// nil discards. The default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithEventHook sets a function that receives every lifecycle [Event] of
// the cluster. It is called from the cluster's internal goroutines (the
// supervisor, the shards' goroutines), possibly concurrently, so it must
// be safe for concurrent use, return quickly and never call the cluster's
// blocking methods. Several hooks run in the order given.
func WithEventHook(hook func(Event)) Option {
	return func(c *config) {
		if hook == nil {
			return
		}
		if prev := c.hook; prev != nil {
			c.hook = func(e Event) { prev(e); hook(e) }
			return
		}
		c.hook = hook
	}
}

// WithRestartPolicy sets the supervisor's backoff and restart cap. The
// default is 100ms to 30s, doubling with ±10% jitter; more than 5 crashes
// a minute, or more than 5 failed starts in a row, give up.
func WithRestartPolicy(p supervisor.Policy) Option { return func(c *config) { c.policy = p } }

// WithReadyTimeout bounds each step of a start that waits on someone
// else, so that no start hangs:
//   - the worker's Launch: if it has not returned, the attempt crashes
//     with cluster.ErrLaunchTimeout;
//   - the gateway's answers (shard.WithReadyTimeout): HELLO, and READY or
//     RESUMED after the IDENTIFY or RESUME was written; if one does not
//     come, the attempt crashes with an error matching
//     shard.ErrReadyTimeout (the wait on the identify queue does not count);
//   - after a shard's READY, the GUILD_CREATE of every guild READY listed as
//     unavailable: when it passes, the shard counts as ready anyway (a
//     warning is logged).
//
// A crashed start is retried with backoff, and the restart policy's
// MaxFailedStarts bounds how many in a row. Default two minutes; zero or
// less waits for Launch and the guilds forever (the shards keep their
// default, shard.DefaultReadyTimeout).
func WithReadyTimeout(d time.Duration) Option { return func(c *config) { c.readyTimeout = d } }

// WithWatchdog sets the watchdog timeout: when a cluster's dispatch makes
// no progress for d while events wait in its dispatch queue (behind a
// listener that does not return), the cluster is restarted (a crash,
// resumed like cluster.RestartResume: the waiting events are replayed to the next
// worker) and cluster.EventStalled is sent. Zero or negative disables the watchdog.
// Default two minutes; keep it well above the longest a listener may
// legitimately run.
func WithWatchdog(d time.Duration) Option { return func(c *config) { c.watchdog = d } }

// WithShutdownTimeout bounds a worker's Shutdown. Default 10s.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) { c.shutdownTimeout = d }
}

// WithDrainTimeout bounds how long the end of an incarnation waits for a
// listener that is still running. After it the listener's goroutine is
// abandoned (it exits as soon as the listener returns) and an error is
// logged. Default 10s.
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drainTimeout = d } }

// WithDispatchBuffer sets how many batches of events wait in the queue
// between the shards and the cluster's executor, which hands them to the
// disgo client (default 64). A batch is what one shard read in one go, at
// most 64 events. When the queue is full the shards' read loops wait
// (backpressure: they read nothing meanwhile, while their heartbeats go
// on); nothing is dropped while the cluster runs.
func WithDispatchBuffer(n int) Option { return func(c *config) { c.dispatchBuffer = n } }

// DefaultDispatchBytes is the default of [WithDispatchBytes]: 1 MiB, about
// 20 GUILD_CREATEs of 100 members (50 KiB each) or 900 MESSAGE_CREATEs
// (1.15 KB each), enough to keep the executor busy while the shards read
// on.
const DefaultDispatchBytes = 1 << 20

// WithDispatchBytes bounds the data of the events waiting in the queue
// between the shards and the executor (see [WithDispatchBuffer]) to about
// n bytes, counted as received (default [DefaultDispatchBytes]; 0 or less:
// only the batch count bounds the queue). Decoded events take about one
// to three times their size in the heap, and the garbage collector lets
// the heap grow to twice what is live, so this bounds the memory a start
// (every guild's GUILD_CREATE at once) or a burst of traffic adds. When
// it is spent the shards' read loops wait, as when the queue is full; a
// batch larger than n still goes through once the queue's data falls
// under n.
func WithDispatchBytes(n int64) Option { return func(c *config) { c.dispatchBytes = n } }

// WithRestarter sets how Cluster.RestartCluster reaches other clusters; the
// megane Manager sets itself.
func WithRestarter(r Restarter) Option { return func(c *config) { c.restarter = r } }

// WithRESTClient sets the disgo REST client that every attempt's client
// uses; the megane Manager shares one over all clusters, so that Discord's
// per-token rate limits are kept in one place. The caller closes it after
// Serve returns. Without it, Serve builds one (with WithAPIURL) and closes
// it when it returns. A REST client is never built per restart: disgo's
// rate limiter starts a goroutine that never stops.
func WithRESTClient(rc rest.Client) Option { return func(c *config) { c.rest = rc } }

// WithBus sets the message bus the cluster attaches its mailbox to (at
// bus.Cluster(id)); the megane Manager shares one over all clusters and
// services. Without it, New makes a private bus that only this cluster
// uses. Two clusters with one ID must not share a bus: the second Serve
// fails with bus.ErrAlreadyAttached.
func WithBus(b *bus.Bus) Option { return func(c *config) { c.bus = b } }

// WithStore sets the central store returned by [Cluster.Store]; the megane
// Manager shares one over all clusters and services. The cluster never
// closes it. Without it, Store returns nil.
func WithStore(st *store.Store) Option { return func(c *config) { c.store = st } }

// WithMailboxCapacity sets how many bus messages wait in the cluster's
// mailbox (default: the bus's mailbox size; values < 1 keep the default).
// See package bus for what happens when it is full.
func WithMailboxCapacity(n int) Option { return func(c *config) { c.mailboxCapacity = n } }

// WithGeneration sets the shard set the cluster belongs to: 0 for the
// first, one more for each re-shard. It only labels the cluster's events
// (Event.Generation) and [Cluster.Generation]; two clusters with one ID
// but different generations may run at once during a re-shard.
func WithGeneration(n int) Option { return func(c *config) { c.generation = n } }

// WithStandby starts the cluster in standby, the way a re-shard starts the
// new shard set beside the running one. A standby cluster connects and
// identifies its shards (through the same identify queue as any other),
// fills its client's cache from READY and GUILD_CREATE, and becomes ready,
// but it does not launch a worker and it stays off the bus: its dispatches
// update the cache and go no further, because the active set still
// delivers them. [Cluster.Activate] ends the standby: the worker is
// launched on the dispatch goroutine, so it gets every event from the next
// one on, and the mailbox attaches to the bus at bus.Cluster(id), which
// the cluster of the same ID in the old set must have released first
// ([Cluster.ReleaseBus]). Restarts of a standby cluster fail with
// ErrStandby; a crash restarts it in standby. [Cluster.Ready] and
// [Cluster.WaitReady] report readiness in standby too; [Cluster.Live]
// says when it went live.
func WithStandby(on bool) Option { return func(c *config) { c.standby = on } }
