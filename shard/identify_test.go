package shard

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/megane-go/megane/discordtest"
)

// TestSessionStartLimitWaits gives the fake fewer session starts than
// shards: the queue must wait for the reset instead of failing, and the
// fake must never refuse an identify.
func TestSessionStartLimitWaits(t *testing.T) {
	t.Parallel()
	const shards = 4
	const reset = 200 * time.Millisecond
	srv := discordtest.New(t, fakeOpts(
		discordtest.WithShards(shards),
		discordtest.WithSessionStartLimit(shards, 2, reset))...)
	queue := testQueue(WithSessionStartLimit(shards, 2, reset))
	var wg sync.WaitGroup
	shardsList := make([]*Shard, shards)
	errs := make([]error, shards)
	for i := range shards {
		shardsList[i] = New(srv.Token(), i, shards, nil, shardOpts(srv, WithQueue(queue))...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = shardsList[i].Open(t.Context())
		}()
	}
	wg.Wait()
	for i, s := range shardsList {
		defer s.Close(context.Background())
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
	}
	if c := srv.Counters(); c.SessionLimitRefusals != 0 || c.Identifies != shards {
		t.Fatalf("refusals=%d identifies=%d", c.SessionLimitRefusals, c.Identifies)
	}
}
