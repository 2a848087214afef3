// Command soak is Megane's chaos soak: it runs a bot of -shards shards in
// -clusters clusters against the fake Discord (in-process) under steady
// traffic, injects a seeded schedule of faults of every kind (gateway
// faults, client latency, panics, slow handlers, restarts, service
// crashes, bus panics), then stops and compares what the fake sent with
// what the bot received, session by session.
//
//	go run ./bench/soak -duration 60s -seed 1 [-json] [-v]
//
// It exits 1 when a dispatch was lost on a resumable path, a session was
// identified afresh where it could have resumed, an identify breached its
// bucket, a goroutine leaked, an injected panic was reported by no one, Run
// returned an error, or the bot did not converge at the end; 2 when it
// could not run. See "Reliability: the chaos soak" in the
// README.
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
	"time"

	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the command and returns its exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	began := time.Now()
	cfg, asJSON, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, cfg)
	if err != nil {
		cfg.logger.Error("soak could not run", slog.String("err", err.Error()))
		return 2
	}
	if asJSON {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err == nil && cfg.mdPath != "" {
		err = rep.writeMarkdown(cfg.mdPath, args, began)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// parseFlags reads the flags into a config. Protocol times are Discord's
// real ones, except the heartbeat interval (-heartbeat, scaled so that a
// zombie connection is found within the run).
func parseFlags(args []string, stderr io.Writer) (config, bool, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg             config
		kinds           string
		seed            uint64
		asJSON, verbose bool
	)
	fs.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long to inject faults, once every cluster is ready")
	fs.IntVar(&cfg.shards, "shards", 16, "shards")
	fs.IntVar(&cfg.clusters, "clusters", 4, "clusters")
	fs.Uint64Var(&seed, "seed", 1, "seed of the fault schedule and of the client latency")
	fs.Float64Var(&cfg.rate, "rate", 100, "dispatches per second per shard")
	fs.IntVar(&cfg.guilds, "guilds", 100, "guilds of the bot, spread over the shards")
	fs.IntVar(&cfg.maxConcurrency, "max-concurrency", 16, "session_start_limit.max_concurrency (identify buckets)")
	fs.DurationVar(&cfg.identifyWindow, "identify-window", shard.DefaultIdentifyWindow, "identify bucket window, on the fake and in the bot")
	fs.DurationVar(&cfg.heartbeat, "heartbeat", 5*time.Second, "heartbeat interval sent in HELLO (Discord: 41.25s)")
	fs.DurationVar(&cfg.faultsEvery, "faults-every", time.Second, "mean interval between two faults")
	fs.StringVar(&kinds, "kinds", "all", "comma-separated fault kinds to inject, or all: "+kindNames())
	fs.DurationVar(&cfg.latency, "latency", 0, "client latency (max) at the start; 0: off")
	// Below the identify queue's margin (shard.DefaultIdentifyMargin,
	// 300 ms): the margin is there to cover that much jitter between two
	// connections. Above it, a breach is Discord's rule working, not a bug.
	fs.DurationVar(&cfg.latencyMax, "latency-max", 250*time.Millisecond,
		"the largest max latency a latency_on fault sets (keep it below the identify margin, 300 ms)")
	fs.DurationVar(&cfg.slowMax, "slow-max", 2*time.Second, "the longest a slow handler blocks (keep it below -watchdog)")
	fs.DurationVar(&cfg.watchdog, "watchdog", 2*time.Minute, "cluster watchdog timeout (0: off)")
	fs.DurationVar(&cfg.settle, "settle", 60*time.Second, "bound of each final wait: faults in flight, then convergence, then Run's return")
	fs.BoolVar(&asJSON, "json", false, "print one JSON document instead of the summary")
	fs.StringVar(&cfg.mdPath, "md", "", "also write the results as a section of this markdown file (bench/RESULTS.md), in place of the previous one")
	fs.BoolVar(&verbose, "v", false, "debug logs (faults, shards, clusters) to stderr")
	if err := fs.Parse(args); err != nil {
		return config{}, false, err
	}
	if fs.NArg() > 0 {
		return config{}, false, fmt.Errorf("soak: unexpected arguments %q", fs.Args())
	}
	cfg.seed = seed
	var err error
	if cfg.kinds, err = parseKinds(kinds); err != nil {
		return config{}, false, err
	}
	switch {
	case cfg.duration <= 0, cfg.faultsEvery <= 0, cfg.settle <= 0:
		return config{}, false, errors.New("soak: -duration, -faults-every and -settle must be positive")
	case cfg.shards < 1 || cfg.clusters < 1 || cfg.clusters > cfg.shards:
		return config{}, false, errors.New("soak: need 1 <= -clusters <= -shards")
	case cfg.rate < 0 || cfg.maxConcurrency < 1 || cfg.identifyWindow < 0 || cfg.heartbeat <= 0:
		return config{}, false, errors.New("soak: -rate, -max-concurrency, -identify-window and -heartbeat out of range")
	case cfg.watchdog > 0 && cfg.slowMax >= cfg.watchdog:
		return config{}, false, errors.New("soak: -slow-max must stay below -watchdog")
	}
	level := slog.LevelInfo
	botLevel := slog.LevelWarn
	if verbose {
		level, botLevel = slog.LevelDebug, slog.LevelDebug
	}
	cfg.logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With(slog.String("service", "soak"))
	cfg.botLogger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: botLevel}))
	cfg.startTimeout = 2 * time.Minute
	cfg.opTimeout = 2 * time.Minute
	// The soak crashes clusters on purpose, as often as -faults-every says:
	// neither cap may end the run.
	cfg.policy = supervisor.Policy{MinBackoff: 50 * time.Millisecond, MaxBackoff: 2 * time.Second,
		MaxRestarts: -1, MaxFailedStarts: -1}
	return cfg, asJSON, nil
}
