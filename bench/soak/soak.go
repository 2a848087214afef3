package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// config is one soak run.
type config struct {
	duration       time.Duration // of injection, from the moment every cluster is ready
	shards         int
	clusters       int
	seed           uint64
	rate           float64 // dispatches per second per shard
	guilds         int
	maxConcurrency int
	identifyWindow time.Duration // the same on the fake and in the bot's identify queue
	heartbeat      time.Duration // the fake's HELLO interval
	faultsEvery    time.Duration // mean interval between faults
	kinds          []kind
	latency        time.Duration // client latency at the start (0: off)
	latencyMax     time.Duration // the largest max latency a latency_on fault sets
	slowMax        time.Duration // the longest a slow handler blocks
	watchdog       time.Duration // the clusters' watchdog (0: off)
	startTimeout   time.Duration // for every cluster to be ready at the start
	settle         time.Duration // for the faults in flight, then for the bot to converge
	opTimeout      time.Duration // bounds each blocking fault (a restart)
	shardOpts      []shard.Option
	policy         supervisor.Policy
	mdPath         string       // -md: the results file whose soak section is written
	logger         *slog.Logger // the soak's own lines
	botLogger      *slog.Logger // the fake's and the Manager's
}

// errStart is returned when the bot never became ready.
var errStart = errors.New("soak: the bot did not start")

// run runs one soak and returns its report (judged). An error means the
// soak could not run at all; findings are in the report.
func run(ctx context.Context, cfg config) (*report, error) {
	rep := &report{
		GoVersion: runtime.Version(), Seed: cfg.seed, Duration: cfg.duration.String(),
		Shards: cfg.shards, Clusters: cfg.clusters, Rate: cfg.rate,
		MaxConcurrency: cfg.maxConcurrency, IdentifyWindow: cfg.identifyWindow.String(), Kinds: cfg.kinds,
	}
	faults := plan(planSpec{
		seed: cfg.seed, duration: cfg.duration, every: cfg.faultsEvery, shards: cfg.shards, clusters: cfg.clusters,
		kinds: cfg.kinds, latencyMax: cfg.latencyMax, slowMax: cfg.slowMax,
	})
	rep.FaultsPlanned = map[kind]int{}
	for _, f := range faults {
		rep.FaultsPlanned[f.Kind]++
	}

	before := goroutineIDs()
	heap0 := heapAlloc()
	if err := soak(ctx, cfg, faults, rep); err != nil {
		return nil, err
	}
	// Everything the run made is unreferenced now: what remains is growth.
	rep.HeapGrowthBytes = int64(heapAlloc()) - int64(heap0)
	leaked, ignored := leakedSince(before, 10*time.Second)
	rep.LeakedGoroutines, rep.IgnoredLeaks = len(leaked), ignored
	rep.Details.Leaks = capped(leaked)
	rep.judge()
	return rep, nil
}

// heapAlloc returns the live heap after two collections (the second frees
// what finalizers and pools kept through the first).
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// soak starts the fake Discord and the bot, injects faults, stops them
// and fills rep with the comparison.
func soak(ctx context.Context, cfg config, faults []fault, rep *report) error {
	log := cfg.logger
	fake, err := discordtest.Start(
		discordtest.WithShards(cfg.shards),
		discordtest.WithGuilds(cfg.guilds),
		discordtest.WithMaxConcurrency(cfg.maxConcurrency),
		discordtest.WithIdentifyWindow(cfg.identifyWindow),
		discordtest.WithHeartbeatInterval(cfg.heartbeat),
		discordtest.WithSessionStartLimit(1_000_000, 1_000_000, 24*time.Hour),
		discordtest.WithRate(cfg.rate),
		discordtest.WithClientLatency(cfg.latency, cfg.seed),
		discordtest.WithLogger(cfg.botLogger),
	)
	if err != nil {
		return fmt.Errorf("soak: start the fake Discord: %w", err)
	}
	defer fake.Close()

	book := newPanicBook()
	life := newLifecycle(book)
	rec := newRecorder()
	a := newArms(book, rec)
	m, err := megane.New(fake.Token(),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithShards(cfg.shards),
		megane.WithClusters(cfg.clusters),
		megane.WithWorker(func() cluster.Worker { return &worker{a: a} }),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow())),
		megane.WithShardOptions(cfg.shardOpts...),
		megane.WithRestartPolicy(cfg.policy),
		megane.WithWatchdog(cfg.watchdog),
		megane.WithEventHandler(life.handle),
		megane.WithService(serviceName, newChaosService(book), service.WithRestartPolicy(cfg.policy)),
		megane.WithLogger(cfg.botLogger),
	)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	defer m.Close()
	if err := registerPanicFunc(m.Bus(), book); err != nil {
		return fmt.Errorf("soak: %w", err)
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- m.Run(runCtx) }()

	startTimer := time.NewTimer(cfg.startTimeout)
	defer startTimer.Stop()
	select {
	case <-life.allReady:
	case err := <-runDone:
		return fmt.Errorf("%w: Run returned %v", errStart, err)
	case <-startTimer.C:
		stopRun()
		<-runDone
		return fmt.Errorf("%w within %v", errStart, cfg.startTimeout)
	case <-ctx.Done():
		stopRun()
		<-runDone
		return ctx.Err()
	}
	clusterShards := map[int][]int{}
	for _, c := range m.Clusters() {
		clusterShards[c.ID] = c.ShardIDs
	}
	log.Info("every cluster is ready; injecting faults", slog.Int("faults", len(faults)), slog.Duration("duration", cfg.duration))

	in := &injector{fake: fake, m: m, arms: a, book: book, log: log, opTimeout: cfg.opTimeout}
	injectCtx, stopInject := context.WithTimeout(ctx, cfg.duration)
	in.run(injectCtx, faults, time.Now())
	<-injectCtx.Done()
	stopInject()

	// The end: no more faults, no latency, no traffic.
	log.Info("injection over; waiting for the faults in flight")
	settled := in.wait(cfg.settle)
	a.disarm()
	fake.SetClientLatency(0)
	_ = fake.WithholdAcks(discordtest.AllShards, false)
	fake.SetRate(0)
	convergeStart := time.Now()
	live, converged := awaitConvergence(ctx, fake, rec, m, cfg.shards, cfg.settle)
	rep.Converged = settled && converged
	rep.ConvergedIn = time.Since(convergeStart).Round(time.Millisecond).String()
	if !settled {
		log.Error("faults still in flight after the final wait", slog.Duration("wait", cfg.settle))
	}
	if !converged {
		log.Error("the bot did not receive everything sent to its live sessions", slog.Duration("wait", cfg.settle))
	}
	rep.GoroutinesAtEnd = runtime.NumGoroutine()
	rep.HeapAtEndBytes = int64(heapAlloc())

	stopRun()
	select {
	case err := <-runDone:
		if err != nil {
			rep.RunError = err.Error()
		}
	case <-time.After(cfg.settle):
		rep.RunError = fmt.Sprintf("soak: Run did not return within %v of its context ending", cfg.settle)
	}
	fake.Close()

	fill(rep, fake, rec, life, book, a, in.results(), live, clusterShards, cfg.shards)
	return nil
}

// awaitConvergence waits until every cluster is ready and, for every
// shard, the fake has a live session, the bot's current session is the
// fake's newest and the bot has every dispatch of it, or until within has
// passed. It returns the index of each shard's live session (its newest)
// and whether it converged.
func awaitConvergence(ctx context.Context, fake *discordtest.Server, rec *recorder, m *megane.Manager, shards int, within time.Duration) (map[int]int, bool) {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		live, ok := convergence(fake, rec, m, shards)
		if ok || time.Now().After(deadline) || ctx.Err() != nil {
			return live, ok
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// convergence is one look for awaitConvergence.
func convergence(fake *discordtest.Server, rec *recorder, m *megane.Manager, shards int) (map[int]int, bool) {
	l := fake.Ledger()
	live := map[int]int{}
	ok := true
	for sh := range shards {
		ids := l.Sessions(sh)
		live[sh] = len(ids) - 1
		if len(ids) == 0 {
			ok = false
			continue
		}
		// Emit of no dispatch fails only when the shard has no live
		// session on the fake: it is disconnected.
		if fake.Emit(sh, 0) != nil {
			ok = false
		}
		newest := ids[len(ids)-1]
		last := l.LastSeq(sh, newest)
		if cur, n := rec.current(sh, last); cur != newest || n != last {
			ok = false
		}
	}
	for _, c := range m.Clusters() {
		if c.Status != supervisor.StateReady {
			ok = false
		}
	}
	return live, ok
}

// fill compares the fake's ledger with the recorder and puts the figures
// into rep.
func fill(rep *report, fake *discordtest.Server, rec *recorder, life *lifecycle, book *panicBook, a *arms,
	outcomes []outcome, live map[int]int, clusterShards map[int][]int, shards int) {
	l := fake.Ledger()
	ends := sessionEnds(outcomes, life, clusterShards)
	records := make([]shardRecord, 0, shards)
	for sh := range shards {
		ids := l.Sessions(sh)
		r := shardRecord{Shard: sh, Live: live[sh], Ends: ends[sh], Readies: life.readies(sh)}
		if r.Live < 0 {
			r.Live = len(ids)
		}
		known := map[string]bool{}
		for _, id := range ids {
			known[id] = true
			got, dups := rec.received(sh, id)
			r.Sessions = append(r.Sessions, sessionRecord{ID: id, Started: l.Started(sh, id), LastSeq: l.LastSeq(sh, id), Got: got, Dups: dups})
		}
		for _, id := range rec.sessionIDs(sh) {
			if !known[id] {
				rep.UnknownSess++
			}
		}
		records = append(records, r)
	}
	c := compare(records)
	rep.Sent, rep.Delivered, rep.Lost, rep.Duplicates = c.Sent, c.Delivered, c.Lost, c.Duplicates
	rep.LostAllowed = c.LostAllowed
	rep.UnjustifiedEnds = len(c.Unjustified)
	rep.Details.Lost, rep.Details.Unjustified = capped(c.Losses), capped(c.Unjustified)

	counters := fake.Counters()
	rep.IdentifyBreaches = counters.BucketBreaches
	rep.SessionStarts.Spent = counters.Identifies
	rep.SessionStarts.Minimum = shards + c.LegitEnds

	tallies, escaped := book.tally()
	rep.Panics, rep.EscapedPanics, rep.Details.Escaped = tallies, len(escaped), capped(escaped)

	rep.FaultsInjected, rep.FaultsRefused = map[kind]int{}, map[kind]int{}
	for _, o := range outcomes {
		ki, _ := info(o.Kind)
		switch {
		case ki.panics:
		case o.Kind == kindSlowHandler:
		case o.Err == nil:
			rep.FaultsInjected[o.Kind]++
		default:
			rep.FaultsRefused[o.Kind]++
			rep.Details.Refused = append(rep.Details.Refused, o.fault.String()+": "+o.Err.Error())
		}
	}
	for k, t := range tallies {
		rep.FaultsInjected[k] = t.Injected
	}
	if n := int(a.slowFired.Load()); n > 0 {
		rep.FaultsInjected[kindSlowHandler] = n
	}
	rep.Details.Refused = capped(rep.Details.Refused)

	rep.Events = life.eventCounts()
	rec.mu.Lock()
	rep.DispatchTypes = maps.Clone(rec.types)
	rep.Seq0Events, rep.Unattributed = rec.seq0, rec.unattributed
	rec.mu.Unlock()
}

// sessionEnds returns, by shard, the injected faults that ended a session
// without a resume: the fake's (op 9 not resumable, closes 4003, 4007,
// 4009) that took effect, over the call's span; and each full restart of a
// cluster (alone or rolling) that an injected restart caused, at the
// moment the cluster announced it (ClusterRestarted, after the old
// attempt's shards closed and before the new ones identify).
func sessionEnds(outcomes []outcome, life *lifecycle, clusterShards map[int][]int) map[int][]sessionEnd {
	out := map[int][]sessionEnd{}
	for _, o := range outcomes {
		ki, _ := info(o.Kind)
		if !ki.endsSession {
			continue
		}
		switch o.Kind {
		case kindRestartFull, kindRollingFull:
			clusters := []int{o.Cluster}
			if o.Kind == kindRollingFull {
				clusters = slices.Sorted(maps.Keys(clusterShards))
			}
			for _, c := range clusters {
				for _, at := range life.fullRestarts(c, o.Start, o.End) {
					for _, sh := range clusterShards[c] {
						out[sh] = append(out[sh], sessionEnd{Start: at, End: at, Cause: string(o.Kind)})
					}
				}
			}
		default:
			if o.Err == nil {
				out[o.Shard] = append(out[o.Shard], sessionEnd{Start: o.Start, End: o.End, Cause: string(o.Kind)})
			}
		}
	}
	return out
}
