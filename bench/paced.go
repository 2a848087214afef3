package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The paced section. A real bot is not fed as fast as it can decode: it
// gets Discord's traffic as it comes, a few events at a time, and each
// event wakes a read loop, a decoder and an executor. So the headline is
// the CPU per event at a fixed rate, paced by the fake: 10,000 and 1,000
// MESSAGE_CREATEs per second in total over 16 shards, caches off, to
// Megane (default clusters) and to plain disgo. Each bot child reads its
// own CPU (user and system apart) over a fixed window and divides it by
// the events its handler counted in that window.
//
// The paced rounds run beside the paired rounds, right after them, with
// the same child processes still up: a paced window lasts seconds (10 s in
// full mode) where a full-rate repetition lasts about one, so a window in
// every paired round would multiply the run time. Within a paced round
// every party runs one window per rate, in a new order each round, with
// one repetition of the limit child as the round's reference, so the
// ratios and differences are still taken between figures seconds apart.

// pacedCmd asks a stepped bot child for one paced window; it travels as
// the command line "paced JSON".
type pacedCmd struct {
	Rate    float64 `json:"rate"`     // MESSAGE_CREATEs per second in total over all shards
	WindowS float64 `json:"window_s"` // the measured window
	RampS   float64 `json:"ramp_s"`   // paced traffic before the window starts
}

// pacedPrefix starts a paced command line.
const pacedPrefix = "paced "

// errBadPacedCmd is matched when a paced command does not parse or asks
// for no traffic or no window.
var errBadPacedCmd = errors.New("bench: bad paced command")

// line is the command line of c.
func (c pacedCmd) line() string {
	js, _ := json.Marshal(c)
	return pacedPrefix + string(js)
}

// parsePacedCmd parses a paced command line; ok is false when line is not
// a paced command at all.
func parsePacedCmd(line string) (cmd pacedCmd, ok bool, err error) {
	rest, ok := strings.CutPrefix(line, pacedPrefix)
	if !ok {
		return pacedCmd{}, false, nil
	}
	dec := json.NewDecoder(strings.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cmd); err != nil {
		return pacedCmd{}, true, fmt.Errorf("%w: %q: %w", errBadPacedCmd, rest, err)
	}
	if !(cmd.Rate > 0) || !(cmd.WindowS > 0) || cmd.RampS < 0 {
		return pacedCmd{}, true, fmt.Errorf("%w: %q: rate and window must be positive, ramp not negative", errBadPacedCmd, rest)
	}
	return cmd, true, nil
}

// pacedSample is one paced window of one bot child.
type pacedSample struct {
	Rate       float64 `json:"rate"`       // asked for, events/s in total
	Events     int64   `json:"events"`     // MESSAGE_CREATEs the handler counted in the window
	Sent       int64   `json:"sent"`       // dispatches the fake wrote over about the same window
	WallSec    float64 `json:"wall_s"`     // the window
	UserSec    float64 `json:"user_s"`     // the bot process's user CPU in the window
	SysSec     float64 `json:"sys_s"`      // and its system CPU
	FakeCPUSec float64 `json:"fake_cpu_s"` // the fake process's CPU over the window
}

func perEventMicros(cpuSec float64, events int64) float64 {
	if events <= 0 {
		return 0
	}
	return cpuSec * 1e6 / float64(events)
}

func (s pacedSample) userMicros() float64  { return perEventMicros(s.UserSec, s.Events) }
func (s pacedSample) sysMicros() float64   { return perEventMicros(s.SysSec, s.Events) }
func (s pacedSample) totalMicros() float64 { return perEventMicros(s.UserSec+s.SysSec, s.Events) }

func (s pacedSample) receivedPerSec() float64 { return ratio(float64(s.Events), s.WallSec) }
func (s pacedSample) sentPerSec() float64     { return ratio(float64(s.Sent), s.WallSec) }
func (s pacedSample) fakeCores() float64      { return ratio(s.FakeCPUSec, s.WallSec) }

// pacedTolerance is how far below the asked rate the fake's sending, and
// below the fake's sending the bot's receiving, may fall before the window
// is reported as not at its rate.
const pacedTolerance = 0.05

// shortfall describes how the window fell short of its rate: the fake
// sent too little (it could not sustain the rate) or the bot received too
// little of it (it fell behind). It returns "" for a window at its rate.
func (s pacedSample) shortfall() string {
	var out []string
	if sent := s.sentPerSec(); sent < (1-pacedTolerance)*s.Rate {
		out = append(out, fmt.Sprintf("the fake sent %.0f/s of %.0f/s asked (its process used %.2f cores)", sent, s.Rate, s.fakeCores()))
	}
	if got, sent := s.receivedPerSec(), s.sentPerSec(); got < (1-pacedTolerance)*sent {
		out = append(out, fmt.Sprintf("the bot received %.0f/s of %.0f/s sent", got, sent))
	}
	return strings.Join(out, "; ")
}

// pacedFigure is the medians of a paced series.
type pacedFigure struct {
	Windows       int     `json:"windows"`
	UserMicros    float64 `json:"user_cpu_us_per_event"`
	SysMicros     float64 `json:"sys_cpu_us_per_event"`
	TotalMicros   float64 `json:"cpu_us_per_event"`
	ReceivedPerS  float64 `json:"received_events_per_s"`
	SentPerS      float64 `json:"sent_events_per_s"`
	FakeCPUCores  float64 `json:"fake_cpu_cores"` // the fake process's CPU ÷ wall time
	EventsPerCPUS float64 `json:"events_per_cpu_s"`
}

// summarizePaced takes the median of each figure over the windows. The
// total is the median of the windows' totals, so it need not equal the
// sum of the user and system medians.
func summarizePaced(ss []pacedSample) pacedFigure {
	col := func(f func(pacedSample) float64) float64 {
		xs := make([]float64, len(ss))
		for i, s := range ss {
			xs[i] = f(s)
		}
		return median(xs)
	}
	total := col(pacedSample.totalMicros)
	return pacedFigure{
		Windows:       len(ss),
		UserMicros:    col(pacedSample.userMicros),
		SysMicros:     col(pacedSample.sysMicros),
		TotalMicros:   total,
		ReceivedPerS:  col(pacedSample.receivedPerSec),
		SentPerS:      col(pacedSample.sentPerSec),
		FakeCPUCores:  col(pacedSample.fakeCores),
		EventsPerCPUS: ratio(1e6, total),
	}
}

// pacedSeries is one party at one rate, one window per round.
type pacedSeries struct {
	Label    string        `json:"label"`
	Clusters int           `json:"clusters,omitempty"`
	Rate     float64       `json:"rate"` // events/s in total over all shards
	Samples  []pacedSample `json:"samples"`
	Figure   pacedFigure   `json:"median"`
}

// pacedResult is the paced section.
type pacedResult struct {
	Rounds  int           `json:"rounds"`
	Shards  int           `json:"shards"`
	WindowS float64       `json:"window_s"`
	RampS   float64       `json:"ramp_s"`
	Rates   []float64     `json:"rates"`
	Series  []pacedSeries `json:"series"`
	// Reference is the limit plus disgo's event dispatch, one full-rate
	// repetition of the limit child per paced round.
	Reference pairedSeries `json:"reference"`
	// Ratios: disgo's CPU per event ÷ Megane's, per rate
	// (megane_vs_disgo_paced_10k, …). Differences: Megane's CPU per
	// event − the reference's (megane_overhead_us_paced_10k, …).
	Ratios      []roundStat `json:"ratios"`
	Differences []roundStat `json:"differences_us"`
}

// The rates of the paced section, in events/s in total over all shards;
// the first is the headline.
var pacedRates = []float64{10000, 1000}

// rateSuffix names a rate in keys: 10000 → "10k".
func rateSuffix(rate float64) string {
	if rate >= 1000 && int64(rate)%1000 == 0 {
		return fmt.Sprintf("%dk", int64(rate)/1000)
	}
	return fmt.Sprintf("%g", rate)
}

// Names of the paced section's per-rate figures (+ "_" + rateSuffix).
const (
	ratioPacedVsDisgo = "megane_vs_disgo_paced"
	diffPacedOverhead = "megane_overhead_us_paced"
	seriesPacedMegane = "megane"
	seriesPacedDisgo  = "disgo"
	pacedNotePrefix   = "paced: "
)

// pacedName is a per-rate name: base_10k.
func pacedName(base string, rate float64) string { return base + "_" + rateSuffix(rate) }

// series returns the series of label at rate, or nil.
func (p *pacedResult) series(label string, rate float64) *pacedSeries {
	for i := range p.Series {
		if p.Series[i].Label == label && p.Series[i].Rate == rate {
			return &p.Series[i]
		}
	}
	return nil
}

// stat returns the named ratio or difference, or nil.
func (p *pacedResult) stat(name string) *roundStat { return findStat(name, p.Ratios, p.Differences) }

// finish takes the medians, and the ratios and differences round by round
// (a round whose figure is missing on either side is left out).
func (p *pacedResult) finish() {
	for i := range p.Series {
		p.Series[i].Figure = summarizePaced(p.Series[i].Samples)
	}
	p.Reference.Figure = summarize(p.Reference.Samples)
	p.Reference.Figure.Samples = nil
	for _, rate := range p.Rates {
		mg, dg := p.series(seriesPacedMegane, rate), p.series(seriesPacedDisgo, rate)
		if mg == nil {
			continue
		}
		if dg != nil {
			var per []float64
			for i := range min(len(mg.Samples), len(dg.Samples)) {
				per = append(per, ratio(dg.Samples[i].totalMicros(), mg.Samples[i].totalMicros()))
			}
			p.Ratios = append(p.Ratios, roundStatOf(pacedName(ratioPacedVsDisgo, rate), per))
		}
		var per []float64
		for i := range min(len(mg.Samples), len(p.Reference.Samples)) {
			per = append(per, mg.Samples[i].totalMicros()-p.Reference.Samples[i].cpuMicrosPerEvent())
		}
		p.Differences = append(p.Differences, roundStatOf(pacedName(diffPacedOverhead, rate), per))
	}
}

// pacedJob is one step of a paced round: a party's window at a rate,
// recorded in res.Series[series], or (series -1) the limit child's
// reference repetition.
type pacedJob struct {
	party  *pairedParty
	rate   float64
	series int
}

// runPaced runs the paced rounds with the paired headline's children:
// lim (the limit child), head (Megane at the default cluster count) and
// dsg (plain disgo; nil when it is missing or failed).
func (r *runner) runPaced(lim, head, dsg *pairedParty) *pacedResult {
	md := r.mode
	res := &pacedResult{Rounds: md.pacedRounds, Shards: headlineShards, WindowS: md.pacedWindowS, RampS: md.pacedRampS,
		Rates: pacedRates, Reference: pairedSeries{Label: seriesLimitDispatch}}
	if dsg == nil {
		r.rep.Notes = append(r.rep.Notes, pacedNotePrefix+"plain disgo is not in the paired rounds, so the paced section measures Megane only")
	}
	jobs := []pacedJob{{party: lim, series: -1}}
	for _, rate := range pacedRates {
		for _, x := range []struct {
			p     *pairedParty
			label string
		}{{head, seriesPacedMegane}, {dsg, seriesPacedDisgo}} {
			if x.p != nil {
				jobs = append(jobs, pacedJob{party: x.p, rate: rate, series: len(res.Series)})
				res.Series = append(res.Series, pacedSeries{Label: x.label, Clusters: x.p.series.Clusters, Rate: rate})
			}
		}
	}
	for round := range md.pacedRounds {
		r.progress("paced: round %d of %d (%g s windows at %v events/s in total)", round+1, md.pacedRounds, md.pacedWindowS, pacedRates)
		for _, i := range roundOrder(round, len(jobs)) {
			j := jobs[i]
			if j.series < 0 {
				var ls limitStep
				if err := j.party.st.rep(&ls); err != nil {
					r.fail("paced: limit: %v", err)
					return nil
				}
				res.Reference.Samples = append(res.Reference.Samples, ls.Dispatch)
				continue
			}
			if j.party.failed {
				continue
			}
			var s pacedSample
			cmd := pacedCmd{Rate: j.rate, WindowS: md.pacedWindowS, RampS: md.pacedRampS}
			if err := j.party.st.do(cmd.line(), &s); err != nil {
				what := fmt.Sprintf("paced: %s at %.0f/s: %v", j.party.series.Label, j.rate, firstLine(err.Error()))
				if j.party.baseline {
					r.rep.Notes = append(r.rep.Notes, "baseline "+what+"; it left the paced rounds")
					j.party.failed = true
					continue
				}
				r.fail("%s", what)
				return nil
			}
			if short := s.shortfall(); short != "" {
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s%s at %.0f/s, round %d: %s", pacedNotePrefix, j.party.series.Label, j.rate, round+1, short))
			}
			res.Series[j.series].Samples = append(res.Series[j.series].Samples, s)
		}
	}
	// A baseline that failed mid-way keeps no series.
	if dsg != nil && dsg.failed {
		res.Series = slices.DeleteFunc(res.Series, func(s pacedSeries) bool { return s.Label == seriesPacedDisgo })
	}
	res.finish()
	return res
}

// pacedWindow runs one paced window on a prepared bot: the fake paces
// cmd.Rate, the bot waits cmd.RampS, then reads its CPU, its handler's
// count and the fake's load before and after cmd.WindowS. The pace stops
// before it returns, and the bot waits until the last events are counted.
func (b *preparedBot) pacedWindow(cmd pacedCmd) (pacedSample, error) {
	if err := b.ctl.pace(cmd.Rate); err != nil {
		return pacedSample{}, err
	}
	out, err := b.measurePaced(cmd)
	if stopErr := b.ctl.pace(0); err == nil {
		err = stopErr
	}
	b.settle()
	return out, err
}

func (b *preparedBot) measurePaced(cmd pacedCmd) (pacedSample, error) {
	time.Sleep(secs(cmd.RampS))
	before, err := b.ctl.load()
	if err != nil {
		return pacedSample{}, err
	}
	ev0, began := b.c.msgs(), time.Now()
	u0, s0 := cpuSplit()
	time.Sleep(secs(cmd.WindowS))
	ev1 := b.c.msgs()
	u1, s1 := cpuSplit()
	wall := time.Since(began)
	after, err := b.ctl.load()
	if err != nil {
		return pacedSample{}, err
	}
	return pacedSample{
		Rate: cmd.Rate, Events: ev1 - ev0, Sent: after.Dispatches - before.Dispatches, WallSec: wall.Seconds(),
		UserSec: (u1 - u0).Seconds(), SysSec: (s1 - s0).Seconds(), FakeCPUSec: after.CPUSec - before.CPUSec,
	}, nil
}

// settle waits until the handler's count has stood still for 60 ms (at
// most 5 s), so that no paced event left in flight reaches the next step.
func (b *preparedBot) settle() {
	const poll, still = 20 * time.Millisecond, 3
	last, same := b.c.msgs(), 0
	for deadline := time.Now().Add(5 * time.Second); same < still && time.Now().Before(deadline); {
		time.Sleep(poll)
		if n := b.c.msgs(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// step runs one command of a stepped bot child: "rep" (one full-rate
// repetition) or a paced window.
func (b *preparedBot) step(cmd string) (any, error) {
	if cmd == cmdRep {
		s, err := b.rep()
		if err != nil {
			return nil, err
		}
		b.rss.endPhase()
		return botStep{sample: s, RSS: b.rss}, nil
	}
	pc, ok, err := parsePacedCmd(cmd)
	switch {
	case !ok:
		return nil, unknownStep(cmd)
	case err != nil:
		return nil, err
	}
	return b.pacedWindow(pc)
}

// runPacedAfterPaired runs the paced rounds with the children of the
// paired rounds that have just ended.
func (r *runner) runPacedAfterPaired(ctx context.Context, parties []*pairedParty) {
	if r.mode.pacedRounds == 0 || ctx.Err() != nil {
		return
	}
	var lim, head, dsg *pairedParty
	for _, p := range parties {
		switch {
		case p.extras != nil:
			lim = p
		case p.work == 0 && p.series.Label == "megane" && p.series.Clusters == defaultClusters():
			head = p
		case p.series.Label == "disgo" && !p.failed:
			dsg = p
		}
	}
	if lim == nil || head == nil {
		r.fail("paced: the paired rounds have no limit or no megane party")
		return
	}
	r.rep.Paced = r.runPaced(lim, head, dsg)
}
