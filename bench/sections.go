package main

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/disgoorg/disgo/cache"
	"github.com/megane-go/megane/shard"
)

// mode is the size of a run: quick (CI) or full.
type mode struct {
	name          string
	shards        []int
	clusters      []int
	compressions  []string
	plan          benchPlan
	limitFrames   int
	limitRep      float64
	memGuilds     int
	memShards     int
	startWindowMs float64
	slowStartReps int // repetitions of the 64-shard max_concurrency 1 startup cell, about 10 s each in quick mode
	reps          int
	microTime     string
	pairedRounds  int // rounds of the paired headline
	pacedRounds   int // rounds of the paced section (0: none)
	pacedWindowS  float64
	pacedRampS    float64
}

func quickMode() mode {
	return mode{
		name: "quick", shards: []int{16}, clusters: clusterCounts(), compressions: []string{"none"},
		plan:        benchPlan{WarmupPerShard: 300, RepSeconds: 0.5, MinPerShard: 200, Reps: 3, MixedWindowS: 0.4},
		limitFrames: 4000, limitRep: 0.25,
		memGuilds: 200, memShards: 2, startWindowMs: 10, slowStartReps: 1, reps: 3, microTime: "100ms", pairedRounds: 7,
		pacedRounds: 1, pacedWindowS: 3, pacedRampS: 0.5,
	}
}

func fullMode() mode {
	return mode{
		name: "full", shards: []int{1, 16, 64, 256}, clusters: clusterCounts(),
		compressions: []string{"none", "zlib-stream", "zstd-stream"},
		plan:         benchPlan{WarmupPerShard: 300, RepSeconds: 1.5, MinPerShard: 100, Reps: 3, MixedWindowS: 1},
		limitFrames:  10000, limitRep: 1,
		memGuilds: 1000, memShards: 4, startWindowMs: 100, slowStartReps: 3, reps: 3, microTime: "1s", pairedRounds: 15,
		pacedRounds: 3, pacedWindowS: 10, pacedRampS: 1,
	}
}

// clusterCounts is {1, 2, GOMAXPROCS} without repeats.
func clusterCounts() []int {
	cs := []int{1, 2, runtime.GOMAXPROCS(0)}
	slices.Sort(cs)
	return slices.Compact(cs)
}

// wireComp maps a compression name to the wire/disgo spelling ("" for none).
func wireComp(name string) string {
	if name == "none" {
		return ""
	}
	return name
}

// tpCell is one throughput measurement.
type tpCell struct {
	Party       string  `json:"party"` // megane, megane(encoding/json), disgo, disgo(jsonv2)
	Shards      int     `json:"shards"`
	Clusters    int     `json:"clusters,omitempty"`
	Compression string  `json:"compression"`
	StartupS    float64 `json:"startup_s"`
	Msg         figure  `json:"message_create"`
	Mixed       figure  `json:"mixed"`
	// RSS is the bot's resident memory idle before the MESSAGE_CREATE
	// stream and its peak during it.
	RSS rssPhase `json:"rss_stream"`
	Err string   `json:"error,omitempty"`
}

// limitCell is the decode-only limit for one compression.
type limitCell struct {
	Compression string `json:"compression"`
	limitResult
	Err string `json:"error,omitempty"`
}

// contender is one bot configuration of the throughput matrix.
type contender struct {
	label    string
	party    string
	engine   string
	clusters int
	exe      launcher
}

// runThroughput runs the throughput matrix and the decode-only limits.
func (r *runner) runThroughput(ctx context.Context) {
	md := r.mode
	limitAt := md.shards[0]
	if slices.Contains(md.shards, headlineShards) {
		limitAt = headlineShards
	}
	profiled := false
	for _, shards := range md.shards {
		for _, comp := range md.compressions {
			if shards == limitAt {
				// Measured next to the headline cells, so that a noisy
				// spell of a shared machine hits both alike.
				r.runLimit(ctx, comp)
			}
			guilds := max(100, 4*shards)
			fs := fakeSpec{Shards: shards, Guilds: guilds, Members: 10, Channels: 10, Roles: 5, MaxConcurrency: 16}
			fake, addr, err := startFake(ctx, r.self, fs)
			if err != nil {
				r.fail("fake for %d shards: %v", shards, err)
				continue
			}
			for _, ct := range r.contenders(shards, comp) {
				spec := partySpec{
					Party: ct.party, Engine: ct.engine, Shards: shards, Clusters: ct.clusters,
					Compression: wireComp(comp), Guilds: guilds, Fake: addr, Bench: md.plan,
				}
				if r.cpuProfile != "" && !profiled && ct.label == "megane" && ct.clusters == runtime.GOMAXPROCS(0) {
					spec.CPUProfile, profiled = r.cpuProfile, true
				}
				r.progress("throughput: %s shards=%d clusters=%d compression=%s", ct.label, shards, ct.clusters, comp)
				cell := r.measureBot(ctx, ct, spec)
				cell.Shards, cell.Compression = shards, comp
				r.rep.Throughput = append(r.rep.Throughput, cell)
			}
			fake.stop()
		}
	}
}

// measureBot runs one bot child, and once more if it fails. A baseline
// that fails twice is a result (plain disgo's zstd-stream transport
// crashes under full load, for one) and goes into the notes; Megane
// failing twice is an error of the run.
func (r *runner) measureBot(ctx context.Context, ct contender, spec partySpec) tpCell {
	cell := tpCell{Party: ct.label, Clusters: ct.clusters}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var res botResult
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		err = ct.exe.run(cctx, "bot", spec, &res)
		cancel()
		if err == nil {
			cell.StartupS, cell.Msg, cell.Mixed, cell.RSS = res.StartupS, res.Msg, res.Mixed, res.RSS
			return cell
		}
		r.progress("%s failed (attempt %d): %v", ct.label, attempt+1, firstLine(err.Error()))
		if ctx.Err() != nil {
			break
		}
	}
	cell.Err = firstLine(err.Error())
	what := fmt.Sprintf("%s at %d shards, %s, failed twice: %s", ct.label, spec.Shards, spec.Compression, cell.Err)
	if ct.party == partyMegane {
		r.fail("%s", what)
	} else {
		r.rep.Notes = append(r.rep.Notes, "baseline "+what)
	}
	return cell
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// runLimit measures the decode-only limit for one compression.
func (r *runner) runLimit(ctx context.Context, comp string) {
	md := r.mode
	r.progress("limit: decode-only, compression %s", comp)
	var lr limitResult
	spec := limitSpec{Compression: wireComp(comp), Frames: md.limitFrames, Reps: md.reps, RepSeconds: md.limitRep}
	cell := limitCell{Compression: comp}
	if err := r.self.run(ctx, "limit", spec, &lr); err != nil {
		cell.Err = err.Error()
		r.fail("decode-only limit, %s: %v", comp, err)
	}
	cell.limitResult = lr
	r.rep.Limits = append(r.rep.Limits, cell)
}

// contenders are the bots measured at one point of the matrix.
func (r *runner) contenders(shards int, comp string) []contender {
	var out []contender
	for _, c := range r.mode.clusters {
		if c > shards {
			continue
		}
		out = append(out, contender{label: "megane", party: partyMegane, engine: engineFast, clusters: c, exe: r.self})
	}
	if r.isHeadline(shards, comp) {
		out = append(out, contender{label: "megane(encoding/json)", party: partyMegane, engine: engineStd,
			clusters: min(shards, runtime.GOMAXPROCS(0)), exe: r.self})
		if r.jsonv2 != nil {
			// megane.UseStdJSON in the GOEXPERIMENT=jsonv2 build: the
			// issue's JSON axis for Megane itself.
			out = append(out, contender{label: "megane(jsonv2)", party: partyMegane, engine: engineStd,
				clusters: min(shards, runtime.GOMAXPROCS(0)), exe: *r.jsonv2})
		}
	}
	out = append(out, contender{label: "disgo", party: partyDisgo, engine: engineStd, exe: r.self})
	if r.jsonv2 != nil {
		out = append(out, contender{label: "disgo(jsonv2)", party: partyDisgo, engine: engineStd, exe: *r.jsonv2})
	}
	return out
}

// headline is the point of the matrix the key ratios are quoted at: 16
// shards, no compression, the default cluster count.
const headlineShards = 16

func (r *runner) isHeadline(shards int, comp string) bool {
	return comp == "none" && shards == headlineShards
}

// memCell is one cache-memory configuration: medians over the
// repetitions.
type memCell struct {
	Label      string    `json:"label"`
	Party      string    `json:"party"`
	Guilds     int       `json:"guilds"`
	PerGuildKB float64   `json:"kb_per_guild"` // live heap
	RepsKB     []float64 `json:"reps_kb_per_guild"`
	// Resident memory (see memResult): per guild, the peak during the
	// start and the settled RSS after it.
	RSSPerGuildKB float64   `json:"rss_kb_per_guild"`
	RepsRSSKB     []float64 `json:"reps_rss_kb_per_guild"`
	StartPeakKB   float64   `json:"rss_start_peak_kb"`
	SettledKB     float64   `json:"rss_settled_kb"`
	PeakVsSettled float64   `json:"rss_start_peak_vs_settled"`
	PeakReset     bool      `json:"rss_peak_reset"`
	// CachedRSSPerGuildKB is RSSPerGuildKB less that of the same party
	// with caches off (see netOfCachesOff); 0 for a caches-off row.
	CachedRSSPerGuildKB float64 `json:"rss_kb_per_cached_guild,omitempty"`
	CachesOff           bool    `json:"caches_off,omitempty"`
	Err                 string  `json:"error,omitempty"`
}

// The memory rows the key ratio compares.
const (
	memCompactLabel = "megane, compact cache (package cache), guilds+channels+roles+members"
	memDisgoLabel   = "disgo, default cache implementation (FlagsAll)"
	memDefaultLabel = "megane default (DefaultCacheFlags: +members, compact caches)" // the start-peak target's row
)

// runMemory measures heap per guild for each cache configuration.
func (r *runner) runMemory(ctx context.Context) {
	md := r.mode
	fs := fakeSpec{Shards: md.memShards, Guilds: md.memGuilds, Members: 100, Channels: 50, Roles: 20, MaxConcurrency: 16}
	fake, addr, err := startFake(ctx, r.self, fs)
	if err != nil {
		r.fail("fake for memory: %v", err)
		return
	}
	defer fake.stop()
	gcr := []int{int(cache.FlagGuilds), int(cache.FlagChannels), int(cache.FlagRoles)}
	gcrm := append(slices.Clone(gcr), int(cache.FlagMembers))
	configs := []struct {
		label, party, engine, impl string
		caches                     []int
	}{
		{"megane, caches off", partyMegane, engineFast, cacheDisgo, nil},
		{"megane, guilds+channels+roles (disgo caches)", partyMegane, engineFast, cacheDisgo, gcr},
		{memDefaultLabel, partyMegane, engineFast, cacheMegane, nil},
		{memCompactLabel, partyMegane, engineFast, cacheCompact, gcrm},
		{"disgo, caches off", partyDisgo, engineStd, cacheDisgo, nil},
		{memDisgoLabel, partyDisgo, engineStd, cacheDisgo, []int{int(cache.FlagsAll)}},
	}
	for _, cfg := range configs {
		cell := memCell{Label: cfg.label, Party: cfg.party, Guilds: md.memGuilds, PeakReset: true,
			CachesOff: len(cfg.caches) == 0 && cfg.impl == cacheDisgo}
		var peaks, settled, peakVs []float64
		for range md.reps {
			r.progress("memory: %s, %d guilds", cfg.label, md.memGuilds)
			spec := partySpec{Party: cfg.party, Engine: cfg.engine, Shards: md.memShards, Clusters: 1,
				Caches: cfg.caches, CacheImpl: cfg.impl, Guilds: md.memGuilds, Fake: addr}
			var res memResult
			cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			err := r.self.run(cctx, "mem", spec, &res)
			cancel()
			if err != nil {
				cell.Err = err.Error()
				r.fail("memory %s: %v", cfg.label, err)
				break
			}
			cell.RepsKB = append(cell.RepsKB, res.PerGuildKB)
			if res.RSS.Err != "" {
				r.rep.Notes = appendOnce(r.rep.Notes, "memory: no RSS figures: "+res.RSS.Err)
				continue
			}
			cell.RepsRSSKB = append(cell.RepsRSSKB, res.RSSPerGuildKB)
			peaks, settled = append(peaks, float64(res.RSS.PeakKB)), append(settled, float64(res.SettledRSSKB))
			peakVs = append(peakVs, ratio(float64(res.RSS.PeakKB), float64(res.SettledRSSKB)))
			cell.PeakReset = cell.PeakReset && res.RSS.PeakReset
		}
		cell.PerGuildKB = median(cell.RepsKB)
		cell.RSSPerGuildKB, cell.StartPeakKB, cell.SettledKB = median(cell.RepsRSSKB), median(peaks), median(settled)
		cell.PeakVsSettled = median(peakVs)
		if !cell.PeakReset {
			r.rep.Notes = appendOnce(r.rep.Notes, noteNoPeakReset)
		}
		r.rep.Memory = append(r.rep.Memory, cell)
	}
	netOfCachesOff(r.rep.Memory)
}

// noteNoPeakReset says what a peak means when VmHWM could not be reset.
const noteNoPeakReset = "RSS: VmHWM could not be reset here (/proc/self/clear_refs), so a peak is the child's peak since it started"

// appendOnce appends note unless notes has it already.
func appendOnce(notes []string, note string) []string {
	if slices.Contains(notes, note) {
		return notes
	}
	return append(notes, note)
}

// startupCell is the startup (and, with a scaled window, the restarts)
// of a shard set at one max_concurrency.
type startupCell struct {
	Shards         int                `json:"shards"`
	Clusters       int                `json:"clusters"`
	MaxConcurrency int                `json:"max_concurrency"`
	WindowMs       float64            `json:"identify_window_ms"` // the fake's and the queue's
	MarginMs       float64            `json:"identify_margin_ms"` // the queue's margin on top
	TheoreticalS   float64            `json:"theoretical_min_s"`  // ceil(shards/max_concurrency) × window
	FloorS         float64            `json:"floor_s"`            // (ceil(shards/max_concurrency) − 1) × (window + margin): the first identify needs no wait
	BoundS         float64            `json:"bound_s"`            // max(theoretical + margin, floor) + 1 s: the target
	Met            bool               `json:"met"`                // every rep within BoundS with no breach
	ReadyS         float64            `json:"all_ready_s"`
	RepsReadyS     []float64          `json:"reps_all_ready_s"`
	StartBreaches  []int64            `json:"start_bucket_breaches"` // per repetition
	Restarts       map[string]restart `json:"restarts,omitempty"`
	Err            string             `json:"error,omitempty"`
}

// restart is the median duration of one restart kind, with the fake's
// counts from the first repetition.
type restart struct {
	Seconds         float64 `json:"s"`
	Identifies      int64   `json:"identifies"`
	Resumes         int64   `json:"resumes"`
	InvalidSessions int64   `json:"invalid_sessions"`
	BucketBreaches  int64   `json:"bucket_breaches"`
}

// startupSpec is one startup cell to run.
type startupSpec struct {
	shards, mc, reps   int
	windowMs, marginMs float64 // marginMs 0: the queue's default (shard.DefaultIdentifyMargin)
	startOnly          bool
}

// scaledMarginMs is the identify margin with a scaled-down window: it
// covers the scheduling jitter of two loaded processes on loopback.
const scaledMarginMs = 50

// startupSpecs are the startup cells of a mode: 64 shards at
// max_concurrency 1 (md.slowStartReps times) and 16 with a scaled window,
// with every restart; and, except in quick mode, 16 shards at 4 and 1 with
// Discord's real 5 s window, start only, once each (about 20 s and 80 s).
func startupSpecs(md mode) []startupSpec {
	specs := []startupSpec{
		{shards: 64, mc: 1, reps: md.slowStartReps, windowMs: md.startWindowMs, marginMs: scaledMarginMs},
		{shards: 64, mc: 16, reps: md.reps, windowMs: md.startWindowMs, marginMs: scaledMarginMs},
	}
	if md.name != "quick" {
		real := float64(shard.DefaultIdentifyWindow / time.Millisecond)
		specs = append(specs,
			startupSpec{shards: 16, mc: 4, reps: 1, windowMs: real, startOnly: true},
			startupSpec{shards: 16, mc: 1, reps: 1, windowMs: real, startOnly: true})
	}
	return specs
}

// newStartupCell fills a cell's bounds. Both the fake and the queue use
// the same window, as Discord and a real bot do.
func newStartupCell(sp startupSpec, clusters int) startupCell {
	margin := sp.marginMs
	if margin == 0 {
		margin = float64(shard.DefaultIdentifyMargin / time.Millisecond)
	}
	rounds := math.Ceil(float64(sp.shards) / float64(sp.mc))
	c := startupCell{Shards: sp.shards, Clusters: min(clusters, sp.shards), MaxConcurrency: sp.mc,
		WindowMs: sp.windowMs, MarginMs: margin,
		TheoreticalS: rounds * sp.windowMs / 1000,
		FloorS:       (rounds - 1) * (sp.windowMs + margin) / 1000,
		Restarts:     map[string]restart{}}
	// Discord's window: ceil(N/M) × 5 s + the margin + 1 s. A scaled-down
	// window makes the margin large beside it, so the floor may be above
	// that; then the floor + 1 s.
	c.BoundS = max(c.TheoreticalS+margin/1000, c.FloorS) + 1
	return c
}

// runStartup times startup (and restarts) for each startup cell.
func (r *runner) runStartup(ctx context.Context) {
	for _, sp := range startupSpecs(r.mode) {
		r.runStartupCell(ctx, sp)
	}
}

func (r *runner) runStartupCell(ctx context.Context, sp startupSpec) {
	cell := newStartupCell(sp, runtime.GOMAXPROCS(0))
	fs := fakeSpec{Shards: sp.shards, Guilds: 4 * sp.shards, Members: 10, Channels: 10, Roles: 5,
		MaxConcurrency: sp.mc, WindowMs: sp.windowMs}
	fake, addr, err := startFake(ctx, r.self, fs)
	if err != nil {
		r.fail("fake for startup: %v", err)
		return
	}
	defer fake.stop()
	per := map[string][]restartTiming{}
	cell.Met = true
	for i := range sp.reps {
		if i > 0 {
			// The fake keeps its buckets from the previous repetition,
			// whose last identifies (a rolling full restart) were just
			// sent, as Discord would: a new bot started at once would
			// breach the window it cannot know of. Let it pass.
			time.Sleep(time.Duration((cell.WindowMs + cell.MarginMs) * float64(time.Millisecond)))
		}
		r.progress("startup: %d shards, max_concurrency %d, window %gms, margin %gms", sp.shards, sp.mc, sp.windowMs, cell.MarginMs)
		spec := partySpec{Party: partyMegane, Engine: engineFast, Shards: sp.shards, Clusters: cell.Clusters,
			Guilds: 4 * sp.shards, Fake: addr,
			Bench: benchPlan{WindowMs: sp.windowMs, MarginMs: sp.marginMs, StartOnly: sp.startOnly}}
		var res startupResult
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		err := r.self.run(cctx, "startup", spec, &res)
		cancel()
		if err != nil {
			cell.Err, cell.Met = err.Error(), false
			r.fail("startup %d shards max_concurrency %d: %v", sp.shards, sp.mc, err)
			break
		}
		cell.RepsReadyS = append(cell.RepsReadyS, res.ReadyS)
		cell.StartBreaches = append(cell.StartBreaches, res.Start.BucketBreaches)
		cell.Met = cell.Met && res.ReadyS <= cell.BoundS && res.Start.BucketBreaches == 0
		for k, t := range res.Restarts {
			per[k] = append(per[k], t)
		}
	}
	cell.ReadyS = median(cell.RepsReadyS)
	for k, ts := range per {
		var secs []float64
		for _, t := range ts {
			secs = append(secs, t.Seconds)
		}
		cell.Restarts[k] = restart{Seconds: median(secs), Identifies: ts[0].Identifies, Resumes: ts[0].Resumes,
			InvalidSessions: ts[0].InvalidSessions, BucketBreaches: ts[0].BucketBreaches}
	}
	r.rep.Startup = append(r.rep.Startup, cell)
}

// runBusStore runs the bus and store micro-benchmarks in this process.
func (r *runner) runBusStore() {
	r.progress("bus and store micro-benchmarks (benchtime %s, %d reps)", r.mode.microTime, r.mode.reps)
	r.rep.Micro = runMicro(r.mode.reps)
}

// progress logs a line on stderr.
func (r *runner) progress(format string, args ...any) {
	fmt.Fprintf(stderr, "[%5.1fs] %s\n", time.Since(r.began).Seconds(), fmt.Sprintf(format, args...))
}

// fail records an error of the run (the command then exits non-zero).
func (r *runner) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.rep.Errors = append(r.rep.Errors, msg)
	fmt.Fprintln(stderr, "error:", msg)
}
