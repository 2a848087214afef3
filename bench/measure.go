package main

import (
	"slices"
	"syscall"
	"time"
)

// cpuNow returns the user plus system CPU time this process has used so
// far. The bench runs every measured party in its own process, so
// RUSAGE_SELF counts exactly one party (the fake Discord is another
// process and never counted).
func cpuNow() time.Duration {
	user, sys := cpuSplit()
	return user + sys
}

// cpuSplit returns the user and the system CPU time this process has used
// so far (getrusage(RUSAGE_SELF)), or zeros if it cannot be read.
func cpuSplit() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// meter is a wall and CPU clock started together.
type meter struct {
	wall time.Time
	cpu  time.Duration
}

func startMeter() meter { return meter{wall: time.Now(), cpu: cpuNow()} }

// sample is one repetition of a throughput measurement.
type sample struct {
	Events  int64   `json:"events"`
	WallSec float64 `json:"wall_s"`
	CPUSec  float64 `json:"cpu_s"`
}

// stop ends the measurement of events.
func (m meter) stop(events int64) sample {
	return sample{
		Events:  events,
		WallSec: time.Since(m.wall).Seconds(),
		CPUSec:  (cpuNow() - m.cpu).Seconds(),
	}
}

// perWallSec is events per wall-clock second.
func (s sample) perWallSec() float64 {
	if s.WallSec <= 0 {
		return 0
	}
	return float64(s.Events) / s.WallSec
}

// perCPUSec is events per CPU-second, the per-core efficiency.
func (s sample) perCPUSec() float64 {
	if s.CPUSec <= 0 {
		return 0
	}
	return float64(s.Events) / s.CPUSec
}

// cpuMicrosPerEvent is CPU microseconds spent per event.
func (s sample) cpuMicrosPerEvent() float64 {
	if s.Events <= 0 {
		return 0
	}
	return s.CPUSec * 1e6 / float64(s.Events)
}

// median returns the median of xs (the mean of the middle two for an even
// count) or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// figure is the medians of a set of samples.
type figure struct {
	Reps           int      `json:"reps"`
	EventsPerSec   float64  `json:"events_per_s"`
	EventsPerCPUS  float64  `json:"events_per_cpu_s"`
	CPUMicrosPerEv float64  `json:"cpu_us_per_event"`
	Samples        []sample `json:"samples,omitempty"`
}

// summarize takes the median of each figure over the samples.
func summarize(ss []sample) figure {
	var wall, cpu, us []float64
	for _, s := range ss {
		wall = append(wall, s.perWallSec())
		cpu = append(cpu, s.perCPUSec())
		us = append(us, s.cpuMicrosPerEvent())
	}
	return figure{
		Reps:           len(ss),
		EventsPerSec:   median(wall),
		EventsPerCPUS:  median(cpu),
		CPUMicrosPerEv: median(us),
		Samples:        ss,
	}
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
