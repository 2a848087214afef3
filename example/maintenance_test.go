package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
)

// README: "Maintenance mode".
func readmeMaintenance(ctx context.Context, m *megane.Manager) {
	m.SetMaintenance(ctx, true, 3) // cluster 3 only
	m.SetMaintenance(ctx, true)    // the whole bot, and every cluster started later (restarts, re-shards)
	m.SetMaintenance(ctx, false)   // every cluster leaves; the held events are delivered
}

// TestREADMEMaintenance runs the README's block on four clusters: its
// maintenance events say cluster 3 went first, then the other three, then
// all four left.
func TestREADMEMaintenance(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t, discordtest.WithShards(4), discordtest.WithMaxConcurrency(4))
	ready := make(chan struct{})
	var mu sync.Mutex
	var changes []string // "3+" entered, "3-" left
	m, err := megane.New(fake.Token(), megane.WithAPIURL(fake.APIURL()), megane.WithShards(4), megane.WithClusters(4),
		megane.WithWorker(func() cluster.Worker {
			return cluster.WorkerFunc(func(context.Context, *cluster.Cluster) error { return nil })
		}),
		megane.WithEventHandler(func(e cluster.Event) {
			switch e.Kind {
			case cluster.EventAllReady:
				close(ready)
			case cluster.EventMaintenance:
				mu.Lock()
				changes = append(changes, fmt.Sprint(e.Cluster, map[bool]string{true: "+", false: "-"}[e.Maintenance]))
				mu.Unlock()
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop, err := runUntilReady(t.Context(), m, ready)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	readmeMaintenance(ctx, m)
	sorted := func(xs []string) []string { return slices.Sorted(slices.Values(xs)) }
	testutil.Eventually(t, 10*time.Second, "eight maintenance changes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(changes) >= 8
	})
	mu.Lock()
	got := slices.Clone(changes)
	mu.Unlock()
	if len(got) != 8 || got[0] != "3+" ||
		!slices.Equal(sorted(got[1:4]), []string{"0+", "1+", "2+"}) ||
		!slices.Equal(sorted(got[4:]), []string{"0-", "1-", "2-", "3-"}) {
		t.Fatalf("maintenance changes %v: want 3+, then 0+ 1+ 2+, then all four -", got)
	}
	for _, c := range m.Clusters() {
		if c.Maintenance {
			t.Errorf("cluster %d still in maintenance", c.ID)
		}
	}
}
