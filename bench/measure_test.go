package main

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1}, 5},
	}
	for _, c := range cases {
		in := append([]float64(nil), c.in...)
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("median modified its input: %v", c.in)
			}
		}
	}
}

func TestSummarizeTakesMediansOfEachFigure(t *testing.T) {
	t.Parallel()
	ss := []sample{
		{Events: 1000, WallSec: 1, CPUSec: 0.5},  // 1000/s, 2000/CPU-s, 500 µs per event
		{Events: 1000, WallSec: 2, CPUSec: 0.25}, // 500/s, 4000/CPU-s
		{Events: 1000, WallSec: 0.5, CPUSec: 1},  // 2000/s, 1000/CPU-s
	}
	f := summarize(ss)
	if f.Reps != 3 || f.EventsPerSec != 1000 || f.EventsPerCPUS != 2000 || f.CPUMicrosPerEv != 500 {
		t.Errorf("summarize = %+v", f)
	}
}

func TestSampleRatesGuardZero(t *testing.T) {
	t.Parallel()
	var s sample
	if s.perWallSec() != 0 || s.perCPUSec() != 0 || s.cpuMicrosPerEvent() != 0 {
		t.Errorf("zero sample gave non-zero rates")
	}
	if ratio(1, 0) != 0 || ratio(3, 2) != 1.5 {
		t.Errorf("ratio wrong")
	}
}

func TestMeterCountsThisProcessCPU(t *testing.T) {
	t.Parallel()
	m := startMeter()
	x := 0.0
	for i := 0; i < 20_000_000; i++ {
		x += math.Sqrt(float64(i))
	}
	s := m.stop(1)
	if x == 0 {
		t.Fatal("no work done")
	}
	if s.CPUSec <= 0 || s.WallSec <= 0 {
		t.Errorf("meter measured nothing: %+v", s)
	}
}
