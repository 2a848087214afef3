package engine

import (
	"sync"
	"sync/atomic"
)

// byteBudget bounds the data (in bytes, as received) of the events queued
// for the executor, so that the decoded events waiting for it (at startup,
// hundreds of GUILD_CREATEs) do not grow the heap past what the cache will
// keep. The shards' read loops wait for room before they queue a batch;
// the executor gives the room back once it ran the batch.
//
// The bound is loose by design: a read loop waits while the budget is
// spent, not for room for its whole batch, so that one batch larger than
// the budget still goes through, and read loops that find room at once may
// together overshoot by their batches (each at most 256 KiB, see
// shard.WithBatchHandler). The common case, room to spare, costs one
// atomic add on each side and takes no lock.
//
// The zero value has no room; make one with newByteBudget.
type byteBudget struct {
	limit   int64
	used    atomic.Int64
	waiting atomic.Bool // a read loop waits, or is about to: release wakes it

	mu   sync.Mutex
	room chan struct{} // closed once there is room again; guarded by mu
}

// newByteBudget returns a budget of limit bytes; limit <= 0 means none
// (every wait returns at once).
func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{limit: limit}
}

// spent reports whether the budget is used up.
func (b *byteBudget) spent() bool { return b.limit > 0 && b.used.Load() >= b.limit }

// acquire waits until the budget has room (or stop closes), then takes n
// bytes. It reports false, taking nothing, if stop closed first.
func (b *byteBudget) acquire(n int64, stop <-chan struct{}) bool {
	for b.spent() {
		b.mu.Lock()
		if b.room == nil {
			b.room = make(chan struct{})
		}
		room := b.room
		// Set before the re-check: a release that has not seen it has
		// already lowered used, which the re-check then sees.
		b.waiting.Store(true)
		if !b.spent() {
			b.mu.Unlock()
			break
		}
		b.mu.Unlock()
		select {
		case <-room:
		case <-stop:
			return false
		}
	}
	b.used.Add(n)
	return true
}

// release gives n bytes back and wakes the waiting read loops if that
// made room.
func (b *byteBudget) release(n int64) {
	if n == 0 {
		return
	}
	if b.used.Add(-n) >= b.limit || !b.waiting.Load() {
		return
	}
	b.mu.Lock()
	b.waiting.Store(false)
	if b.room != nil {
		close(b.room)
		b.room = nil
	}
	b.mu.Unlock()
}
