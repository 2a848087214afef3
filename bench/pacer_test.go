package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recordingEmitter records every Emit with the bubble's time; shards in
// refuse fail.
type recordingEmitter struct {
	mu     sync.Mutex
	start  time.Time
	counts map[int]int
	at     map[int][]time.Duration // each Emit's time since start, per shard
	refuse map[int]bool
}

func newRecordingEmitter(refuse ...int) *recordingEmitter {
	e := &recordingEmitter{start: time.Now(), counts: map[int]int{}, at: map[int][]time.Duration{}, refuse: map[int]bool{}}
	for _, s := range refuse {
		e.refuse[s] = true
	}
	return e
}

var errRefused = errors.New("refused")

func (e *recordingEmitter) Emit(shard, n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.refuse[shard] {
		return errRefused
	}
	e.counts[shard] += n
	e.at[shard] = append(e.at[shard], time.Since(e.start))
	return nil
}

func (e *recordingEmitter) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.counts {
		n += c
	}
	return n
}

// startPacer runs a pacer over e in the bubble; stop ends it and waits.
func startPacer(t *testing.T, e emitter, shards int) (p *pacer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p = newPacer(e, shards)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run(ctx)
	}()
	return p, func() {
		cancel()
		<-done
	}
}

// TestPacerSendsTheRateOnEveryShard: at 1,600 events/s over 16 shards,
// each shard gets 100 in a second (give or take the one in flight), and
// nothing once the rate is 0.
func TestPacerSendsTheRateOnEveryShard(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newRecordingEmitter()
		p, stop := startPacer(t, e, 16)
		defer stop()
		if err := p.setRate(context.Background(), 1600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := p.setRate(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		e.mu.Lock()
		for shard := range 16 {
			if got := e.counts[shard]; got < 99 || got > 101 {
				t.Errorf("shard %d got %d in 1 s; want 100 ± 1", shard, got)
			}
		}
		e.mu.Unlock()
		before := e.total()
		time.Sleep(time.Second)
		if got := e.total(); got != before {
			t.Errorf("%d more emits after the rate went to 0", got-before)
		}
	})
}

// TestPacerStaggersTheShards: at a low rate the shards' dispatches fall
// at different ticks, not all at once.
func TestPacerStaggersTheShards(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newRecordingEmitter()
		p, stop := startPacer(t, e, 16)
		defer stop()
		// 16 events/s in all: one per shard per second.
		if err := p.setRate(context.Background(), 16); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second + 10*time.Millisecond)
		stop()
		e.mu.Lock()
		defer e.mu.Unlock()
		seen := map[time.Duration]int{}
		for shard := range 16 {
			if len(e.at[shard]) != 1 {
				t.Fatalf("shard %d: %d emits in 1 s; want 1", shard, len(e.at[shard]))
			}
			seen[e.at[shard][0].Truncate(10*time.Millisecond)]++
		}
		for at, n := range seen {
			if n > 1 {
				t.Errorf("%d shards got their dispatch at %v; want one at a time", n, at)
			}
		}
	})
}

// TestPacerCountsRefusedEmits: a shard without a live session costs its
// dispatches, counted as missed; the others still get theirs.
func TestPacerCountsRefusedEmits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newRecordingEmitter(1)
		p, stop := startPacer(t, e, 2)
		defer stop()
		if err := p.setRate(context.Background(), 200); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		stop()
		if got := p.missed.Load(); got < 99 || got > 101 {
			t.Errorf("missed %d; want 100 ± 1 (shard 1's share)", got)
		}
		if got := e.total(); got < 99 || got > 101 {
			t.Errorf("emitted %d; want 100 ± 1 (shard 0's share)", got)
		}
		if err := p.setRate(context.Background(), 1); !errors.Is(err, errPacerStopped) {
			t.Errorf("setRate after stop: %v; want errPacerStopped", err)
		}
	})
}
