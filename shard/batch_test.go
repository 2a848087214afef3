package shard

import (
	"sync"
	"testing"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
)

// TestBatchBoundedBySize checks that the read loop hands a batch over once
// its data reaches maxBatchSize, not only after maxBatch events: at startup
// a batch of 64 GUILD_CREATEs would hold megabytes of decoded guilds on
// each shard while the cluster is busy.
func TestBatchBoundedBySize(t *testing.T) {
	t.Parallel()
	const guildSize = 40 << 10 // a GUILD_CREATE of about 100 members
	var sizes []int
	s := New("t", 0, 1, nil, WithBatchHandler(func(_ *Shard, batch []Dispatch) {
		n := 0
		for _, d := range batch {
			n += d.Size
		}
		sizes = append(sizes, n)
	}))
	ss := &session{c: &conn{}}
	for i := range maxBatch {
		s.collect(ss, Dispatch{Seq: i + 1, Size: guildSize, Type: gateway.EventTypeGuildCreate, Data: gateway.EventGuildCreate{}})
	}
	s.flush(ss)
	if len(sizes) < 2 {
		t.Fatalf("%d GUILD_CREATEs of %d KiB were handed over in %d batch(es)", maxBatch, guildSize>>10, len(sizes))
	}
	for i, n := range sizes {
		if n > maxBatchSize+guildSize {
			t.Errorf("batch %d holds %d bytes of data, more than %d plus one event", i, n, maxBatchSize)
		}
	}
	if ss.pendingSize != 0 || len(ss.pending) != 0 {
		t.Fatalf("after flush: %d events of %d bytes still pending", len(ss.pending), ss.pendingSize)
	}
}

// TestBatchOfSmallEventsByCount checks that small events (MESSAGE_CREATEs)
// still go in batches of maxBatch: the size bound does not cut them.
func TestBatchOfSmallEventsByCount(t *testing.T) {
	t.Parallel()
	var counts []int
	s := New("t", 0, 1, nil, WithBatchHandler(func(_ *Shard, batch []Dispatch) {
		counts = append(counts, len(batch))
	}))
	ss := &session{c: &conn{}}
	for i := range 2 * maxBatch {
		s.collect(ss, Dispatch{Seq: i + 1, Size: 2 << 10, Type: gateway.EventTypeMessageCreate, Data: gateway.EventMessageCreate{}})
	}
	if len(counts) != 2 || counts[0] != maxBatch || counts[1] != maxBatch {
		t.Fatalf("batches of %v, want two of %d", counts, maxBatch)
	}
}

// TestDispatchSize checks that a batch handler learns each dispatch's
// data size as received.
func TestDispatchSize(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	r := newRecorder()
	var mu sync.Mutex
	small := 0
	s := openShard(t, srv, 0, 1, r.handle, WithBatchHandler(func(s *Shard, batch []Dispatch) {
		for _, d := range batch {
			if d.Seq > 0 && d.Size < len(`{"id":"1"}`) {
				mu.Lock()
				small++
				mu.Unlock()
			}
			r.handle(s, d.Type, d.Seq, d.Data)
		}
	}))
	emitWritten(t, srv, s, 20)
	assertNoLoss(t, srv, s, r, 20)
	mu.Lock()
	defer mu.Unlock()
	if small > 0 {
		t.Fatalf("%d dispatches came with a size smaller than any event's data", small)
	}
}
