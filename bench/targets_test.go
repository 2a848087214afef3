package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fig   reading
		op    string
		bound float64
		want  string
	}{
		{read(14.9, true), "<=", 15, outcomeMet},
		{read(15, true), "<=", 15, outcomeMet},
		{read(15.01, true), "<=", 15, outcomeMissed},
		{read(6, true), ">=", 6, outcomeMet},
		{read(5.99, true), ">=", 6, outcomeMissed},
		{read(-0.5, true), "<=", 1, outcomeMet}, // an overhead may come out negative
		{read(0, true), "<=", 1, outcomeMet},    // zero is a figure when measured
		{read(0, false), "<=", 1, outcomeMeasured},
		{read(99, false), ">=", 1, outcomeMeasured},
	}
	for _, tc := range cases {
		if got := judge(tc.fig, tc.op, tc.bound); got != tc.want {
			t.Errorf("judge(%+v %s %v) = %s; want %s", tc.fig, tc.op, tc.bound, got, tc.want)
		}
	}
}

// issue12Report is a report whose sections give known figures for every
// target.
func issue12Report() *report {
	r := syntheticReport()
	mg := func(clusters int, usPerEv, perSec float64, rss *rssPhase) pairedSeries {
		return pairedSeries{Label: "megane", Clusters: clusters, Samples: []sample{{Events: 1, CPUSec: 1, WallSec: 1}},
			Figure: figure{CPUMicrosPerEv: usPerEv, EventsPerSec: perSec}, RSS: rss}
	}
	r.Paired = &pairedResult{Rounds: 3,
		Series: []pairedSeries{
			mg(1, 6, 300000, nil),
			mg(defaultClusters(), 3.5, 360000, &rssPhase{BeforeKB: 20 * 1024, PeakKB: 40 * 1024, PeakReset: true}),
			{Label: "disgo", Figure: figure{CPUMicrosPerEv: 60}},
			{Label: seriesLimitDispatch, Figure: figure{CPUMicrosPerEv: 3}},
			{Label: seriesWorking, Clusters: 1, Figure: figure{EventsPerSec: 40000}},
		},
		Ratios:      []roundStat{{Name: ratioVsDisgo, Median: 16, PerRound: []float64{16}}, {Name: ratioTwoVsOneWorking, Median: 1.5, PerRound: []float64{1.5}}},
		Differences: []roundStat{{Name: diffOverhead, Median: 0.5, PerRound: []float64{0.5}}},
	}
	if defaultClusters() != 2 {
		r.Paired.Series = append(r.Paired.Series, mg(2, 3.5, 360000, nil))
	}
	one := []pacedSample{{Events: 1}}
	r.Paced = &pacedResult{Rounds: 1, Shards: 16, WindowS: 3, RampS: 0.5, Rates: pacedRates,
		Series: []pacedSeries{
			{Label: seriesPacedMegane, Rate: 10000, Samples: one, Figure: pacedFigure{TotalMicros: 14}},
			{Label: seriesPacedDisgo, Rate: 10000, Samples: one, Figure: pacedFigure{TotalMicros: 98}},
			{Label: seriesPacedMegane, Rate: 1000, Samples: one, Figure: pacedFigure{TotalMicros: 20}},
			{Label: seriesPacedDisgo, Rate: 1000, Samples: one, Figure: pacedFigure{TotalMicros: 100}},
		},
		Reference: pairedSeries{Label: seriesLimitDispatch, Samples: []sample{{Events: 1}}, Figure: figure{CPUMicrosPerEv: 5}},
		Ratios: []roundStat{{Name: "megane_vs_disgo_paced_10k", Median: 7, PerRound: []float64{7}},
			{Name: "megane_vs_disgo_paced_1k", Median: 5, PerRound: []float64{5}}},
		Differences: []roundStat{{Name: "megane_overhead_us_paced_10k", Median: 9, PerRound: []float64{9}},
			{Name: "megane_overhead_us_paced_1k", Median: 4, PerRound: []float64{4}}},
	}
	rss := func(label, party string, perGuild, peak, settled float64) memCell {
		return memCell{Label: label, Party: party, Guilds: 1000, RSSPerGuildKB: perGuild, RepsRSSKB: []float64{perGuild},
			StartPeakKB: peak, SettledKB: settled, PeakVsSettled: peak / settled, PeakReset: true}
	}
	off := func(c memCell) memCell { c.CachesOff = true; return c }
	// RSS per cached guild: Megane 40 − 10, disgo 70 − 20.
	r.Memory = []memCell{
		off(rss("megane, caches off", partyMegane, 10, 50*1024, 40*1024)),
		rss(memDefaultLabel, partyMegane, 40, 110*1024, 100*1024),
		rss(memCompactLabel, partyMegane, 40, 110*1024, 100*1024),
		off(rss("disgo, caches off", partyDisgo, 20, 50*1024, 40*1024)),
		rss(memDisgoLabel, partyDisgo, 70, 200*1024, 150*1024),
	}
	netOfCachesOff(r.Memory)
	r.Notes = nil
	r.finish(quickMode())
	return r
}

func TestIssue12TargetsAreJudged(t *testing.T) {
	t.Parallel()
	r := issue12Report()
	want := map[string]struct {
		figure  float64
		outcome string
		base    string
	}{
		"paced 10k/s: Megane CPU-µs per event":                                  {14, outcomeMet, "plain disgo 98.0 µs"},
		"paced 10k/s: plain disgo's CPU per event ÷ Megane's":                   {7, outcomeMet, "disgo 98.0 µs, Megane 14.0 µs"},
		"paced 1k/s: Megane CPU-µs per event":                                   {20, outcomeMissed, "plain disgo 100.0 µs"},
		"paced 1k/s: plain disgo's CPU per event ÷ Megane's":                    {5, outcomeMissed, "disgo 100.0 µs"},
		"full rate: Megane CPU-µs per event":                                    {3.5, outcomeMet, "plain disgo 60.0 µs"},
		"full rate: plain disgo's CPU per event ÷ Megane's":                     {16, outcomeMet, "disgo 60.0 µs"},
		"full rate: Megane with 2 clusters, events/s":                           {360000, outcomeMet, "1 cluster 300000 events/s"},
		"overhead at full rate: Megane − (limit + disgo's event dispatch)":      {0.5, outcomeMet, "limit + dispatch 3.00 µs"},
		"overhead paced 10k/s: Megane − (limit + disgo's event dispatch)":       {9, outcomeMissed, "limit + dispatch 5.00 µs"},
		"overhead paced 1k/s: Megane − (limit + disgo's event dispatch)":        {4, outcomeMet, "limit + dispatch 5.00 µs"},
		"2 clusters ÷ 1 cluster with the working handler, events/s":             {1.5, outcomeMissed, "1 cluster 40000 events/s"},
		"RSS during the full-rate stream ÷ idle before it":                      {2, outcomeMissed, "idle 20.0 MiB, peak 40.0 MiB"},
		"peak RSS during a 1000-guild start ÷ settled RSS":                      {1.1, outcomeMet, "settled 100.0 MiB, peak 110.0 MiB"},
		"RSS per cached guild, Megane's compact caches ÷ disgo's default cache": {0.6, outcomeMissed, "disgo 50.0 KiB/guild, Megane 30.0 KiB/guild, each less its own caches-off row"},
	}
	if len(r.Targets) != len(want) {
		t.Errorf("%d targets; want %d", len(r.Targets), len(want))
	}
	for _, tg := range r.Targets {
		w, ok := want[tg.Name]
		if !ok {
			t.Errorf("unexpected target %q", tg.Name)
			continue
		}
		if diff := tg.Figure - w.figure; diff > 1e-9 || diff < -1e-9 || tg.Outcome != w.outcome || !strings.Contains(tg.Baseline, w.base) {
			t.Errorf("%s: %v %s (baseline %q); want %v %s (baseline with %q)", tg.Name, tg.Figure, tg.Outcome, tg.Baseline, w.figure, w.outcome, w.base)
		}
	}
}

// TestIssue12KeysInJSON: the keys CI and the lead read from -json carry
// the sections' figures.
func TestIssue12KeysInJSON(t *testing.T) {
	t.Parallel()
	js, err := json.Marshal(issue12Report())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]float64{
		"megane_vs_disgo_paced": 7, "megane_vs_disgo_paced_1k": 5,
		"megane_paced_cpu_us_per_event": 14, "megane_paced_cpu_us_per_event_1k": 20,
		"megane_overhead_us": 0.5, "megane_overhead_us_paced": 9, "megane_overhead_us_paced_1k": 4,
		"megane_cpu_us_per_event": 3.5, "rss_stream_vs_idle": 2, "rss_per_guild_vs_disgo": 0.6,
	} {
		if f, ok := got[k].(float64); !ok || f-v > 1e-9 || v-f > 1e-9 {
			t.Errorf("%s = %v; want %v", k, got[k], v)
		}
	}
	if f, ok := got["rss_start_peak_vs_settled"].(float64); !ok || f < 1.0999 || f > 1.1001 {
		t.Errorf("rss_start_peak_vs_settled = %v; want 1.1", got["rss_start_peak_vs_settled"])
	}
	if ts, ok := got["targets"].([]any); !ok || len(ts) != 14 {
		t.Errorf("targets = %v; want 14", got["targets"])
	}
}

// TestTargetsWithoutTheSections: a run without the paced, paired and
// memory sections judges nothing it did not measure.
func TestTargetsWithoutTheSections(t *testing.T) {
	t.Parallel()
	r := newReport("quick", nil)
	r.finish(quickMode())
	for _, tg := range r.Targets {
		if tg.Outcome != outcomeMeasured {
			t.Errorf("%s: %s with nothing measured; want n/a", tg.Name, tg.Outcome)
		}
	}
	var out bytes.Buffer
	writeTables(&out, r)
	if !strings.Contains(out.String(), "Issue 12 targets") || strings.Contains(out.String(), " met\n") {
		t.Errorf("tables:\n%s", out.String())
	}
}

func TestTablesCarryTheIssue12Sections(t *testing.T) {
	t.Parallel()
	r := issue12Report()
	var tables, md bytes.Buffer
	writeTables(&tables, r)
	if err := writeMarkdown(&md, r, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Issue 12 targets", "Paced (16 shards", "user µs/ev", "megane_vs_disgo_paced_10k",
		"megane_overhead_us_paced_1k", "RSS idle MiB", "RSS KB/guild", "start peak MiB", "megane_vs_disgo_paced  7.00× at 10k/s",
		"missed", "met"} {
		if !strings.Contains(tables.String(), want) {
			t.Errorf("tables lack %q", want)
		}
	}
	for _, want := range []string{"## Issue 12 targets", "| paced 10k/s: Megane CPU-µs per event | 14.00 µs | <= 15.00 µs |", "| met |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// TestNoteRSS: a stream whose peak could not be reset, or whose RSS could
// not be read, is noted once; good figures add no note.
func TestNoteRSS(t *testing.T) {
	t.Parallel()
	good := rssPhase{BeforeKB: 10, PeakKB: 20, PeakReset: true}
	noReset := rssPhase{BeforeKB: 10, PeakKB: 20}
	broken := rssPhase{Err: ErrNoProcStatus.Error()}
	cases := []struct {
		name   string
		paired []rssPhase
		cells  []tpCell
		want   []string
	}{
		{"all good", []rssPhase{good, good}, []tpCell{{RSS: good}}, nil},
		{"a paired peak not reset", []rssPhase{good, noReset, noReset}, nil, []string{noteNoPeakReset}},
		{"a matrix peak not reset", nil, []tpCell{{RSS: good}, {RSS: noReset}}, []string{noteNoPeakReset}},
		{"no RSS", []rssPhase{broken}, []tpCell{{RSS: broken}}, []string{"RSS: no stream figures: " + ErrNoProcStatus.Error()}},
		{"a failed cell is not read", nil, []tpCell{{RSS: broken, Err: "crashed"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &report{Throughput: tc.cells}
			if tc.paired != nil {
				r.Paired = &pairedResult{}
				for i := range tc.paired {
					r.Paired.Series = append(r.Paired.Series, pairedSeries{Label: "megane", RSS: &tc.paired[i]})
				}
			}
			r.noteRSS()
			if !slices.Equal(r.Notes, tc.want) {
				t.Errorf("notes %q; want %q", r.Notes, tc.want)
			}
		})
	}
}

func TestNetOfCachesOff(t *testing.T) {
	t.Parallel()
	cell := func(party string, off bool, perGuild float64) memCell {
		return memCell{Party: party, CachesOff: off, RSSPerGuildKB: perGuild, RepsRSSKB: []float64{perGuild}}
	}
	broken := func(c memCell) memCell { c.Err = "crashed"; return c }
	noRSS := func(c memCell) memCell { c.RepsRSSKB = nil; return c }
	cases := []struct {
		name  string
		cells []memCell
		want  []float64 // CachedRSSPerGuildKB, cell by cell
	}{
		{"each party less its own caches-off row",
			[]memCell{cell(partyMegane, true, 36), cell(partyMegane, false, 70), cell(partyDisgo, true, 40), cell(partyDisgo, false, 82)},
			[]float64{0, 34, 0, 42}},
		{"the caches-off row may come after", []memCell{cell(partyMegane, false, 70), cell(partyMegane, true, 36)}, []float64{34, 0}},
		{"no caches-off row for the party", []memCell{cell(partyMegane, true, 36), cell(partyDisgo, false, 82)}, []float64{0, 0}},
		{"a failed caches-off row is no base", []memCell{broken(cell(partyDisgo, true, 40)), cell(partyDisgo, false, 82)}, []float64{0, 0}},
		{"a caches-off row without RSS is no base", []memCell{noRSS(cell(partyDisgo, true, 40)), cell(partyDisgo, false, 82)}, []float64{0, 0}},
		{"a row without RSS gets none", []memCell{cell(partyDisgo, true, 40), noRSS(cell(partyDisgo, false, 82))}, []float64{0, 0}},
		{"noise may make it negative", []memCell{cell(partyMegane, true, 36), cell(partyMegane, false, 35)}, []float64{0, -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			netOfCachesOff(tc.cells)
			for i, c := range tc.cells {
				if c.CachedRSSPerGuildKB != tc.want[i] {
					t.Errorf("cell %d: %v KB per cached guild; want %v", i, c.CachedRSSPerGuildKB, tc.want[i])
				}
			}
		})
	}
}

// TestRSSPerGuildTargetNeedsBothNetFigures: without a caches-off row on
// either side (or with a net figure that noise made 0 or less), the
// target is n/a rather than judged on a ratio that means nothing.
func TestRSSPerGuildTargetNeedsBothNetFigures(t *testing.T) {
	t.Parallel()
	const name = "RSS per cached guild, Megane's compact caches ÷ disgo's default cache"
	for _, tc := range []struct {
		name          string
		megane, disgo float64
		want          string
	}{
		{"both", 20, 50, outcomeMet},
		{"both, missed", 30, 50, outcomeMissed},
		{"no disgo base", 20, 0, outcomeMeasured},
		{"Megane's noise", -1, 50, outcomeMeasured},
	} {
		r := newReport("quick", nil)
		r.Memory = []memCell{
			{Label: memCompactLabel, Party: partyMegane, RepsRSSKB: []float64{1}, CachedRSSPerGuildKB: tc.megane},
			{Label: memDisgoLabel, Party: partyDisgo, RepsRSSKB: []float64{1}, CachedRSSPerGuildKB: tc.disgo},
		}
		r.finish(quickMode())
		for _, tg := range r.Targets {
			if tg.Name == name && tg.Outcome != tc.want {
				t.Errorf("%s: %s; want %s", tc.name, tg.Outcome, tc.want)
			}
		}
	}
}
