package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"time"
)

// The headline ratios are measured in paired rounds. This machine's speed
// drifts by tens of percent over seconds (the decode-only limit alone has
// measured 4.7 to 6.6 CPU-µs per event in back-to-back runs), so figures
// taken minutes apart, as the matrix takes them, can be compared only
// roughly. For the headline, every party stays up at once, idle, in its
// own process, and the parent asks each in turn for one repetition per
// round. A ratio is taken within each round and the rounds' median is
// quoted, with its spread.

// A stepped child speaks a line protocol: after its set-up it writes one
// JSON line (its ready line), then for each command line on stdin it runs
// one step and writes one JSON line; it exits when stdin closes. The
// commands are "rep" (one repetition at full rate) and, for a bot,
// "paced JSON" (one paced window; see pacedCmd).

// serveSteps runs the child side of the protocol: ready first, then one
// step per command line until stdin closes. step reports an unknown
// command as an error.
func serveSteps(ready any, step func(cmd string) (any, error)) error {
	if err := writeResult(ready); err != nil {
		return err
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		out, err := step(sc.Text())
		if err != nil {
			return err
		}
		if err := writeResult(out); err != nil {
			return err
		}
	}
	return sc.Err()
}

// stepper is the parent's handle on a stepped child.
type stepper struct{ *piped }

// startStepped starts a stepped child and decodes its ready line into
// ready, waiting at most setup for it.
func (l launcher) startStepped(ctx context.Context, role string, spec, ready any, setup time.Duration) (*stepper, error) {
	p, err := l.startPiped(ctx, role, spec)
	if err != nil {
		return nil, err
	}
	s := &stepper{p}
	if err := s.next(ready, setup); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// next decodes the child's next line into out, waiting at most d.
func (s *stepper) next(out any, d time.Duration) error {
	line, err := s.nextLine(d)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(line), out); err != nil {
		return &childError{Role: s.role, Err: fmt.Errorf("decoding %q: %w", line, err), Tail: s.tail.String()}
	}
	return nil
}

// rep asks for one repetition and decodes its result into out.
func (s *stepper) rep(out any) error { return s.do(cmdRep, out) }

// do sends one command line and decodes the step's result into out.
func (s *stepper) do(cmd string, out any) error {
	if _, err := io.WriteString(s.stdin, cmd+"\n"); err != nil {
		return &childError{Role: s.role, Err: err, Tail: s.tail.String(), Panic: s.tail.panicLine()}
	}
	return s.next(out, 5*time.Minute)
}

// cmdRep is the stepped command for one repetition at full rate.
const cmdRep = "rep"

// errUnknownStep is matched by a stepped child's error for a command it
// does not know.
var errUnknownStep = errors.New("bench: stepped child: unknown command")

func unknownStep(cmd string) error { return fmt.Errorf("%w %q", errUnknownStep, cmd) }

// limitStep is one repetition of the stepped limit child.
type limitStep struct {
	Decode   sample `json:"decode"`   // wire.ParseEnvelopeLazy + DecodeUnchecked: the decode-only limit
	Dispatch sample `json:"dispatch"` // the same, then disgo's event manager into a counting listener
	Scan     sample `json:"scan"`     // the same bytes scanned for structure only (wire.ExactData): no struct, no allocation
	Validate sample `json:"validate"` // the same bytes validated by the decode engine (go-json's Valid): no struct
}

// pairedSeries is one party's samples, one per round.
type pairedSeries struct {
	Label    string   `json:"label"`
	Clusters int      `json:"clusters,omitempty"`
	Samples  []sample `json:"samples"`
	Figure   figure   `json:"median"`
	// RSS is a bot's resident memory just before its full-rate stream
	// (idle, after startup and a GC) and its peak during it, up to its
	// last repetition of the paired rounds.
	RSS *rssPhase `json:"rss_stream,omitempty"`
}

// roundStat is a figure taken within each round, a ratio or a
// difference, with its median and spread over the rounds.
type roundStat struct {
	Name     string    `json:"name"`
	Median   float64   `json:"median"`
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`
	PerRound []float64 `json:"per_round"`
}

// roundStatOf summarizes the per-round figures of name.
func roundStatOf(name string, perRound []float64) roundStat {
	r := roundStat{Name: name, PerRound: perRound}
	if len(perRound) > 0 {
		r.Median = median(perRound)
		r.Min, r.Max = slices.Min(perRound), slices.Max(perRound)
	}
	return r
}

// pairedResult is the headline measured in paired rounds.
type pairedResult struct {
	Rounds int            `json:"rounds"`
	Series []pairedSeries `json:"series"`
	Ratios []roundStat    `json:"ratios"`
	// Differences are CPU-µs per event, one party's minus another's
	// within each round: megane_overhead_us (Megane minus the limit plus
	// disgo's event dispatch) and the decoder's room over a scan.
	Differences []roundStat `json:"differences_us"`
	// HandlerWorkUS is what the working handler's spin costs per event,
	// timed in the parent process (median).
	HandlerWorkUS float64 `json:"handler_work_us,omitempty"`
}

// Labels of the paired series, and names of its ratios and differences.
const (
	seriesLimit         = "decode-only limit"
	seriesLimitDispatch = "limit + disgo event dispatch"
	seriesScan          = "scan only (wire.ExactData)"
	seriesValidate      = "validate only (go-json Valid)"
	diffOverhead        = "megane_overhead_us"     // Megane − (limit + disgo event dispatch)
	diffDecoderRoom     = "decoder_room_us"        // limit − scan only
	diffStructCost      = "decoder_vs_validate_us" // limit − validate only: building the structs
	ratioVsLimit        = "megane_vs_limit"
	ratioVsDispatch     = "megane_vs_limit_with_disgo_events"
	ratioVsDisgo        = "megane_vs_disgo"
	ratioVsJSONv2       = "megane_vs_disgo_jsonv2"
	ratioTwoVsOne       = "megane_2_clusters_vs_1" // wall events/s
	// The same with a handler that works (spin) on every message.
	seriesWorking        = "megane, working handler"
	ratioTwoVsOneWorking = "megane_2_clusters_vs_1_working_handler"
)

// handlerWork is the rounds of spin the working handler runs per
// MESSAGE_CREATE: about 20 µs here, a handler that does something with the
// message. A cluster runs all its handlers on one goroutine (its
// executor), so this is where a second cluster is meant to pay off.
const handlerWork = 10000

// spinMicros times spin(…, n) in this process: the median of 9 batches.
func spinMicros(n int) float64 {
	const calls = 50
	var sink uint64
	us := make([]float64, 9)
	for i := range us {
		start := time.Now()
		for j := range calls {
			sink += spin(uint64(j), n)
		}
		us[i] = float64(time.Since(start).Microseconds()) / calls
	}
	runtime.KeepAlive(sink)
	return median(us)
}

// ratio returns the named ratio or difference, or nil.
func (p *pairedResult) ratio(name string) *roundStat { return findStat(name, p.Ratios, p.Differences) }

// findStat returns the first round stat of name in lists, or nil.
func findStat(name string, lists ...[]roundStat) *roundStat {
	for _, xs := range lists {
		for i := range xs {
			if xs[i].Name == name {
				return &xs[i]
			}
		}
	}
	return nil
}

// series returns the series of label (and clusters, when not 0), or nil.
func (p *pairedResult) series(label string, clusters int) *pairedSeries {
	for i := range p.Series {
		if p.Series[i].Label == label && (clusters == 0 || p.Series[i].Clusters == clusters) {
			return &p.Series[i]
		}
	}
	return nil
}

// pairedRatioOf builds the ratio a ÷ b of by (events per CPU-second or
// per wall second), round by round.
func pairedRatioOf(name string, a, b *pairedSeries, by func(sample) float64) roundStat {
	var per []float64
	for i := range min(len(a.Samples), len(b.Samples)) {
		per = append(per, ratio(by(a.Samples[i]), by(b.Samples[i])))
	}
	return roundStatOf(name, per)
}

// pairedDiffOf builds the difference a − b of CPU-µs per event, round by
// round.
func pairedDiffOf(name string, a, b *pairedSeries) roundStat {
	var per []float64
	for i := range min(len(a.Samples), len(b.Samples)) {
		per = append(per, a.Samples[i].cpuMicrosPerEvent()-b.Samples[i].cpuMicrosPerEvent())
	}
	return roundStatOf(name, per)
}

// roundOrder is the order of n parties in a round: a new one every round
// (seeded, so runs are comparable), so that no party always runs in the
// same place or right after the same other party, whose leftover activity
// could slow it.
func roundOrder(round, n int) []int {
	return rand.New(rand.NewPCG(uint64(round), 0x6d6567616e65)).Perm(n)
}

// defaultClusters is Megane's default cluster count at the headline point.
func defaultClusters() int { return min(runtime.GOMAXPROCS(0), headlineShards) }

// pairedParty is one party of the paired rounds while they run.
type pairedParty struct {
	series *pairedSeries
	// extras are the limit child's further figures, in limitStep's order
	// after Decode (Dispatch, Scan, Validate); nil for a bot.
	extras []*pairedSeries
	st     *stepper
	fake   *server
	work   int // the handler's spin rounds per message (0: it only counts)
	// baseline parties may fail without failing the run; a failed one
	// takes no more repetitions and reports no series.
	baseline, failed bool
}

// runPaired measures the headline point in paired rounds.
func (r *runner) runPaired(ctx context.Context) {
	md := r.mode
	shards := headlineShards
	guilds := max(100, 4*shards)
	fs := fakeSpec{Shards: shards, Guilds: guilds, Members: 10, Channels: 10, Roles: 5, MaxConcurrency: 16}
	res := &pairedResult{}
	var parties []*pairedParty
	defer func() {
		for _, p := range parties {
			p.st.stop()
			if p.fake != nil {
				p.fake.stop()
			}
		}
	}()

	r.progress("paired headline: starting the limit and every bot (%d shards each, own fake)", shards)
	lim := &pairedParty{series: &pairedSeries{Label: seriesLimit}, extras: []*pairedSeries{
		{Label: seriesLimitDispatch}, {Label: seriesScan}, {Label: seriesValidate}}}
	spec := limitSpec{Frames: md.limitFrames, RepSeconds: md.limitRep}
	st, err := r.self.startStepped(ctx, "limit-stepped", spec, new(struct{}), 5*time.Minute)
	if err != nil {
		r.fail("paired headline: limit: %v", err)
		return
	}
	lim.st = st
	parties = append(parties, lim)

	contenders := r.contenders(shards, "none")
	contenders = slices.DeleteFunc(contenders, func(c contender) bool { return c.engine == engineStd && c.party == partyMegane })
	for _, ct := range contenders {
		fake, addr, err := startFake(ctx, r.self, fs)
		if err != nil {
			r.fail("paired headline: fake for %s: %v", ct.label, err)
			return
		}
		bs := partySpec{Party: ct.party, Engine: ct.engine, Shards: shards, Clusters: ct.clusters,
			Guilds: guilds, Fake: addr, Bench: md.plan}
		st, err := ct.exe.startStepped(ctx, "bot-stepped", bs, new(struct{}), 5*time.Minute)
		if err != nil {
			fake.stop()
			what := fmt.Sprintf("paired headline: %s: %v", ct.label, firstLine(err.Error()))
			if ct.party == partyMegane {
				r.fail("%s", what)
				return
			}
			r.rep.Notes = append(r.rep.Notes, "baseline "+what)
			continue
		}
		parties = append(parties, &pairedParty{series: &pairedSeries{Label: ct.label, Clusters: ct.clusters}, st: st, fake: fake,
			baseline: ct.party != partyMegane})
	}

	// The working-handler pair: Megane with 1 cluster and with the
	// default count, each handler spinning handlerWork rounds per message.
	if n := min(runtime.GOMAXPROCS(0), shards); n > 1 {
		for _, clusters := range []int{1, n} {
			fake, addr, err := startFake(ctx, r.self, fs)
			if err != nil {
				r.fail("paired headline: fake for %s: %v", seriesWorking, err)
				return
			}
			bs := partySpec{Party: partyMegane, Engine: engineFast, Shards: shards, Clusters: clusters,
				Guilds: guilds, Fake: addr, Bench: md.plan, Work: handlerWork}
			st, err := r.self.startStepped(ctx, "bot-stepped", bs, new(struct{}), 5*time.Minute)
			if err != nil {
				fake.stop()
				r.fail("paired headline: %s, %d clusters: %v", seriesWorking, clusters, firstLine(err.Error()))
				return
			}
			parties = append(parties, &pairedParty{series: &pairedSeries{Label: seriesWorking, Clusters: clusters}, st: st, fake: fake,
				work: handlerWork})
		}
		res.HandlerWorkUS = spinMicros(handlerWork)
	}

	for round := range md.pairedRounds {
		r.progress("paired headline: round %d of %d", round+1, md.pairedRounds)
		for _, i := range roundOrder(round, len(parties)) {
			p := parties[i]
			if p.extras != nil {
				var ls limitStep
				if err := p.st.rep(&ls); err != nil {
					r.fail("paired headline: limit: %v", err)
					return
				}
				p.series.Samples = append(p.series.Samples, ls.Decode)
				for j, s := range []sample{ls.Dispatch, ls.Scan, ls.Validate} {
					p.extras[j].Samples = append(p.extras[j].Samples, s)
				}
				continue
			}
			if p.failed {
				continue
			}
			var s botStep
			if err := p.st.rep(&s); err != nil {
				what := fmt.Sprintf("paired headline: %s: %v", p.series.Label, firstLine(err.Error()))
				if p.baseline {
					// A baseline that breaks (plain disgo has lost a
					// shard's events under full load) is a result: it
					// leaves the rounds, the others go on.
					r.rep.Notes = append(r.rep.Notes, "baseline "+what+"; it left the paired rounds")
					p.failed = true
					continue
				}
				r.fail("%s", what)
				return
			}
			p.series.Samples = append(p.series.Samples, s.sample)
			p.series.RSS = &s.RSS
		}
	}

	for _, p := range parties {
		if p.failed {
			continue
		}
		for _, s := range append([]*pairedSeries{p.series}, p.extras...) {
			s.Figure = summarize(s.Samples)
			s.Figure.Samples = nil
			res.Series = append(res.Series, *s)
		}
	}
	res.Rounds = md.pairedRounds
	head := res.series("megane", defaultClusters())
	if head == nil {
		r.fail("paired headline: no megane series")
		return
	}
	for _, x := range []struct {
		name, label string
		clusters    int
	}{
		{ratioVsLimit, seriesLimit, 0}, {ratioVsDispatch, seriesLimitDispatch, 0},
		{ratioVsDisgo, "disgo", 0}, {ratioVsJSONv2, "disgo(jsonv2)", 0},
	} {
		if b := res.series(x.label, x.clusters); b != nil {
			res.Ratios = append(res.Ratios, pairedRatioOf(x.name, head, b, sample.perCPUSec))
		}
	}
	if one := res.series("megane", 1); one != nil && one != head {
		res.Ratios = append(res.Ratios, pairedRatioOf(ratioTwoVsOne, head, one, sample.perWallSec))
	}
	one, many := res.series(seriesWorking, 1), res.series(seriesWorking, defaultClusters())
	if one != nil && many != nil && one != many {
		res.Ratios = append(res.Ratios, pairedRatioOf(ratioTwoVsOneWorking, many, one, sample.perWallSec))
	}
	limit := res.series(seriesLimit, 0)
	for _, x := range []struct {
		name string
		a, b *pairedSeries
	}{
		{diffOverhead, head, res.series(seriesLimitDispatch, 0)},
		{diffDecoderRoom, limit, res.series(seriesScan, 0)},
		{diffStructCost, limit, res.series(seriesValidate, 0)},
	} {
		if x.a != nil && x.b != nil {
			res.Differences = append(res.Differences, pairedDiffOf(x.name, x.a, x.b))
		}
	}
	r.rep.Paired = res
	r.runPacedAfterPaired(ctx, parties)
}
