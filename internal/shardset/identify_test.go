package shardset

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
)

// TestIdentifyQueueNeverBreaches starts 16 or 64 shards at once through one
// queue and checks that the fake never saw two identifies in one bucket
// within its window. Both sides use the same window, as Discord and a real
// bot do: the queue's window starts when each IDENTIFY is written, and its
// margin covers the time the fake takes to read it.
//
// It is not parallel, nor are its cases: the fake judges by the time it
// reads each IDENTIFY, and on a loaded 2-core machine under -race reading
// can lag by tens of milliseconds.
func TestIdentifyQueueNeverBreaches(t *testing.T) {
	// The margin is wide because here it covers the fake's read lag on a
	// loaded machine under -race, which reaches 100 ms; without the rule
	// (window from the grant, no margin) the fake counts breaches in
	// every case.
	const window, margin = 50 * time.Millisecond, 200 * time.Millisecond
	for _, tc := range []struct{ shards, mc int }{{16, 1}, {64, 4}, {64, 16}} {
		shards, mc := tc.shards, tc.mc
		t.Run(fmt.Sprintf("shards=%d/max_concurrency=%d", shards, mc), func(t *testing.T) {
			srv := discordtest.New(t,
				discordtest.WithShards(shards),
				discordtest.WithGuilds(shards),
				discordtest.WithMembers(1), discordtest.WithChannels(1), discordtest.WithRoles(1),
				discordtest.WithMaxConcurrency(mc),
				discordtest.WithIdentifyWindow(window),
				discordtest.WithHeartbeatInterval(time.Second),
				discordtest.WithCloseGrace(100*time.Millisecond))
			// All 64 connect first, then compete for the queue at once;
			// this keeps the fake's connection burst out of its timing.
			queue := &barrierQueue{Queue: shard.NewQueue(shard.WithMaxConcurrency(mc), shard.WithIdentifyWindow(window),
				shard.WithIdentifyMargin(margin), shard.WithQueueLogger(quietLogger())), n: shards, open: make(chan struct{})}
			ids := make([]int, shards)
			for i := range ids {
				ids[i] = i
			}
			m := New(srv.Token(), ids, shards,
				WithQueue(queue),
				WithLogger(quietLogger()),
				WithShardOptions(shardOpts(srv, shard.WithQueue(queue))...))
			m.Open(t.Context())
			defer m.Close(context.Background())
			c := srv.Counters()
			if c.BucketBreaches != 0 {
				t.Fatalf("bucket breaches = %d", c.BucketBreaches)
			}
			if c.Identifies != int64(shards) {
				t.Fatalf("identifies = %d, want %d; fake %+v; shards %+v", c.Identifies, shards, c, m.Stats())
			}
			for _, st := range m.Stats() {
				if st.Identifies != 1 || st.Reconnects != 0 {
					t.Fatalf("shard %d: %+v", st.ShardID, st)
				}
			}
		})
	}
}

// barrierQueue holds every Wait until n shards are waiting, then lets them
// compete for the wrapped Queue.
type barrierQueue struct {
	shard.Queue
	n     int
	mu    sync.Mutex
	count int
	open  chan struct{}
}

func (q *barrierQueue) Wait(ctx context.Context, shardID int) error {
	q.mu.Lock()
	q.count++
	if q.count == q.n {
		close(q.open)
	}
	q.mu.Unlock()
	select {
	case <-q.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return q.Queue.Wait(ctx, shardID)
}
