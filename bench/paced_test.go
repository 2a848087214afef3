package main

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPacedCmdRoundTrips(t *testing.T) {
	t.Parallel()
	cases := []struct {
		line    string
		want    pacedCmd
		ok      bool
		wantErr bool
	}{
		{pacedCmd{Rate: 10000, WindowS: 3, RampS: 0.5}.line(), pacedCmd{Rate: 10000, WindowS: 3, RampS: 0.5}, true, false},
		{`paced {"rate":1000,"window_s":10}`, pacedCmd{Rate: 1000, WindowS: 10}, true, false},
		{"rep", pacedCmd{}, false, false},
		{"pacedx", pacedCmd{}, false, false},
		{`paced {"rate":0,"window_s":1}`, pacedCmd{}, true, true},
		{`paced {"rate":-5,"window_s":1}`, pacedCmd{}, true, true},
		{`paced {"rate":100,"window_s":0}`, pacedCmd{}, true, true},
		{`paced {"rate":100,"window_s":1,"ramp_s":-1}`, pacedCmd{}, true, true},
		{`paced {"rate":100,"window_s":1,"burst":2}`, pacedCmd{}, true, true},
		{`paced not json`, pacedCmd{}, true, true},
	}
	for _, tc := range cases {
		got, ok, err := parsePacedCmd(tc.line)
		if ok != tc.ok || (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parsePacedCmd(%q) = %+v, %v, %v; want %+v, %v, error %v", tc.line, got, ok, err, tc.want, tc.ok, tc.wantErr)
		}
		if err != nil && !errors.Is(err, errBadPacedCmd) {
			t.Errorf("parsePacedCmd(%q): %v does not match errBadPacedCmd", tc.line, err)
		}
	}
}

func TestPacedSampleFigures(t *testing.T) {
	t.Parallel()
	// 10 s at 10k/s: 100,000 events on 2.5 CPU-s (2 user, 0.5 system).
	s := pacedSample{Rate: 10000, Events: 100000, Sent: 100500, WallSec: 10, UserSec: 2, SysSec: 0.5, FakeCPUSec: 1}
	for name, c := range map[string]struct{ got, want float64 }{
		"user":     {s.userMicros(), 20},
		"sys":      {s.sysMicros(), 5},
		"total":    {s.totalMicros(), 25},
		"received": {s.receivedPerSec(), 10000},
		"sent":     {s.sentPerSec(), 10050},
		"fake":     {s.fakeCores(), 0.1},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v; want %v", name, c.got, c.want)
		}
	}
	var zero pacedSample
	if zero.totalMicros() != 0 || zero.receivedPerSec() != 0 || zero.fakeCores() != 0 {
		t.Error("an empty window gave figures")
	}
}

func TestPacedShortfall(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		s    pacedSample
		want []string // substrings; none for a window at its rate
	}{
		{"at rate", pacedSample{Rate: 1000, Sent: 3000, Events: 2990, WallSec: 3}, nil},
		{"just inside", pacedSample{Rate: 1000, Sent: 2860, Events: 2720, WallSec: 3}, nil},
		{"just outside", pacedSample{Rate: 1000, Sent: 2820, Events: 2820, WallSec: 3}, []string{"the fake sent 940/s of 1000/s"}},
		{"bot just behind", pacedSample{Rate: 1000, Sent: 3000, Events: 2820, WallSec: 3}, []string{"the bot received 940/s of 1000/s sent"}},
		{"fake too slow", pacedSample{Rate: 10000, Sent: 24000, Events: 24000, WallSec: 3, FakeCPUSec: 3}, []string{"the fake sent 8000/s of 10000/s", "1.00 cores"}},
		{"bot behind", pacedSample{Rate: 1000, Sent: 3000, Events: 1500, WallSec: 3}, []string{"the bot received 500/s of 1000/s sent"}},
		{"both", pacedSample{Rate: 1000, Sent: 1500, Events: 300, WallSec: 3}, []string{"the fake sent 500/s", "the bot received 100/s"}},
	}
	for _, tc := range cases {
		got := tc.s.shortfall()
		if len(tc.want) == 0 && got != "" {
			t.Errorf("%s: shortfall %q; want none", tc.name, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: shortfall %q lacks %q", tc.name, got, w)
			}
		}
	}
}

func TestRateSuffix(t *testing.T) {
	t.Parallel()
	for rate, want := range map[float64]string{10000: "10k", 1000: "1k", 2500: "2500", 500: "500", 0.5: "0.5"} {
		if got := rateSuffix(rate); got != want {
			t.Errorf("rateSuffix(%v) = %q; want %q", rate, got, want)
		}
	}
	if got := pacedName(ratioPacedVsDisgo, 10000); got != "megane_vs_disgo_paced_10k" {
		t.Errorf("pacedName = %q", got)
	}
}

// TestPacedFinishTakesRatiosWithinEachRound: the machine slows in round
// 2 and both parties with it; the ratio and the overhead follow the round,
// not the medians of each side.
func TestPacedFinishTakesRatiosWithinEachRound(t *testing.T) {
	t.Parallel()
	win := func(events int64, cpu float64) pacedSample {
		return pacedSample{Rate: 10000, Events: events, Sent: events, WallSec: 1, UserSec: cpu * 0.8, SysSec: cpu * 0.2}
	}
	p := &pacedResult{Rates: []float64{10000, 1000},
		Series: []pacedSeries{
			// Megane: 10, 20, 12 µs per event.
			{Label: seriesPacedMegane, Rate: 10000, Samples: []pacedSample{win(10000, 0.1), win(10000, 0.2), win(10000, 0.12)}},
			// disgo: 60, 100, 84 µs: ratios 6, 5, 7.
			{Label: seriesPacedDisgo, Rate: 10000, Samples: []pacedSample{win(10000, 0.6), win(10000, 1.0), win(10000, 0.84)}},
			// At 1k/s only Megane ran: no ratio, an overhead still.
			{Label: seriesPacedMegane, Rate: 1000, Samples: []pacedSample{win(1000, 0.03), win(1000, 0.04), win(1000, 0.03)}},
		},
		// The reference: 4, 8, 5 µs per event.
		Reference: pairedSeries{Label: seriesLimitDispatch, Samples: []sample{
			{Events: 1000, CPUSec: 0.004}, {Events: 1000, CPUSec: 0.008}, {Events: 1000, CPUSec: 0.005}}},
	}
	p.finish()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	r := p.stat("megane_vs_disgo_paced_10k")
	if r == nil || !near(r.Median, 6) || !near(r.Min, 5) || !near(r.Max, 7) {
		t.Errorf("ratio %+v; want median 6, min 5, max 7", r)
	}
	if p.stat("megane_vs_disgo_paced_1k") != nil {
		t.Error("a 1k/s ratio without a disgo series")
	}
	o := p.stat("megane_overhead_us_paced_10k")
	if o == nil || !near(o.PerRound[0], 6) || !near(o.PerRound[1], 12) || !near(o.PerRound[2], 7) || !near(o.Median, 7) {
		t.Errorf("overhead %+v; want 6, 12, 7 per round, median 7", o)
	}
	if o := p.stat("megane_overhead_us_paced_1k"); o == nil || !near(o.Median, 26) {
		t.Errorf("1k/s overhead %+v; want median 26 (30 − 4, 40 − 8, 30 − 5)", o)
	}
	f := p.series(seriesPacedMegane, 10000).Figure
	if f.Windows != 3 || !near(f.TotalMicros, 12) || !near(f.UserMicros, 9.6) || !near(f.SysMicros, 2.4) || !near(f.ReceivedPerS, 10000) {
		t.Errorf("Megane's figure %+v", f)
	}
}

// TestSteppedBotPacedWindow drives a stepped megane bot child through one
// paced window at toy size: the fake's pacer sends, the bot counts about
// the rate over the window and reads its own CPU, user and system apart.
func TestSteppedBotPacedWindow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := testLauncher(t)
	spec := toyBotSpec(ctx, t, l, benchPlan{WarmupPerShard: 20, RepSeconds: 0.01, MinPerShard: 30})
	st, err := l.startStepped(ctx, "bot-stepped", spec, new(botResult), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer st.stop()
	var rep botStep
	if err := st.rep(&rep); err != nil {
		t.Fatal(err)
	}
	if rep.Events < 60 || (rep.RSS.Err == "" && (rep.RSS.BeforeKB <= 0 || rep.RSS.PeakKB <= 0)) {
		t.Errorf("rep %+v; want its events and its RSS", rep)
	}
	var s pacedSample
	if err := st.do(pacedCmd{Rate: 400, WindowS: 0.5, RampS: 0.1}.line(), &s); err != nil {
		t.Fatal(err)
	}
	// 400/s for 0.5 s is about 200; the bounds only catch a window that
	// counted nothing or more than was sent.
	if s.Events <= 0 || s.Sent <= 0 || s.Events > s.Sent+10 || s.WallSec < 0.5 || s.UserSec+s.SysSec <= 0 {
		t.Errorf("paced window %+v; want events near the rate and CPU", s)
	}
	var out struct{}
	if err := st.do("burst", &out); err == nil {
		t.Error("an unknown command was answered")
	} else if !strings.Contains(err.Error(), errUnknownStep.Error()) {
		t.Errorf("unknown command: %v; want the child's unknown-command error", err)
	}
}
