package main

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// TestSteppedBotAnswersEachRep drives a stepped megane bot child: one
// ready line, then exactly one repetition per request, each of the
// calibrated size, until stdin closes.
func TestSteppedBotAnswersEachRep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := testLauncher(t)
	spec := toyBotSpec(ctx, t, l, benchPlan{WarmupPerShard: 20, RepSeconds: 0.01, MinPerShard: 30})
	var ready botResult
	st, err := l.startStepped(ctx, "bot-stepped", spec, &ready, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer st.stop()
	if ready.StartupS <= 0 {
		t.Errorf("ready line %+v; want the startup time", ready)
	}
	var first int64
	for i := range 3 {
		var s sample
		if err := st.rep(&s); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = s.Events
		}
		if s.Events < 60 || s.Events != first || s.CPUSec <= 0 {
			t.Errorf("repetition %d: %+v; want at least 30 events per shard, the same each time, and CPU time", i, s)
		}
	}
}

// TestSteppedLimitMeasuresEveryPass drives the stepped limit child: each
// repetition gives the decode-only pass, the pass through disgo's event
// manager, and the scan-only and validate-only passes, each of whole
// passes over the recorded frames.
func TestSteppedLimitMeasuresEveryPass(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := testLauncher(t).startStepped(ctx, "limit-stepped", limitSpec{Frames: 200, RepSeconds: 0.05}, new(struct{}), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer st.stop()
	var ls limitStep
	if err := st.rep(&ls); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]sample{"decode": ls.Decode, "dispatch": ls.Dispatch, "scan": ls.Scan, "validate": ls.Validate} {
		if s.Events == 0 || s.Events%200 != 0 || s.CPUSec <= 0 {
			t.Errorf("%s pass %+v; want whole passes of 200 events and CPU time", name, s)
		}
	}
}

func TestSteppedChildFailsClearly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := testLauncher(t).startStepped(ctx, "no-such-role", struct{}{}, new(struct{}), time.Minute)
	var ce *childError
	if !errors.As(err, &ce) || ce.Role != "no-such-role" {
		t.Fatalf("err = %v; want a *childError for the role", err)
	}
}

func TestPairedRatioIsTakenWithinEachRound(t *testing.T) {
	t.Parallel()
	// Both parties slow down together in round 2: the ratio stays 2.
	a := &pairedSeries{Samples: []sample{{Events: 200, CPUSec: 1, WallSec: 1}, {Events: 100, CPUSec: 1, WallSec: 2}, {Events: 300, CPUSec: 1, WallSec: 1}}}
	b := &pairedSeries{Samples: []sample{{Events: 100, CPUSec: 1, WallSec: 1}, {Events: 50, CPUSec: 1, WallSec: 1}, {Events: 100, CPUSec: 1, WallSec: 1}}}
	r := pairedRatioOf("x", a, b, sample.perCPUSec)
	if r.Median != 2 || r.Min != 2 || r.Max != 3 || len(r.PerRound) != 3 {
		t.Errorf("ratio %+v; want median 2, min 2, max 3 over 3 rounds", r)
	}
	w := pairedRatioOf("w", a, b, sample.perWallSec)
	if w.PerRound[1] != 1 {
		t.Errorf("wall ratio of round 2 = %v; want 1", w.PerRound[1])
	}
}

// TestPairedDiffIsTakenWithinEachRound: megane_overhead_us is Megane's
// CPU-µs per event less the reference's in the same round, so a round in
// which the machine slows both keeps its difference.
func TestPairedDiffIsTakenWithinEachRound(t *testing.T) {
	t.Parallel()
	us := func(perEvent ...float64) *pairedSeries {
		s := &pairedSeries{}
		for _, x := range perEvent {
			s.Samples = append(s.Samples, sample{Events: 1000, CPUSec: x * 1000 / 1e6, WallSec: 1})
		}
		return s
	}
	cases := []struct {
		name     string
		a, b     *pairedSeries
		perRound []float64
		median   float64
	}{
		{"steady", us(6, 6, 6), us(5, 5, 5), []float64{1, 1, 1}, 1},
		{"round 2 twice as slow on both sides", us(6, 12, 7), us(5, 10, 5), []float64{1, 2, 2}, 2},
		{"Megane below the reference", us(4, 5), us(5, 5), []float64{-1, 0}, -0.5},
		{"a side with fewer rounds", us(6, 7, 8), us(5), []float64{1}, 1},
		{"no rounds", us(), us(5), nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := pairedDiffOf(diffOverhead, tc.a, tc.b)
			if len(d.PerRound) != len(tc.perRound) || math.Abs(d.Median-tc.median) > 1e-9 {
				t.Fatalf("diff %+v; want per round %v, median %v", d, tc.perRound, tc.median)
			}
			for i, want := range tc.perRound {
				if math.Abs(d.PerRound[i]-want) > 1e-9 {
					t.Errorf("round %d: %v; want %v", i+1, d.PerRound[i], want)
				}
			}
		})
	}
}
