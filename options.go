package megane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/bus"
	mcache "github.com/megane-go/megane/cache"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/wire"
	"github.com/megane-go/megane/notify"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/stats"
	"github.com/megane-go/megane/supervisor"
)

// AutoShards asks WithShards for the shard count that Discord recommends in
// GET /gateway/bot (scaled by WithGuildsPerShard when set).
const AutoShards = 0

// DefaultCacheFlags are the disgo caches every cluster's client keeps
// unless WithCacheFlags sets others: guilds, channels, roles and members,
// which the cross-cluster fetches (FetchGuild, FetchChannel, FetchUser)
// and the stats read. disgo's own default caches nothing. Messages are not
// cached by default; add cache.FlagMessages for WithMessages to find any.
const DefaultCacheFlags = cache.FlagGuilds | cache.FlagChannels | cache.FlagRoles | cache.FlagMembers

// config holds the Manager's settings. Build it with defaultConfig.
type config struct {
	cacheFlags        cache.Flags
	caches            func() cache.Caches
	disgoCache        bool
	worker            func() cluster.Worker
	shards            int
	clusters          int
	guildsPerShard    int
	guildsPerShardSet bool
	intents           []gateway.Intents
	clientOpts        []bot.ConfigOpt
	apiURL            string
	compression       gateway.CompressionType
	logger            *slog.Logger
	readyTimeout      time.Duration
	policy            supervisor.Policy
	watchdog          time.Duration
	handler           func(cluster.Event)
	notifier          *notify.Notifier // WithNotifier; see notify.go
	eventBuffer       int
	shardOpts         []shard.Option
	queueOpts         []shard.QueueOption
	dispatchBytes     *int64 // WithDispatchBytes; nil keeps the engine's 1 MiB
	services          []serviceSpec
	statsInterval     time.Duration
	statsHandler      func(stats.Snapshot)
	busOpts           []bus.Option
	autoReshard       bool
	reshardCheck      time.Duration
	reshardTimeout    time.Duration
	shardMultiple     int
	gatewayBackoff    time.Duration // first wait of GET /gateway/bot's retries; tests shorten it
	progressEvery     time.Duration // WithStartupProgress; 0 or less: off
	status            *statusConfig // WithStatusAddr; nil: no server

	maintenanceHandler func(*cluster.Cluster, bot.Event)
	maintenanceBuffer  int
}

// ErrInvalidOption is matched by every *OptionError: New was given an
// option value it cannot use.
var ErrInvalidOption = errors.New("megane: invalid option")

// OptionError is returned by New (and by the rolling restarts, for a
// RollOption) for an option value it cannot use. Option
// names the option, as in "WithShards(-2)"; Reason says what it accepts.
// It matches ErrInvalidOption. When several options are wrong, New joins
// one OptionError for each (errors.As finds the first).
type OptionError struct {
	Option string
	Reason string
}

// Error implements error.
func (e *OptionError) Error() string {
	return fmt.Sprintf("megane: invalid option %s: %s", e.Option, e.Reason)
}

// Unwrap returns ErrInvalidOption.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }

// maxGuildsPerShard is Discord's limit of guilds on one shard.
const maxGuildsPerShard = 2500

// validate checks the settings New cannot use. Every option with a
// documented meaning for zero or negative values (WithWatchdog,
// WithStatsInterval, WithReshardCheck, WithReshardTimeout, the restart
// policy's fields) is left to that meaning.
func (c *config) validate() error {
	var errs []error
	bad := func(format string, arg any, reason string) {
		errs = append(errs, &OptionError{Option: fmt.Sprintf(format, arg), Reason: reason})
	}
	if c.shards < 0 {
		bad("WithShards(%d)", c.shards, "want AutoShards (0) or a positive count")
	}
	if c.clusters < 0 {
		bad("WithClusters(%d)", c.clusters, "want 0 (GOMAXPROCS) or a positive count")
	}
	if c.guildsPerShardSet && (c.guildsPerShard < 1 || c.guildsPerShard > maxGuildsPerShard) {
		bad("WithGuildsPerShard(%d)", c.guildsPerShard, "want 1 to 2500 guilds a shard (Discord's limit)")
	}
	if c.shardMultiple < 0 {
		bad("WithShardMultiple(%d)", c.shardMultiple, "want 0 or 1 (off) or a positive multiple")
	}
	if c.maintenanceBuffer < 0 {
		bad("WithMaintenanceBuffer(%d)", c.maintenanceBuffer, "want 0 (the default) or a positive count")
	}
	if c.eventBuffer < 1 {
		bad("WithEventBuffer(%d)", c.eventBuffer, "want at least 1")
	}
	if c.readyTimeout <= 0 {
		bad("WithReadyTimeout(%s)", c.readyTimeout, "want a positive duration")
	}
	if wire.CheckCompression(c.compression) != nil {
		bad("WithCompression(%q)", string(c.compression),
			"want gateway.CompressionNone, gateway.CompressionZlibStream or gateway.CompressionZstdStream (zlib-payload is not supported)")
	}
	if c.apiURL != "" {
		if u, err := url.Parse(c.apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("WithAPIURL(%q)", c.apiURL, "want an http:// or https:// URL with a host, such as https://discord.com/api/v10")
		}
	}
	for _, o := range []struct {
		name string
		opts any
	}{
		{"WithClientOpts", c.clientOpts}, {"WithShardOptions", c.shardOpts},
		{"WithQueueOptions", c.queueOpts},
		{"WithBusOptions", c.busOpts},
	} {
		if hasNil(o.opts) {
			bad("%s", o.name, "a nil option")
		}
	}
	return errors.Join(errs...)
}

// hasNil reports whether the slice of functions opts holds a nil.
func hasNil(opts any) bool {
	v := reflect.ValueOf(opts)
	for i := range v.Len() {
		if v.Index(i).IsNil() {
			return true
		}
	}
	return false
}

// ErrNilWorker is the fatal error of a cluster whose worker factory
// (WithWorker) returned nil or a nil pointer: Run stops and returns it,
// instead of the cluster crashing on a nil pointer and restarting forever.
var ErrNilWorker = errors.New("megane: the worker factory (WithWorker) returned nil")

// checkedFactory wraps the worker factory: a nil (or nil pointer) result
// becomes a worker whose Launch fails fatally with ErrNilWorker. The
// factory is not called early: it may count its calls or fail later.
func checkedFactory(factory func() cluster.Worker) func() cluster.Worker {
	return func() cluster.Worker {
		w := factory()
		if w == nil {
			return nilWorker{}
		}
		if v := reflect.ValueOf(w); v.Kind() == reflect.Pointer && v.IsNil() {
			return nilWorker{}
		}
		return w
	}
}

// nilWorker stands in for a nil worker.
type nilWorker struct{}

// Launch fails fatally with ErrNilWorker.
func (nilWorker) Launch(context.Context, *cluster.Cluster) error {
	return supervisor.NoRestart(ErrNilWorker)
}

// serviceSpec is one WithService registration.
type serviceSpec struct {
	name string
	svc  service.Service
	opts []service.Option
}

func defaultConfig() config {
	return config{
		cacheFlags:     DefaultCacheFlags,
		shards:         AutoShards,
		logger:         slog.Default(),
		readyTimeout:   2 * time.Minute,
		policy:         supervisor.DefaultPolicy(),
		watchdog:       2 * time.Minute,
		eventBuffer:    256,
		statsInterval:  defaultStatsInterval,
		autoReshard:    true,
		reshardTimeout: DefaultReshardTimeout,
		gatewayBackoff: defaultGatewayBackoff,
		progressEvery:  DefaultStartupProgress,
	}
}

// Option configures a [Manager] in [New].
type Option func(*config)

// WithWorker sets the factory of the bot's worker. It is called for every
// start and restart of a cluster and must return a new value each time.
// Required. A nil result (or a nil pointer) is a fatal error of its
// cluster: Run stops and returns ErrNilWorker.
func WithWorker(factory func() cluster.Worker) Option {
	return func(c *config) { c.worker = factory }
}

// WithShards sets the total shard count, or AutoShards (the default) for
// Discord's recommendation. New rejects a negative n.
func WithShards(n int) Option { return func(c *config) { c.shards = n } }

// WithClusters sets how many clusters share the shards; 0 (the default)
// means runtime.GOMAXPROCS(0). There are never more clusters than shards.
// Shards are split contiguously and evenly; the first clusters take the
// leftovers. New rejects a negative n.
func WithClusters(n int) Option { return func(c *config) { c.clusters = n } }

// WithGuildsPerShard scales the automatic shard count: with g guilds per
// shard the count is ceil(recommended × 1000 / g).
// g must be 1 to 2500 (Discord's limit); New rejects other values.
func WithGuildsPerShard(g int) Option {
	return func(c *config) { c.guildsPerShard, c.guildsPerShardSet = g, true }
}

// WithIntents sets the gateway intents every shard identifies with.
func WithIntents(intents ...gateway.Intents) Option {
	return func(c *config) { c.intents = append(c.intents, intents...) }
}

// WithClientOpts adds disgo client options (listeners, member chunking,
// ...) to every cluster's client. Caches are not set here: the Manager
// hands every client its own caches (see WithCacheFlags, WithDisgoCache
// and WithCaches), which win over cache options given here.
func WithClientOpts(opts ...bot.ConfigOpt) Option {
	return func(c *config) { c.clientOpts = append(c.clientOpts, opts...) }
}

// WithCacheFlags sets what every cluster caches, replacing
// [DefaultCacheFlags]; 0 caches nothing. The fetches and the stats read
// only what is cached.
func WithCacheFlags(flags cache.Flags) Option { return func(c *config) { c.cacheFlags = flags } }

// WithDisgoCache gives each cluster disgo's default cache implementation
// instead of Megane's compact one (package
// github.com/megane-go/megane/cache), with the same flags. The compact
// caches return the same values and hold about half the heap per guild
// (bench/RESULTS.md), at the price of slower member reads: about 1 µs per
// member against disgo's 0.3 µs map lookup.
func WithDisgoCache() Option { return func(c *config) { c.disgoCache = true } }

// WithCaches sets the factory of every cluster's caches, overriding
// WithCacheFlags and WithDisgoCache. It is called once per cluster on its
// first start and on every full restart; resume and crash restarts keep
// the caches they had. Each call must return a new value; a nil result
// gives that client disgo's own default caches. A nil factory keeps
// WithCacheFlags.
func WithCaches(factory func() cache.Caches) Option { return func(c *config) { c.caches = factory } }

// cacheFactory is the caches each cluster's client gets: the user's
// factory, or compact (or disgo's) caches with the configured flags.
func (c *config) cacheFactory() func() cache.Caches {
	if c.caches != nil {
		return c.caches
	}
	flags := c.cacheFlags
	if c.disgoCache {
		return func() cache.Caches { return cache.New(cache.WithCaches(flags)) }
	}
	return func() cache.Caches { return mcache.New(mcache.WithConfigOpts(cache.WithCaches(flags))) }
}

// WithAPIURL sets the REST base URL (e.g. a fake Discord's APIURL or a
// proxy), with its API version: Discord's is https://discord.com/api/v10.
// The gateway URL then comes from its GET /gateway/bot, and nothing else:
// an answer without a ws:// or wss:// url fails Run (ErrBadGatewayAnswer)
// rather than fall back to Discord's gateway. Empty keeps Discord's.
func WithAPIURL(url string) Option { return func(c *config) { c.apiURL = url } }

// WithCompression sets the gateway transport compression: disgo's
// gateway.CompressionNone (the default), gateway.CompressionZlibStream or
// gateway.CompressionZstdStream. New rejects any other value,
// gateway.CompressionZlibPayload included, with an *OptionError.
func WithCompression(comp gateway.CompressionType) Option {
	return func(c *config) { c.compression = comp }
}

// WithLogger sets the logger; clusters add "cluster" and shards "shard"
// attributes. nil discards. The default is slog.Default(). The token never
// appears in a log line.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithReadyTimeout bounds each step of a cluster's start that waits on
// someone else, so that no start hangs: the worker's Launch (past it the
// start crashes with cluster.ErrLaunchTimeout), the gateway's HELLO and
// its READY or RESUMED after the IDENTIFY or RESUME was written (then
// shard.ErrReadyTimeout; the wait on the identify queue does not count),
// and, after READY, the guilds READY listed (then the shard counts as
// ready anyway). A failed start is retried with backoff, at most
// supervisor.Policy.MaxFailedStarts times in a row. Default two minutes. New
// rejects zero or a negative d.
func WithReadyTimeout(d time.Duration) Option { return func(c *config) { c.readyTimeout = d } }

// WithRestartPolicy sets the clusters' supervisor policy (backoff and
// restart cap); the default is [supervisor.DefaultPolicy]. Zero or
// out-of-range fields take the values the [supervisor.Policy] field docs
// name (a negative MinBackoff the default, a negative MaxRestarts no cap,
// ...).
func WithRestartPolicy(p supervisor.Policy) Option { return func(c *config) { c.policy = p } }

// WithWatchdog sets the watchdog timeout: a cluster whose dispatch makes no
// progress for d while events wait is restarted (resuming its sessions).
// Zero or negative disables it. Default two minutes.
func WithWatchdog(d time.Duration) Option { return func(c *config) { c.watchdog = d } }

// WithEventHandler sets a function that receives every lifecycle event, in
// order, one at a time (nil: none). It runs on internal goroutines while holding the
// event lock, so it must return quickly and must not call the Manager's
// blocking methods (Restart and the like).
func WithEventHandler(h func(cluster.Event)) Option { return func(c *config) { c.handler = h } }

// WithEventBuffer sets the capacity of the Events channel (default 256).
// New rejects n below 1.
func WithEventBuffer(n int) Option { return func(c *config) { c.eventBuffer = n } }

// WithShardOptions adds options to every shard (protocol times for tests,
// presence, dispatch buffer, ...). New rejects a nil option here and in
// the other option lists (WithClientOpts, WithQueueOptions,
// WithBusOptions).
func WithShardOptions(opts ...shard.Option) Option {
	return func(c *config) { c.shardOpts = append(c.shardOpts, opts...) }
}

// WithQueueOptions adds options to the process-wide identify queue (for
// example a scaled-down identify window in tests). The Manager sets the
// max concurrency and session start limit from GET /gateway/bot first.
func WithQueueOptions(opts ...shard.QueueOption) Option {
	return func(c *config) { c.queueOpts = append(c.queueOpts, opts...) }
}

// WithDispatchBytes bounds the data of the events waiting between each
// cluster's shards and the goroutine that hands them to its disgo client
// to about n bytes, counted as received (default 1 MiB, about 20
// GUILD_CREATEs of 100 members or 900 MESSAGE_CREATEs; 0 or less: only
// the queue's 64 batches bound it). When it is spent the shards' read
// loops wait (their heartbeats go on) and nothing is dropped. It bounds
// the memory a start, with every guild's GUILD_CREATE at once, or a burst
// of traffic adds; see "Memory" in the README.
func WithDispatchBytes(n int64) Option { return func(c *config) { c.dispatchBytes = &n } }

// WithService registers a service under name, to be started by Run
// (before the clusters) and supervised beside them: panics recovered,
// crashes restarted with backoff, restartable and stoppable by name. Its
// bus address is bus.Service(name). New fails with service.ErrDuplicate
// or service.ErrInvalidName for a taken or malformed name. Add services
// after New with [Manager.AddService].
func WithService(name string, svc service.Service, opts ...service.Option) Option {
	return func(c *config) {
		c.services = append(c.services, serviceSpec{name: name, svc: svc, opts: opts})
	}
}

// defaultStatsInterval is how often Run collects a stats snapshot unless
// WithStatsInterval says otherwise.
const defaultStatsInterval = 10 * time.Second

// WithStatsInterval sets how often Run collects a stats snapshot (default
// 10 s). Each collection waits at most the interval, but at least a second,
// for the workers' and services' custom figures. Values <= 0 keep the
// default.
func WithStatsInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.statsInterval = d
		}
	}
}

// WithStatsHandler sets a function (nil: none) called with every new stats
// snapshot (the statsUpdated event; a StatsUpdated lifecycle Event is sent
// too). It
// runs on the collecting goroutine, one snapshot at a time: it must return
// quickly, must not call Manager.Stats (it would wait for itself), and
// must treat the snapshot as read-only.
func WithStatsHandler(fn func(stats.Snapshot)) Option {
	return func(c *config) { c.statsHandler = fn }
}

// WithBusOptions adds options to the Manager's message bus (mailbox size,
// request timeout, fan-out). The Manager sets the guild resolver and the
// logger first.
func WithBusOptions(opts ...bus.Option) Option {
	return func(c *config) { c.busOpts = append(c.busOpts, opts...) }
}

// DefaultReshardTimeout is how long an automatic re-shard waits for the
// new shard set to become ready before giving up (WithReshardTimeout).
const DefaultReshardTimeout = 15 * time.Minute

// WithAutoReshard sets what a close 4011 (sharding required) does. On
// (the default), the Manager re-shards: it asks GET /gateway/bot for the
// count, starts the new shard set beside the old one and switches over
// once it is ready (see "Re-sharding" in the package doc); only when that
// fails does Run return the error. Off, a 4011 is fatal: Run stops and
// returns an error matching ErrShardingRequired.
func WithAutoReshard(on bool) Option { return func(c *config) { c.autoReshard = on } }

// WithReshardCheck makes Run ask GET /gateway/bot every interval and
// re-shard when the recommended count (scaled by WithGuildsPerShard and
// rounded by WithShardMultiple) is above the current one. A failed check
// or re-shard is logged and sent as an event, never fatal; the old set
// keeps serving, and since every try spends identifies, a count whose
// re-shard failed is not tried again until the recommendation changes.
// The check applies with WithShards too. Zero or negative (the default)
// disables it.
func WithReshardCheck(interval time.Duration) Option {
	return func(c *config) { c.reshardCheck = interval }
}

// WithReshardTimeout bounds how long a re-shard waits for every cluster of
// the new shard set to be ready (default DefaultReshardTimeout); after it
// the new set is stopped and the old one keeps serving. Identifying a big
// bot's shards takes about 5 s per max_concurrency shards, so keep it
// well above that. Zero or negative leaves only the caller's context.
func WithReshardTimeout(d time.Duration) Option {
	return func(c *config) { c.reshardTimeout = d }
}

// WithShardMultiple rounds every automatic shard count (AutoShards, and
// the counts re-shards take from GET /gateway/bot) up to a multiple of n,
// as large bots do with their max_concurrency (16 and up). 0 or 1 (the
// default) leaves counts as they are; New rejects a negative n. An
// explicit WithShards or Manager.Reshard count is used as given.
func WithShardMultiple(n int) Option { return func(c *config) { c.shardMultiple = n } }
