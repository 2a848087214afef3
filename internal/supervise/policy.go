package supervise

import (
	"math"
	"math/rand/v2"
	"time"
)

// Policy says how a [Unit] restarts its runner. It is a plain value.
//
// A zero field takes the value of [DefaultPolicy], except Jitter (zero means
// no jitter) and RestartOnSuccess (false), so a zero Policy behaves like
// DefaultPolicy without jitter.
type Policy struct {
	// MinBackoff is the delay after the first crash in a row. Default 100ms.
	MinBackoff time.Duration
	// MaxBackoff caps the delay. Default 30s; raised to MinBackoff if lower.
	// An attempt that ran at least MaxBackoff before crashing resets the
	// backoff, as does an attempt that called MarkHealthy.
	MaxBackoff time.Duration
	// Multiplier grows the delay after each further crash in a row:
	// MinBackoff × Multiplier^(n-1) for the n-th. Values below 1 mean 2;
	// 1 gives a constant delay.
	Multiplier float64
	// Jitter spreads each delay uniformly within ±Jitter of itself (0.1 is
	// ±10%), so that units which crash together do not restart together.
	// Clamped to [0, 1]. The jittered delay never exceeds MaxBackoff.
	Jitter float64
	// MaxRestarts is the restart cap: when more than MaxRestarts crashes
	// happen within Window, the unit gives up with ErrTooManyRestarts.
	// Zero means the default, 5; a negative value means no cap.
	MaxRestarts int
	// Window is the sliding window of the restart cap. Default one minute.
	Window time.Duration
	// MaxFailedStarts is the cap on attempts in a row that crash before
	// they become healthy (MarkHealthy), however far apart: after more
	// than MaxFailedStarts the unit gives up with ErrTooManyRestarts. It
	// bounds retries the Window cap cannot, such as starts that each time
	// out after minutes. Zero means the default, 5; a negative value means
	// no cap.
	MaxFailedStarts int
	// RestartOnSuccess restarts a runner that returned nil (after
	// MinBackoff, not counted as a crash) instead of stopping the unit.
	RestartOnSuccess bool
}

// DefaultPolicy returns the default policy: backoff from 100ms to 30s,
// doubling, with ±10% jitter; give up after more than 5 crashes in a
// minute, or more than 5 failed starts in a row.
func DefaultPolicy() Policy {
	return Policy{
		MinBackoff:      100 * time.Millisecond,
		MaxBackoff:      30 * time.Second,
		Multiplier:      2,
		Jitter:          0.1,
		MaxRestarts:     5,
		Window:          time.Minute,
		MaxFailedStarts: 5,
	}
}

// normalized returns p with its zero and out-of-range fields replaced as
// documented on Policy.
func (p Policy) normalized() Policy {
	d := DefaultPolicy()
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
func (p Policy) baseDelay(n int) time.Duration {
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
func (p Policy) jittered(d time.Duration, r float64) time.Duration {
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

// delay returns the jittered delay after n crashes in a row.
func (p Policy) delay(n int) time.Duration {
	return p.jittered(p.baseDelay(n), rand.Float64())
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
// runner that returned nil under RestartOnSuccess.
func (p Policy) jitteredMin() time.Duration {
	return p.jittered(p.MinBackoff, rand.Float64())
}
