package supervise

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// normalized returns p with its zero and out-of-range fields replaced as
// documented on supervisor.Policy.
func normalized(p supervisor.Policy) supervisor.Policy {
	d := supervisor.DefaultPolicy()
	if p.MinBackoff <= 0 {
		p.MinBackoff = d.MinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = d.MaxBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	if p.Multiplier < 1 || math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0) {
		p.Multiplier = d.Multiplier
	}
	switch {
	case math.IsNaN(p.Jitter) || p.Jitter < 0:
		p.Jitter = 0
	case p.Jitter > 1:
		p.Jitter = 1
	}
	if p.MaxRestarts == 0 {
		p.MaxRestarts = d.MaxRestarts
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	if p.MaxFailedStarts == 0 {
		p.MaxFailedStarts = d.MaxFailedStarts
	}
	return p
}

// baseDelay returns the delay before the next attempt after n crashes in a
// row (n >= 1), without jitter. p must be normalized.
func baseDelay(p supervisor.Policy, n int) time.Duration {
	if n < 1 {
		n = 1
	}
	f := float64(p.MinBackoff) * math.Pow(p.Multiplier, float64(n-1))
	if f >= float64(p.MaxBackoff) || math.IsInf(f, 0) || math.IsNaN(f) {
		return p.MaxBackoff
	}
	return time.Duration(f)
}

// jittered spreads d within ±p.Jitter of itself, never above p.MaxBackoff
// nor below zero. r must be in [0, 1). p must be normalized.
func jittered(p supervisor.Policy, d time.Duration, r float64) time.Duration {
	if p.Jitter == 0 {
		return d
	}
	f := float64(d) * (1 + p.Jitter*(2*r-1))
	switch {
	case f > float64(p.MaxBackoff):
		return p.MaxBackoff
	case f < 0:
		return 0
	}
	return time.Duration(f)
}

// delay returns the jittered delay after n crashes in a row. p must be
// normalized.
func delay(p supervisor.Policy, n int) time.Duration {
	return jittered(p, baseDelay(p, n), rand.Float64())
}

// crashWindow keeps the times of recent crashes to enforce the restart cap.
// It is owned by the supervisor goroutine.
type crashWindow struct {
	times []time.Time
}

// add records a crash at now, forgets crashes older than window, and
// returns how many crashes remain within the window.
func (w *crashWindow) add(now time.Time, window time.Duration) int {
	cutoff := now.Add(-window)
	kept := w.times[:0]
	for _, t := range w.times {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	w.times = append(kept, now)
	return len(w.times)
}

// jitteredMin returns MinBackoff with jitter, the delay before restarting a
// runner that returned nil under RestartOnSuccess. p must be normalized.
func jitteredMin(p supervisor.Policy) time.Duration {
	return jittered(p, p.MinBackoff, rand.Float64())
}
