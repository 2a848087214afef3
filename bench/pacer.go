package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// emitter is the part of *discordtest.Server the pacer drives.
type emitter interface {
	Emit(shardID, n int) error
}

// pacerTick is how often the pacer hands out the dispatches its shards
// have earned. At 10,000 events/s over 16 shards that is 10 a tick in
// all, most ticks at most one per shard.
const pacerTick = time.Millisecond

// errPacerStopped is matched when the pacer's goroutine has ended.
var errPacerStopped = errors.New("bench: pacer stopped")

// pacer sends MESSAGE_CREATEs (discordtest's Emit) to every shard at a
// fixed total rate, spread evenly over the shards and over time: each
// shard earns total/shards dispatches per second, and the shards start a
// different fraction of a dispatch ahead, so that at a low rate they do
// not all get theirs in the same tick. It runs in the fake's process, so
// pacing costs the bot under test nothing.
//
// The fake's own SetRate paces the mixed stream (7 in 10 MESSAGE_CREATE);
// the pacer sends MESSAGE_CREATE only, the frames the full-rate
// repetitions and the decode-only limit use, so the paced figures compare
// with those.
//
// One goroutine, run, owns the pacer's state; setRate is its only input.
// Create it with newPacer.
type pacer struct {
	s      emitter
	credit []float64    // per shard: dispatches earned and not yet sent
	set    chan float64 // new total rates, taken by run
	done   chan struct{}
	missed atomic.Int64 // dispatches Emit refused (no live session for the shard)
}

// newPacer returns a stopped pacer for shards shards (at least 1); start
// it with run.
func newPacer(s emitter, shards int) *pacer {
	return &pacer{s: s, credit: make([]float64, max(1, shards)), set: make(chan float64), done: make(chan struct{})}
}

// setRate gives run a new total rate in dispatches per second over all
// shards; 0 stops the traffic. It returns once run has it, or with an
// error when ctx ends or run has stopped first.
func (p *pacer) setRate(ctx context.Context, total float64) error {
	select {
	case p.set <- total:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.done:
		return errPacerStopped
	}
}

// run paces until ctx ends. It ticks only while the rate is above 0.
func (p *pacer) run(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(pacerTick)
	tick.Stop()
	defer tick.Stop()
	var perShard float64
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case total := <-p.set:
			perShard = max(total, 0) / float64(len(p.credit))
			p.stagger()
			last = time.Now()
			if perShard > 0 {
				tick.Reset(pacerTick)
			} else {
				tick.Stop()
			}
		case <-tick.C:
			now := time.Now()
			p.earn(perShard * now.Sub(last).Seconds())
			last = now
		}
	}
}

// earn adds due dispatches to every shard's credit and sends each shard
// the whole dispatches it has earned.
func (p *pacer) earn(due float64) {
	for i := range p.credit {
		p.credit[i] += due
		if n := int(p.credit[i]); n > 0 {
			p.credit[i] -= float64(n)
			if err := p.s.Emit(i, n); err != nil {
				p.missed.Add(int64(n))
			}
		}
	}
}

// stagger sets shard i's credit to i/shards of a dispatch, so the shards'
// dispatches fall evenly between one another.
func (p *pacer) stagger() {
	for i := range p.credit {
		p.credit[i] = float64(i) / float64(len(p.credit))
	}
}
