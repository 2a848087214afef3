package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Issue 12's targets: each gets its figure from this run, the same-run
// baseline it is judged beside, and whether it was met.

// The outcomes of a target.
const (
	outcomeMet      = "met"
	outcomeMissed   = "missed"
	outcomeMeasured = "n/a" // not measured in this run (a section did not run, or a party failed)
)

// target is one of issue 12's targets, judged on this run.
type target struct {
	Name     string  `json:"name"`
	Figure   float64 `json:"figure"`
	Unit     string  `json:"unit"`
	Op       string  `json:"op"` // "<=" or ">="
	Bound    float64 `json:"bound"`
	Baseline string  `json:"baseline"` // the same-run baseline, in words and figures
	Outcome  string  `json:"outcome"`  // met, missed or n/a
}

// reading is a figure and whether this run measured it.
type reading struct {
	v  float64
	ok bool
}

func read(v float64, ok bool) reading { return reading{v, ok} }

// judge decides a target: n/a when the figure was not measured, else met
// when figure op bound holds.
func judge(fig reading, op string, bound float64) string {
	if !fig.ok {
		return outcomeMeasured
	}
	var met bool
	switch op {
	case "<=":
		met = fig.v <= bound
	case ">=":
		met = fig.v >= bound
	default:
		panic("bench: judge: unknown op " + op) // a programming error in the table below
	}
	if met {
		return outcomeMet
	}
	return outcomeMissed
}

// newTarget builds a judged target.
func newTarget(name string, fig reading, unit, op string, bound float64, baseline string) target {
	t := target{Name: name, Unit: unit, Op: op, Bound: bound, Baseline: baseline, Outcome: judge(fig, op, bound)}
	if fig.ok {
		t.Figure = fig.v
	}
	return t
}

// fmtReading prints a reading with format, or "n/a".
func fmtReading(format string, x reading) string {
	if !x.ok {
		return "n/a"
	}
	return fmt.Sprintf(format, x.v)
}

// issue12Figures are the readings the targets are judged on, gathered
// from the report's sections.
type issue12Figures struct {
	paced, pacedDisgo, pacedRatio, pacedOverhead map[float64]reading // per rate
	pacedRef                                     reading             // limit + dispatch in the paced rounds
	maxRate, maxRateDisgo, maxRateRatio          reading
	twoClusterRate, oneClusterRate               reading // wall events/s
	overhead, overheadRef                        reading
	working, workingOne                          reading // 2 ÷ 1 clusters with the working handler; 1 cluster's events/s
	rssStream                                    reading // peak ÷ idle
	rssIdleKB, rssPeakKB                         reading
	startPeak, settledKB, startPeakKB            reading
	startGuilds                                  int
	rssPerGuild, rssPerGuildMegane, rssPerGuildD reading
}

// gather collects the readings; the paired and paced sections win over
// the matrix, as in finish.
func (r *report) gather() issue12Figures {
	f := issue12Figures{paced: map[float64]reading{}, pacedDisgo: map[float64]reading{},
		pacedRatio: map[float64]reading{}, pacedOverhead: map[float64]reading{}}
	if p := r.Paced; p != nil {
		for _, rate := range p.Rates {
			if s := p.series(seriesPacedMegane, rate); s != nil && len(s.Samples) > 0 {
				f.paced[rate] = read(s.Figure.TotalMicros, true)
			}
			if s := p.series(seriesPacedDisgo, rate); s != nil && len(s.Samples) > 0 {
				f.pacedDisgo[rate] = read(s.Figure.TotalMicros, true)
			}
			if st := p.stat(pacedName(ratioPacedVsDisgo, rate)); st != nil && len(st.PerRound) > 0 {
				f.pacedRatio[rate] = read(st.Median, true)
			}
			if st := p.stat(pacedName(diffPacedOverhead, rate)); st != nil && len(st.PerRound) > 0 {
				f.pacedOverhead[rate] = read(st.Median, true)
			}
		}
		f.pacedRef = read(p.Reference.Figure.CPUMicrosPerEv, len(p.Reference.Samples) > 0)
	}
	if p := r.Paired; p != nil {
		if s := p.series("megane", defaultClusters()); s != nil {
			f.maxRate = read(s.Figure.CPUMicrosPerEv, true)
			if s.RSS != nil && s.RSS.Err == "" {
				f.rssStream = read(s.RSS.peakVsBefore(), true)
				f.rssIdleKB, f.rssPeakKB = read(float64(s.RSS.BeforeKB), true), read(float64(s.RSS.PeakKB), true)
			}
		}
		if s := p.series("disgo", 0); s != nil {
			f.maxRateDisgo = read(s.Figure.CPUMicrosPerEv, true)
		}
		if st := p.ratio(ratioVsDisgo); st != nil {
			f.maxRateRatio = read(st.Median, true)
		}
		if s := p.series("megane", 2); s != nil {
			f.twoClusterRate = read(s.Figure.EventsPerSec, true)
		}
		if s := p.series("megane", 1); s != nil {
			f.oneClusterRate = read(s.Figure.EventsPerSec, true)
		}
		if st := p.ratio(diffOverhead); st != nil {
			f.overhead = read(st.Median, true)
		}
		if s := p.series(seriesLimitDispatch, 0); s != nil {
			f.overheadRef = read(s.Figure.CPUMicrosPerEv, true)
		}
		if st := p.ratio(ratioTwoVsOneWorking); st != nil {
			f.working = read(st.Median, true)
		}
		if s := p.series(seriesWorking, 1); s != nil {
			f.workingOne = read(s.Figure.EventsPerSec, true)
		}
	}
	// Without the paired headline (-only throughput), the matrix's
	// headline cells.
	if c := r.cell("megane", headlineShards, defaultClusters(), "none"); c != nil {
		if !f.maxRate.ok {
			f.maxRate = read(c.Msg.CPUMicrosPerEv, true)
		}
		if !f.rssStream.ok && c.RSS.Err == "" && c.RSS.BeforeKB > 0 {
			f.rssStream = read(c.RSS.peakVsBefore(), true)
			f.rssIdleKB, f.rssPeakKB = read(float64(c.RSS.BeforeKB), true), read(float64(c.RSS.PeakKB), true)
		}
	}
	if c := r.cell("disgo", headlineShards, 0, "none"); c != nil && !f.maxRateDisgo.ok {
		f.maxRateDisgo = read(c.Msg.CPUMicrosPerEv, true)
	}
	if !f.maxRateRatio.ok && r.MeganeVsDisgo != 0 {
		f.maxRateRatio = read(r.MeganeVsDisgo, true)
	}
	for _, x := range []struct {
		clusters int
		dst      *reading
	}{{1, &f.oneClusterRate}, {2, &f.twoClusterRate}} {
		if c := r.cell("megane", headlineShards, x.clusters, "none"); c != nil && !x.dst.ok {
			*x.dst = read(c.Msg.EventsPerSec, true)
		}
	}
	for _, c := range r.Memory {
		if c.Err != "" || len(c.RepsRSSKB) == 0 {
			continue
		}
		switch c.Label {
		case memDefaultLabel:
			f.startPeak = read(c.PeakVsSettled, true)
			f.settledKB, f.startPeakKB, f.startGuilds = read(c.SettledKB, true), read(c.StartPeakKB, true), c.Guilds
		case memCompactLabel:
			f.rssPerGuildMegane = read(c.CachedRSSPerGuildKB, c.CachedRSSPerGuildKB > 0)
		case memDisgoLabel:
			f.rssPerGuildD = read(c.CachedRSSPerGuildKB, c.CachedRSSPerGuildKB > 0)
		}
	}
	if f.rssPerGuildMegane.ok && f.rssPerGuildD.ok {
		f.rssPerGuild = read(f.rssPerGuildMegane.v/f.rssPerGuildD.v, true)
	}
	return f
}

// issue12Targets judges every target of issue 12 on f.
func issue12Targets(f issue12Figures) []target {
	var ts []target
	for _, rate := range pacedRates {
		at := fmt.Sprintf("paced %s/s", rateSuffix(rate))
		ts = append(ts,
			newTarget(at+": Megane CPU-µs per event", f.paced[rate], "µs", "<=", 15,
				"plain disgo "+fmtReading("%.1f", f.pacedDisgo[rate])+" µs in the same rounds"),
			newTarget(at+": plain disgo's CPU per event ÷ Megane's", f.pacedRatio[rate], "×", ">=", 6,
				"disgo "+fmtReading("%.1f", f.pacedDisgo[rate])+" µs, Megane "+fmtReading("%.1f", f.paced[rate])+" µs"))
	}
	ts = append(ts,
		newTarget("full rate: Megane CPU-µs per event", f.maxRate, "µs", "<=", 4,
			"plain disgo "+fmtReading("%.1f", f.maxRateDisgo)+" µs"),
		newTarget("full rate: plain disgo's CPU per event ÷ Megane's", f.maxRateRatio, "×", ">=", 15,
			"disgo "+fmtReading("%.1f", f.maxRateDisgo)+" µs, Megane "+fmtReading("%.2f", f.maxRate)+" µs"),
		newTarget("full rate: Megane with 2 clusters, events/s", f.twoClusterRate, "events/s", ">=", 350000,
			"1 cluster "+fmtReading("%.0f", f.oneClusterRate)+" events/s"),
		newTarget("overhead at full rate: Megane − (limit + disgo's event dispatch)", f.overhead, "µs", "<=", 1,
			"limit + dispatch "+fmtReading("%.2f", f.overheadRef)+" µs"),
	)
	for _, rate := range pacedRates {
		ts = append(ts, newTarget(fmt.Sprintf("overhead paced %s/s: Megane − (limit + disgo's event dispatch)", rateSuffix(rate)),
			f.pacedOverhead[rate], "µs", "<=", 5, "limit + dispatch "+fmtReading("%.2f", f.pacedRef)+" µs in the paced rounds"))
	}
	guilds := "a"
	if f.startGuilds > 0 {
		guilds = fmt.Sprintf("a %d-guild", f.startGuilds)
	}
	ts = append(ts,
		newTarget("2 clusters ÷ 1 cluster with the working handler, events/s", f.working, "×", ">=", 1.6,
			"1 cluster "+fmtReading("%.0f", f.workingOne)+" events/s"),
		newTarget("RSS during the full-rate stream ÷ idle before it", f.rssStream, "×", "<=", 1.5,
			"idle "+fmtReading("%.1f", mib(f.rssIdleKB))+" MiB, peak "+fmtReading("%.1f", mib(f.rssPeakKB))+" MiB"),
		newTarget("peak RSS during "+guilds+" start ÷ settled RSS", f.startPeak, "×", "<=", 1.2,
			"settled "+fmtReading("%.1f", mib(f.settledKB))+" MiB, peak "+fmtReading("%.1f", mib(f.startPeakKB))+" MiB"),
		newTarget("RSS per cached guild, Megane's compact caches ÷ disgo's default cache", f.rssPerGuild, "×", "<=", 0.5,
			"disgo "+fmtReading("%.1f", f.rssPerGuildD)+" KiB/guild, Megane "+fmtReading("%.1f", f.rssPerGuildMegane)+
				" KiB/guild, each less its own caches-off row"),
	)
	return ts
}

// mib converts a KiB reading to MiB.
func mib(kb reading) reading { return reading{kb.v / 1024, kb.ok} }

// writeTargets prints the targets table.
func writeTargets(out io.Writer, ts []target) {
	if len(ts) == 0 {
		return
	}
	fmt.Fprintln(out, "Issue 12 targets (this run's figures beside this run's baselines):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tfigure\tbound\tsame-run baseline\toutcome\t")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", t.Name, t.figureText(), t.boundText(), t.Baseline, t.Outcome)
	}
	tw.Flush()
	fmt.Fprintln(out)
}

// figureText is the target's figure in its unit, or "n/a".
func (t target) figureText() string {
	if t.Outcome == outcomeMeasured {
		return "n/a"
	}
	return fmtFigure(t.Figure, t.Unit)
}

// boundText is the target's bound with its comparison: "<= 15.00 µs".
func (t target) boundText() string { return t.Op + " " + fmtFigure(t.Bound, t.Unit) }

// fmtFigure prints a target's figure in its unit.
func fmtFigure(x float64, unit string) string {
	switch unit {
	case "×":
		return fmt.Sprintf("%.2f×", x)
	case "µs":
		return fmt.Sprintf("%.2f µs", x)
	case "events/s":
		return fmt.Sprintf("%.0f/s", x)
	}
	return fmt.Sprintf("%g %s", x, unit)
}
