package discordtest

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// clientLatency is the delay the server puts on every frame a client sends
// ([WithClientLatency], [Server.SetClientLatency]). One generator serves
// every connection, so the delays are reproducible for a seed only as far
// as the order in which connections read their frames is.
type clientLatency struct {
	max atomic.Int64 // a time.Duration; 0: off

	mu  sync.Mutex // guards rng
	rng *rand.Rand
}

func newClientLatency(max time.Duration, seed uint64) *clientLatency {
	l := &clientLatency{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	l.max.Store(int64(max))
	return l
}

// next returns the delay of the next frame, uniform in [0, max], or 0 when
// the latency is off (then no number is drawn).
func (l *clientLatency) next() time.Duration {
	m := l.max.Load()
	if m <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.rng.Int64N(m + 1))
}

// waitUntil blocks until t, or until stop is closed (then it reports
// false). It is the default of Server.sleepUntil.
func waitUntil(t time.Time, stop <-chan struct{}) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-stop:
		return false
	}
}

// SetClientLatency changes the client latency live (see
// [WithClientLatency]): each frame read from now on is delayed by a random
// duration in [0, max]. 0 (or less) turns it off. A frame already being
// delayed keeps its delay. The generator's seed is the one given to
// WithClientLatency (0 without it).
func (s *Server) SetClientLatency(max time.Duration) {
	if max < 0 {
		max = 0
	}
	s.latency.max.Store(int64(max))
}
