package megane

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/collector"
	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/internal/fleet"
	"github.com/megane-go/megane/internal/shardplan"
	"github.com/megane-go/megane/shard"
)

// Errors of the Manager. The fatal gateway errors are the shard package's
// sentinels (shard.ErrInvalidToken, shard.ErrDisallowedIntents, ...):
// errors.Is(err, shard.ErrInvalidToken) matches a close 4004 from any
// shard as well as a 401 from GET /gateway/bot.
var (
	// ErrNoCluster is matched by *NoClusterError: no cluster has that ID.
	ErrNoCluster = errors.New("megane: no such cluster")
	// ErrNotRunning is returned by cluster operations before Run has
	// planned the clusters, or after it returned.
	ErrNotRunning = fleet.ErrNotRunning
	// ErrAlreadyRunning is returned by Run when it was called before.
	ErrAlreadyRunning = errors.New("megane: manager already ran")
	// ErrNoWorker is returned by New without WithWorker.
	ErrNoWorker = errors.New("megane: no worker factory (WithWorker)")
	// ErrMalformedToken is matched by New's error for a token that is not
	// a bot token: it must start with the base64 application ID and hold
	// no space or control character. The error says which, and never
	// holds the token.
	ErrMalformedToken = errors.New("megane: malformed bot token")
	// ErrEmptyToken is returned by New for an empty token (or one of
	// spaces only): most often the variable it was read from, such as
	// DISCORD_TOKEN, is unset. It matches ErrMalformedToken too.
	ErrEmptyToken error = &emptyTokenError{}
)

// Manager runs a bot's shards in clusters: the entry point of Megane.
//
// Build it with [New], then call [Manager.Run], which blocks until its
// context ends. While it runs, Restart, RestartAll, RollingRestart,
// Reshard, Clusters and ClusterOf may be called from any goroutine. A
// Manager runs once and must not be copied.
//
// Its state has one owner. While Run runs, the goroutine that called Run
// owns the shard sets: which clusters serve, the plan (and so guild
// routing), the re-shard in progress and the bot's readiness; the other
// methods send it commands or read the snapshot it publishes, and so never
// see a half-made change. What New sets never changes. Two things stand
// apart: the lifecycle events, delivered in order from every goroutine
// through one lock held only for a delivery, and the store and service
// registry, made once on first use.
//
// The Manager owns what the clusters and services share: one message bus
// ([Manager.Bus]; a guild's owner resolves through the shard plan), one
// central store ([Manager.Store]), the services ([WithService],
// [Manager.AddService]) and the stats ([Manager.Stats],
// [Manager.PrometheusCollector]). Cross-cluster fetches
// ([cluster.FetchGuild] and the others) go through the bus.
type Manager struct {
	token string
	cfg   config
	log   *slog.Logger

	feed    feed        // the lifecycle events, in order
	running atomic.Bool // Run or Close was called

	// fleet runs the shard sets while Run runs (nil before and after); its
	// one goroutine owns the clusters, the plan and the re-shards.
	fleet atomic.Pointer[fleet.Fleet]

	bus  *bus.Bus              // routes by guild through plan
	col  *collector.Collector  // run by Run
	hist *collector.Histograms // handler, REST and identify wait times (metrics.go)

	parts sharedParts // the store and the service registry, made on first use

	progress startup                     // the start of the newest shard set, for the progress events and metrics
	budget   atomic.Pointer[budgetWatch] // while Run runs; see notify.go
	st       statusState                 // what the status surface reads (status.go)
	maint    maintenance                 // the whole bot's maintenance setting (SetMaintenance)
}

// New validates the token and the options and returns a Manager. It does
// no I/O. A missing worker factory gives ErrNoWorker, an empty token
// ErrEmptyToken, a malformed one ErrMalformedToken, and an option value it
// cannot use (a negative count, a nil option, ...) an *OptionError
// matching ErrInvalidOption; see each option for what it accepts. The
// first call installs the fast JSON engine for the whole process, unless
// [UseStdJSON] was called before it.
func New(token string, opts ...Option) (*Manager, error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, &OptionError{Option: fmt.Sprintf("New option %d", i), Reason: "nil"}
		}
		o(&cfg)
	}
	if cfg.worker == nil {
		return nil, ErrNoWorker
	}
	if err := checkToken(token); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.worker = checkedFactory(cfg.worker)
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	installFastJSON()
	m := &Manager{
		token: token,
		cfg:   cfg,
		log:   cfg.logger,
		feed:  feed{handler: cfg.eventHandler(), ch: make(chan cluster.Event, cfg.eventBuffer)},
	}
	if err := validateServices(cfg.services); err != nil {
		return nil, err
	}
	m.bus = bus.New(append([]bus.Option{bus.WithLogger(m.log), bus.WithGuildResolver(m.resolveGuild)}, cfg.busOpts...)...)
	m.col = m.newCollector()
	m.hist = collector.NewHistograms()
	return m, nil
}

// String describes the Manager by its shard and cluster counts. Printing a
// *Manager with fmt (%v, %+v, %s, %#v) or slog shows only this: never the
// token it holds, nor its internals (which reading unlocked would race).
func (m *Manager) String() string {
	shards, clusters := m.counts()
	return fmt.Sprintf("megane.Manager(%d shards, %d clusters)", shards, clusters)
}

// GoString implements fmt.GoStringer for %#v, with the same redaction as
// String.
func (m *Manager) GoString() string { return m.String() }

// LogValue implements slog.LogValuer: the shard and cluster counts.
func (m *Manager) LogValue() slog.Value {
	shards, clusters := m.counts()
	return slog.GroupValue(slog.Int("shards", shards), slog.Int("clusters", clusters))
}

// counts returns the planned shard count and the running cluster count.
func (m *Manager) counts() (shards, clusters int) {
	v := m.view()
	return v.Plan.Count, len(v.Clusters)
}

// view returns the running fleet's state, or an empty View (Running
// false) outside Run.
func (m *Manager) view() *fleet.View {
	if f := m.fleet.Load(); f != nil {
		return f.View()
	}
	return &fleet.View{}
}

// Close releases what New started (the store's janitor goroutine) for a
// Manager that will never run. Run releases it itself when it returns, so
// Close is needed only when Run is not called; after Run has started it
// does nothing. A closed Manager cannot run (Run returns
// ErrAlreadyRunning). Close is idempotent.
func (m *Manager) Close() {
	if m.running.CompareAndSwap(false, true) {
		m.parts.closed.Store(true)
		m.parts.once.Do(func() {})
		if m.parts.store != nil {
			m.parts.store.Close()
		}
	}
}

// checkToken returns nil if token can be a bot token: it starts with the
// base64 of a snowflake, as every bot token does (disgo derives the
// application ID from it), and holds no space or control character. The
// error never holds the token.
func checkToken(token string) error {
	token = strings.TrimPrefix(token, "Bot ")
	if strings.TrimSpace(token) == "" {
		return ErrEmptyToken
	}
	if strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("%w: it holds a space or a control character (a newline read from a file?)", ErrMalformedToken)
	}
	first, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(first, "="))
	if err == nil {
		_, err = snowflake.Parse(string(raw))
	}
	if err != nil {
		return fmt.Errorf("%w: its first part is not the base64 of an application ID", ErrMalformedToken)
	}
	return nil
}

// emptyTokenError is ErrEmptyToken's type: it also matches
// ErrMalformedToken.
type emptyTokenError struct{}

func (*emptyTokenError) Error() string { return "megane: empty bot token (is DISCORD_TOKEN set?)" }

func (*emptyTokenError) Is(target error) bool { return target == ErrMalformedToken }

// Run gets GET /gateway/bot, plans the shards and clusters, builds one
// identify queue for the process, starts the services, the stats
// collector and every cluster's supervisor, and blocks until ctx ends. It
// then stops every cluster gracefully (every shard closed, every goroutine
// gone), then the services and the collector, closes the store and
// returns nil. When every cluster is ready for the first time, the
// workers' and the services' AllClustersReady are called.
//
// Run returns early with the first fatal error, after stopping the rest:
// a *GatewayError when GET /gateway/bot fails (after up to 3 retries of a
// 5xx, a 429 or a transport error) or its answer is unusable
// (ErrBadGatewayAnswer: nothing is dialled then), an invalid token (REST
// 401 or close 4004; errors.Is ErrInvalidToken), disallowed intents
// (ErrDisallowedIntents), ..., or a cluster that
// crashed more often than its restart policy allows (supervise's "too many
// restarts" wrapping the last crash). Sharding required (close 4011) is
// fatal only with WithAutoReshard(false), or when the re-shard it starts
// fails (then the error matches both ErrShardingRequired and
// ErrReshardFailed); see "Re-sharding" in the package doc. Run may be
// called once.
func (m *Manager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	stopStatus, err := m.serveStatus()
	if err != nil {
		return err
	}
	defer stopStatus()
	st, _, err := m.shared()
	if err != nil {
		return err
	}
	defer st.Close()
	restClient := m.newREST()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		restClient.Close(closeCtx)
	}()
	gb, err := m.gatewayBot(ctx, restClient)
	if err != nil {
		return err
	}
	plan, err := m.newPlan(gb)
	if err != nil {
		return err
	}
	maxConc := gb.SessionStartLimit.MaxConcurrency // at least 1 (gatewayBot)
	queue := shard.NewQueue(append([]shard.QueueOption{
		shard.WithMaxConcurrency(maxConc),
		shard.WithSessionStartLimit(gb.SessionStartLimit.Total, gb.SessionStartLimit.Remaining,
			time.Duration(gb.SessionStartLimit.ResetAfter)*time.Millisecond),
		shard.WithQueueLogger(m.log),
	}, m.cfg.queueOpts...)...)
	defer queue.Close()
	stopRunParts := m.startRunParts(ctx, queue, gb.SessionStartLimit.Total)
	defer stopRunParts()
	m.st.queue.Store(queue)
	defer m.st.queue.Store(nil)

	// The services and the stats start before the clusters and stop after
	// them, so that clusters can use services until their last moment.
	stopShared, err := m.startShared(ctx)
	if err != nil {
		return err
	}
	defer stopShared()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	rt := &runState{ctx: runCtx, rest: restClient, queue: queue, gatewayURL: gb.URL}
	f := fleet.New(m.fleetConfig(rt))
	m.fleet.Store(f)
	defer m.fleet.Store(nil)
	m.log.Info("starting clusters", slog.Int("shards", plan.Count), slog.Int("clusters", len(plan.Clusters)),
		slog.Int("max_concurrency", maxConc))

	var limitsWG sync.WaitGroup
	m.startProgress(runCtx, &limitsWG, queue, plan.Count)
	defer m.progress.setQueue(nil)
	limitsWG.Go(func() {
		m.refreshLimits(runCtx, rt, time.Duration(gb.SessionStartLimit.ResetAfter)*time.Millisecond)
	})
	err = f.Run(runCtx, plan)
	cancel()
	limitsWG.Wait()
	return err
}

// runState is what one Run shares with its fleet: the REST client, the one
// identify queue of the process and the gateway URL. It never changes.
type runState struct {
	ctx        context.Context // Run's
	rest       rest.Client
	queue      shard.Queue
	gatewayURL string
}

// fleetConfig is the configuration of Run's fleet.
func (m *Manager) fleetConfig(rt *runState) fleet.Config {
	opts := m.clusterOptions(rt.gatewayURL, rt.queue, rt.rest)
	return fleet.Config{
		Log: m.log,
		NewCluster: func(gen, id int, shardIDs []int, count int, standby bool) *engine.Cluster {
			return m.maint.newCluster(func(maint bool) *engine.Cluster {
				return engine.New(m.token, id, shardIDs, count, m.cfg.worker,
					slices.Concat(opts, []engine.Option{engine.WithGeneration(gen), engine.WithStandby(standby),
						m.handlerObserver(id)},
						m.maintenanceOptions(maint))...)
			})
		},
		Recommended: func(ctx context.Context) (shardplan.Plan, error) { return m.recommendedPlan(ctx, rt) },
		Doubled:     m.doubledPlan,
		ReshardError: func(oldShards, newShards int, err error) error {
			return &ReshardError{OldShards: oldShards, NewShards: newShards, Err: err}
		},
		Emit: m.emitOwn,
		AllReady: func(ctx context.Context) {
			if reg := m.madeRegistry(); reg != nil {
				reg.NotifyAllClustersReady(ctx)
			}
		},
		Forget:         func(id int) { m.bus.Forget(bus.Cluster(id)) },
		AutoReshard:    m.cfg.autoReshard,
		ReshardCheck:   m.cfg.reshardCheck,
		ReshardTimeout: m.cfg.reshardTimeout,
		ReadyTimeout:   m.cfg.readyTimeout,
	}
}

// newREST builds the Manager's one disgo REST client, shared by every
// cluster so that Discord's per-token rate limits are tracked in one place.
// (disgo's rate limiter starts a goroutine that never stops, so it must
// not be built per cluster restart either.)
func (m *Manager) newREST() rest.Client {
	opts := []rest.ClientConfigOpt{rest.WithLogger(m.log), rest.WithUserAgent(userAgent),
		rest.WithHTTPClient(m.restHTTPClient())}
	if m.cfg.apiURL != "" {
		opts = append(opts, rest.WithURL(m.cfg.apiURL))
	}
	return rest.NewClient(m.token, opts...)
}

// newPlan plans the shards and clusters from the options and /gateway/bot.
func (m *Manager) newPlan(gb *discord.GatewayBot) (shardplan.Plan, error) {
	var opts []shardplan.PlanOption
	if m.cfg.shards > 0 {
		opts = append(opts, shardplan.WithShardCount(m.cfg.shards))
	} else {
		opts = append(opts, m.autoPlanOptions(gb.Shards)...)
	}
	opts = append(opts, shardplan.WithClusters(m.cfg.clusters))
	plan, err := shardplan.NewPlan(opts...)
	if err != nil {
		return shardplan.Plan{}, fmt.Errorf("megane: plan shards: %w", err)
	}
	return plan, nil
}

// clusterOptions returns the options of every cluster.
func (m *Manager) clusterOptions(gatewayURL string, queue shard.Queue, rc rest.Client) []engine.Option {
	shardOpts := []shard.Option{}
	if len(m.cfg.intents) > 0 {
		shardOpts = append(shardOpts, shard.WithIntents(m.cfg.intents...))
	}
	if m.cfg.compression != "" {
		shardOpts = append(shardOpts, shard.WithCompression(m.cfg.compression))
	}
	shardOpts = append(shardOpts, m.cfg.shardOpts...)
	opts := []engine.Option{
		engine.WithAPIURL(m.cfg.apiURL),
		engine.WithGatewayURL(gatewayURL),
		engine.WithQueue(timedQueue{Queue: queue, h: m.hist.Identify}),
		engine.WithCaches(m.cfg.cacheFactory()),
		engine.WithClientOpts(m.cfg.clientOpts...),
		engine.WithShardOptions(shardOpts...),
		engine.WithLogger(m.log),
		engine.WithEventHook(m.onClusterEvent),
		engine.WithRestartPolicy(m.cfg.policy),
		engine.WithReadyTimeout(m.cfg.readyTimeout),
		engine.WithWatchdog(m.cfg.watchdog),
		engine.WithRestarter(m),
		engine.WithRESTClient(rc),
		engine.WithBus(m.bus),
		engine.WithStore(m.parts.store),
	}
	if m.cfg.dispatchBytes != nil {
		opts = append(opts, engine.WithDispatchBytes(*m.cfg.dispatchBytes))
	}
	return opts
}

// levelOf is the slog level of a Manager event.
func levelOf(e cluster.Event) slog.Level {
	switch e.Kind {
	case cluster.EventError:
		return slog.LevelError
	case cluster.EventReshardFailed:
		return slog.LevelWarn
	case cluster.EventRollingProgress:
		if e.Err != nil {
			return slog.LevelWarn
		}
	}
	return slog.LevelInfo
}
