package discordtest

import (
	"sync"
	"time"
)

// verdict is the identify gate's answer to one IDENTIFY.
type verdict uint8

const (
	admitted       verdict = iota
	bucketBreached         // the shard's bucket identified within the window
	limitExhausted         // no session starts remain until the reset
)

// identifyGate enforces max_concurrency buckets and the session start
// limit, as Discord does. It is safe for concurrent use.
type identifyGate struct {
	window     time.Duration
	buckets    int // max_concurrency, 0 treated as 1
	total      int
	resetAfter time.Duration
	now        func() time.Time

	mu        sync.Mutex
	last      map[int]time.Time // bucket → time of its last IDENTIFY
	remaining int
	resetAt   time.Time
}

func newIdentifyGate(cfg *config, now func() time.Time) *identifyGate {
	b := cfg.maxConcurrency
	if b < 1 {
		b = 1
	}
	return &identifyGate{
		window:     cfg.identifyWindow,
		buckets:    b,
		total:      cfg.sessionTotal,
		resetAfter: cfg.sessionResetAfter,
		now:        now,
		last:       make(map[int]time.Time),
		remaining:  cfg.sessionRemaining,
		resetAt:    now().Add(cfg.sessionResetAfter),
	}
}

// refill restores the limit once the reset time has passed. mu held.
func (g *identifyGate) refill(now time.Time) {
	if !now.Before(g.resetAt) {
		g.remaining = g.total
		g.resetAt = now.Add(g.resetAfter)
	}
}

// admit decides one IDENTIFY for shardID that arrived at now (after any
// client latency). The bucket is checked first, so a breach spends no
// session start; an admitted IDENTIFY spends one and closes its bucket for
// the window, from now.
func (g *identifyGate) admit(shardID int, now time.Time) verdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refill(now)
	bucket := shardID % g.buckets
	if last, ok := g.last[bucket]; ok && g.window > 0 && now.Sub(last) < g.window {
		return bucketBreached
	}
	if g.remaining <= 0 {
		return limitExhausted
	}
	g.remaining--
	g.last[bucket] = now
	return admitted
}

// limit returns the remaining starts and the time until the reset.
func (g *identifyGate) limit() (remaining int, resetAfter time.Duration) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refill(now)
	return g.remaining, g.resetAt.Sub(now)
}
