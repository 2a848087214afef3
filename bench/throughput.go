package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// benchPlan is how long and how often a bot child measures.
type benchPlan struct {
	WarmupPerShard int     `json:"warmup_per_shard"` // MESSAGE_CREATEs per shard before measuring
	RepSeconds     float64 `json:"rep_s"`            // aimed duration of one MESSAGE_CREATE repetition
	MinPerShard    int     `json:"min_per_shard"`    // at least this many per shard per repetition
	Reps           int     `json:"reps"`
	MixedWindowS   float64 `json:"mixed_window_s"` // 0: no mixed-stream measurement
	WindowMs       float64 `json:"identify_window_ms"`
	MarginMs       float64 `json:"identify_margin_ms"` // 0: the queue's default margin
	StartOnly      bool    `json:"start_only"`         // startup child: no restarts after the start
	// ReadCoalescing is Megane's shard.WithReadCoalescing period; nil
	// leaves the library's default (engine.DefaultReadCoalescing).
	ReadCoalescing *time.Duration `json:"read_coalescing_ns,omitempty"`
}

// botResult is what a bot child reports.
type botResult struct {
	StartupS float64 `json:"startup_s"`
	Msg      figure  `json:"message_create"`
	Mixed    figure  `json:"mixed"`
	// RSS is the resident memory just before the MESSAGE_CREATE stream
	// (idle, after startup and a GC) and its peak during the warm-up and
	// the repetitions (not the mixed windows).
	RSS rssPhase `json:"rss_stream"`
}

// runBotChild runs one party against the fake and measures its
// throughput: first on MESSAGE_CREATE only (fixed work: the fake emits N
// per shard, the clock stops when the handler has counted them all), then
// on the mixed stream (fixed time at the fake's full rate).
func runBotChild(spec partySpec) (botResult, error) {
	b, err := prepareBot(spec)
	if err != nil {
		return botResult{}, err
	}
	defer b.p.stop()
	res := botResult{StartupS: b.startupS}
	plan := spec.Bench

	if spec.CPUProfile != "" {
		f, err := os.Create(spec.CPUProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	var msgs []sample
	for range plan.Reps {
		s, err := b.rep()
		if err != nil {
			return res, err
		}
		msgs = append(msgs, s)
	}
	res.Msg = summarize(msgs)
	b.rss.endPhase()
	res.RSS = b.rss

	if plan.MixedWindowS > 0 {
		mixed, err := measureMixed(b.ctl, b.c, plan)
		if err != nil {
			return res, err
		}
		res.Mixed = summarize(mixed)
	}
	return res, nil
}

// runBotStepped is the stepped bot child of the paired headline and the
// paced rounds: one MESSAGE_CREATE repetition or one paced window per
// request (see preparedBot.step).
func runBotStepped(spec partySpec) error {
	b, err := prepareBot(spec)
	if err != nil {
		return err
	}
	defer b.p.stop()
	return serveSteps(botResult{StartupS: b.startupS}, b.step)
}

// botStep is a stepped bot's answer to "rep": the repetition and its
// resident memory so far (the peak since just before the warm-up).
type botStep struct {
	sample
	RSS rssPhase `json:"rss_stream"`
}

// preparedBot is a bot child that is ready, warmed up, and knows the size
// of a repetition.
type preparedBot struct {
	p        *party
	ctl      control
	c        *counter
	perShard int
	shards   int
	startupS float64
	rss      rssPhase // from just before the warm-up
}

// prepareBot starts the bot of spec, waits until it is ready, warms it up
// and calibrates the repetition size from the warm-up's rate. Between the
// start and the warm-up it collects garbage, reads its idle RSS and resets
// its peak, so that b.rss measures the full-rate stream.
func prepareBot(spec partySpec) (*preparedBot, error) {
	installEngine(spec.Engine)
	ctx := context.Background()
	b := &preparedBot{ctl: newControl(spec.Fake.Control), c: newCounter(spec.Shards), shards: spec.Shards}
	b.c.work = spec.Work
	begin := time.Now()
	p, err := startParty(ctx, spec, b.c)
	if err != nil {
		return nil, err
	}
	b.p = p
	readyCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := b.c.waitReady(readyCtx, spec.Shards, spec.Guilds); err != nil {
		p.stop()
		return nil, err
	}
	b.startupS = time.Since(begin).Seconds()
	runtime.GC()
	b.rss = beginPhase()
	plan := spec.Bench
	warm := int64(plan.WarmupPerShard * spec.Shards)
	m := startMeter()
	if err := emitAndWait(ctx, b.ctl, b.c, plan.WarmupPerShard); err != nil {
		p.stop()
		return nil, err
	}
	rate := m.stop(warm).perWallSec()
	b.perShard = max(plan.MinPerShard, int(rate*plan.RepSeconds)/spec.Shards)
	return b, nil
}

// rep runs one MESSAGE_CREATE repetition.
func (b *preparedBot) rep() (sample, error) {
	n := int64(b.perShard * b.shards)
	m := startMeter()
	if err := emitAndWait(context.Background(), b.ctl, b.c, b.perShard); err != nil {
		return sample{}, err
	}
	return m.stop(n), nil
}

// emitAndWait asks the fake for perShard MESSAGE_CREATEs per shard and
// waits until the handler has counted them on every shard.
func emitAndWait(ctx context.Context, ctl control, c *counter, perShard int) error {
	c.expect(perShard)
	if err := ctl.emit(perShard); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return c.waitMsgs(ctx)
}

// measureMixed runs the fake's mixed stream at full rate and counts what
// the handler sees in each window, after a short ramp.
func measureMixed(ctl control, c *counter, plan benchPlan) ([]sample, error) {
	window := time.Duration(plan.MixedWindowS * float64(time.Second))
	var out []sample
	for range plan.Reps {
		if err := ctl.rate(-1); err != nil {
			return nil, err
		}
		ramp := time.NewTimer(window / 5)
		<-ramp.C
		start := c.mixed()
		m := startMeter()
		t := time.NewTimer(window)
		<-t.C
		out = append(out, m.stop(c.mixed()-start))
		if err := ctl.rate(0); err != nil {
			return nil, err
		}
	}
	if len(out) > 0 && out[0].Events == 0 {
		return out, fmt.Errorf("mixed stream: no events counted")
	}
	return out, nil
}
