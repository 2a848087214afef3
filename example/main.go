// Command example is Megane's example bot.
//
// Its master part (runBot) creates a megane.Manager, follows its lifecycle
// events and logs the bot's progress (clusters and shards ready, guilds,
// events per second, restarts). Its cluster worker (pingBot) counts messages,
// answers !ping with "pong", with a per-user cooldown kept in the central
// store, and answers !stats with the bot's aggregated stats; both replies go
// out through Discord's REST API.
//
// Without a token it starts an embedded fake Discord (package discordtest:
// 16 shards, 2000 guilds, 50 dispatches per second per shard by default, one
// message in 50 a !ping or !stats command) and runs against it; the fake
// records the replies the bot posts:
//
//	go run ./example -duration 20s -json
//
// With DISCORD_TOKEN set it connects to Discord itself, with the intents
// guilds, guild messages and message content (a privileged intent: enable it
// in the developer portal). With -api-url it uses another Discord-compatible
// API, such as go run ./discordtest/cmd/fakediscord.
//
// Logs go to stderr. While shards start, the Manager logs their progress
// (shards ready, identifies waiting, ETA) every -progress; when stderr is a
// terminal, the example also draws it as a bar below the log lines. With
// -json the final summary is one JSON line on stdout.
// The token is never printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/status"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second Ctrl-C kills the process
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errBadFlag), errors.Is(err, errNoToken):
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run is the whole program: it parses args, runs the bot until ctx ends or
// -duration passes, and writes the summary. It returns nil after a normal
// stop (including Ctrl-C).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	return runBot(ctx, cfg, stdout, stderr, hooks{})
}

// hooks let the tests follow a run without waiting on the clock. Every field
// may be nil.
type hooks struct {
	fake      func(*discordtest.Server)    // the embedded fake, once started
	replied   func(replyKind, string)      // after each reply the REST API accepted, with its content (on a worker's reply goroutine)
	manager   func(*megane.Manager)        // the Manager, before Run
	metrics   func(addr string)            // the bound -metrics address
	allReady  func()                       // every cluster became ready
	event     func(total uint64)           // after each counted dispatch, with the total
	restarted func(context.Context, error) // after each periodic rolling restart, with its error; ctx ends at shutdown
}

// lockedWriter serialises writes from the bot's and the fake's log handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// intents are what the example bot identifies with. Message content is
// privileged: Discord closes with 4014 unless it is enabled for the bot.
var intents = []gateway.Intents{gateway.IntentGuilds, gateway.IntentGuildMessages, gateway.IntentMessageContent}

// runBot runs the bot described by cfg.
func runBot(ctx context.Context, cfg config, stdout, stderr io.Writer, h hooks) error {
	var errOut io.Writer = &lockedWriter{w: stderr}
	var bar *progressBar
	if isTerminal(stderr) {
		// The startup progress is drawn as a bar below the log lines.
		bar = newProgressBar(stderr)
		errOut = bar
	}
	level := slog.LevelInfo
	if cfg.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))

	apiURL, token := cfg.apiURL, cfg.token
	if cfg.mode == modeFake {
		fake, err := startFake(cfg, errOut, log)
		if err != nil {
			return err
		}
		defer fake.Close()
		apiURL, token = fake.APIURL(), fake.Token()
		if h.fake != nil {
			h.fake(fake)
		}
	}

	cnt := newCounters(h.event)
	tr := newTracker(cnt.total.Load, h.allReady)
	tr.bar = bar
	m, err := megane.New(token, managerOptions(cfg, apiURL, cnt, tr, log, h.replied)...)
	if err != nil {
		return fmt.Errorf("example: %w", err)
	}
	defer m.Close() // releases the store if Run never ran; a no-op after Run
	if h.manager != nil {
		h.manager(m)
	}
	if cfg.metrics != "" {
		stop, err := serveMetrics(cfg.metrics, m, log, h.metrics)
		if err != nil {
			return err
		}
		defer stop()
	}
	log.Info("starting the bot", slog.String("mode", cfg.mode), slog.String("token_from", cfg.tokenSource),
		slog.Int("shards", cfg.shards), slog.Int("clusters", cfg.clusters), slog.Duration("duration", cfg.duration))

	col := &collector{mode: cfg.mode, m: m, cnt: cnt, tr: tr, started: time.Now()}
	// The Manager runs on its own context so that the summary can be taken
	// while the clusters still run, after ctx ended.
	mctx, mcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer mcancel()
	runDone := make(chan error, 1)
	go func() { runDone <- m.Run(mctx) }()

	var wg sync.WaitGroup
	// The progress and restart loops stop only after the summary is taken,
	// so a restart never runs while it is.
	pctx, pcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer func() { pcancel(); wg.Wait() }()
	if cfg.progress > 0 {
		wg.Go(func() { progress(pctx, cfg.progress, log, col.collect) })
	}
	if cfg.restartEach > 0 {
		wg.Go(func() { restartLoop(pctx, cfg.restartEach, cfg.restartKind, m, tr, log, h.restarted) })
	}

	final, runErr, returned := wait(ctx, cfg.duration, log, tr, col, runDone)
	pcancel()
	wg.Wait()
	mcancel()
	if !returned {
		runErr = <-runDone
	}
	return report(final, runErr, cfg.json, stdout, log)
}

// startFake starts the embedded fake Discord that cfg describes, logging
// its warnings to errOut.
func startFake(cfg config, errOut io.Writer, log *slog.Logger) (*discordtest.Server, error) {
	fake, err := discordtest.Start(
		discordtest.WithShards(cfg.shards),
		discordtest.WithGuilds(cfg.guilds),
		discordtest.WithRate(cfg.rate),
		discordtest.WithMaxConcurrency(cfg.maxConc),
		discordtest.WithContents(cfg.cmdEvery, fakeCommands...),
		discordtest.WithLogger(slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	)
	if err != nil {
		return nil, fmt.Errorf("example: start the embedded fake Discord: %w", err)
	}
	log.Info("embedded fake Discord started", slog.String("url", fake.URL()),
		slog.Int("shards", cfg.shards), slog.Int("guilds", cfg.guilds), slog.Float64("rate_per_shard", cfg.rate))
	return fake, nil
}

// serveMetrics serves m's metrics on addr until stop is called; bound,
// when not nil, is told the address it bound.
func serveMetrics(addr string, m *megane.Manager, log *slog.Logger, bound func(addr string)) (stop func(), err error) {
	ms, err := startMetrics(addr, m)
	if err != nil {
		return nil, err
	}
	log.Info("serving metrics", slog.String("url", "http://"+ms.addr+"/metrics"))
	if bound != nil {
		bound(ms.addr)
	}
	return func() {
		if err := ms.close(); err != nil {
			log.Warn("metrics server", slog.Any("err", err))
		}
	}, nil
}

// report writes the final summary, as JSON to stdout when asJSON, and to
// the log, and returns the error Run returned.
func report(final summary, runErr error, asJSON bool, stdout io.Writer, log *slog.Logger) error {
	if asJSON {
		if err := final.writeJSON(stdout); err != nil {
			return err
		}
	}
	log.Info("summary", slog.Int("clusters_ready", final.ClustersReady), slog.Int("clusters", final.Clusters),
		slog.Int("shards_ready", final.ShardsReady), slog.Int("shards", final.Shards), slog.Int("guilds", final.Guilds),
		slog.Uint64("events_received", final.EventsReceived), slog.Uint64("messages", final.Messages),
		slog.Uint64("pings", final.Pings), slog.Uint64("pongs", final.Pongs), slog.Uint64("stats_replies", final.StatsReplies),
		slog.Int("restarts", final.Restarts))
	if runErr != nil {
		if errors.Is(runErr, shard.ErrDisallowedIntents) {
			log.Error("enable the Message Content intent for this bot in the Discord developer portal")
		}
		return fmt.Errorf("example: %w", runErr)
	}
	return nil
}

// managerOptions are the options of the bot's Manager.
func managerOptions(cfg config, apiURL string, cnt *counters, tr *tracker, log *slog.Logger, replied func(replyKind, string)) []megane.Option {
	opts := []megane.Option{
		megane.WithWorker(newWorker(&shared{counters: cnt, ttl: cfg.cooldown, warned: new(atomic.Bool), replied: replied})),
		// The ping counter service, reached by the clusters over the bus.
		megane.WithService(pingService, newPingCounter()),
		megane.WithShards(cfg.shards),
		megane.WithClusters(cfg.clusters),
		megane.WithIntents(intents...),
		// Cache guilds, channels and roles in Megane's compact caches;
		// messages and members are not cached.
		megane.WithCacheFlags(cache.FlagGuilds | cache.FlagChannels | cache.FlagRoles),
		megane.WithLogger(log),
		megane.WithEventHandler(tr.handle),
	}
	if apiURL != "" {
		opts = append(opts, megane.WithAPIURL(apiURL))
	}
	if cfg.progress > 0 {
		opts = append(opts, megane.WithStatsInterval(cfg.progress))
	}
	// While shards start, the Manager logs their progress at the same
	// interval (drawn as a bar on a terminal, see progressBar).
	opts = append(opts, megane.WithStartupProgress(cfg.progress))
	if cfg.status != "" {
		// The status page, /healthz and /readyz; its restart buttons work
		// only with MEGANE_STATUS_TOKEN set.
		opts = append(opts, megane.WithStatusAddr(cfg.status, status.WithToken(cfg.statusToken)))
	}
	return opts
}

// restartLoop runs a rolling restart of the given kind every interval, once
// all clusters are ready, until ctx ends. It shows that the bot keeps
// serving: each cluster waits for the previous one to be ready again. It
// runs on its own goroutine, owned by runBot.
func restartLoop(ctx context.Context, every time.Duration, kind cluster.RestartKind, m *megane.Manager,
	tr *tracker, log *slog.Logger, hook func(context.Context, error)) {
	select {
	case <-tr.allReady:
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		log.Info("rolling restart", slog.String("kind", kind.String()))
		start := time.Now()
		err := m.RollingRestart(ctx, kind)
		if ctx.Err() != nil {
			return // shutting down; the restart was cut short
		}
		if err != nil {
			log.Warn("rolling restart failed", slog.String("kind", kind.String()), slog.Any("err", err))
		} else {
			log.Info("rolling restart done", slog.String("kind", kind.String()), slog.Duration("took", time.Since(start)))
		}
		if hook != nil {
			hook(ctx, err)
		}
	}
}

// wait blocks until ctx ends, -duration passes or the Manager stops on its
// own, logging when all clusters become ready. It returns the summary taken
// at that moment (with the clusters still running, unless the Manager
// stopped), and Run's error with returned set if the Manager stopped on its
// own.
func wait(ctx context.Context, d time.Duration, log *slog.Logger, tr *tracker, col *collector, runDone <-chan error) (s summary, runErr error, returned bool) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	allReady := tr.allReady
	for {
		select {
		case <-allReady:
			allReady = nil
			s = col.collect()
			log.Info("all clusters ready", slog.Int("clusters", s.Clusters), slog.Int("shards", s.Shards),
				slog.Int("guilds", s.Guilds), slog.Float64("startup_seconds", s.StartupSeconds))
		case <-timeout:
			return col.collect(), nil, false
		case <-ctx.Done():
			return col.collect(), nil, false
		case err := <-runDone:
			return col.collect(), err, true
		}
	}
}
