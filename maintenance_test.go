package megane

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane/cluster"
)

// maintenanceOf returns each cluster's Maintenance, in ID order.
func maintenanceOf(m *Manager) []bool {
	var out []bool
	for _, c := range m.Clusters() {
		out = append(out, c.Maintenance)
	}
	return out
}

// TestSetMaintenance proves one cluster's maintenance against the whole
// bot's: an unknown ID changes nothing, the maintenance handler gets the
// events of the cluster in maintenance while the other cluster's worker
// goes on, the whole-bot setting reaches every cluster and the clusters a
// re-shard starts, and leaving it delivers what was held.
func TestSetMaintenance(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	gt := newGenTally()
	var mu sync.Mutex
	diverted := map[int]int{} // cluster → MESSAGE_CREATEs the handler got
	handler := func(cl *cluster.Cluster, e bot.Event) {
		if _, ok := e.(*events.MessageCreate); ok {
			mu.Lock()
			diverted[cl.ID()]++
			mu.Unlock()
			gt.mu.Lock()
			gt.notify()
			gt.mu.Unlock()
		}
	}
	m := reshardManager(t, fake, gt, WithClusters(2), WithMaintenanceHandler(handler))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := m.SetMaintenance(ctx, true); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("SetMaintenance before Run = %v, want ErrNotRunning", err)
	}
	run(t, m)
	waitAllReady(t, gt.tally)

	var nce *NoClusterError
	if err := m.SetMaintenance(ctx, true, 1, 9); !errors.As(err, &nce) || nce.ID != 9 || !errors.Is(err, ErrNoCluster) {
		t.Fatalf("SetMaintenance(1, 9) = %v, want a *NoClusterError for 9", err)
	}
	if got := maintenanceOf(m); got[0] || got[1] {
		t.Fatalf("an unknown ID changed the clusters: %v", got)
	}

	// Cluster 1 (shard 1) only.
	if err := m.SetMaintenance(ctx, true, 1); err != nil {
		t.Fatal(err)
	}
	if got := maintenanceOf(m); got[0] || !got[1] {
		t.Fatalf("after SetMaintenance(1): %v", got)
	}
	for s := range 2 {
		if err := fake.Emit(s, 5); err != nil {
			t.Fatal(err)
		}
	}
	gt.waitFor(t, "cluster 0's worker and cluster 1's handler", func(*tally) bool {
		mu.Lock()
		defer mu.Unlock()
		return gt.msgs[[2]int{0, 0}] == 5 && diverted[1] == 5
	})
	if n := gt.msgs[[2]int{0, 1}]; n != 0 {
		t.Fatalf("cluster 1's worker got %d messages in maintenance", n)
	}

	// The whole bot, then a re-shard: the new clusters start in it.
	if err := m.SetMaintenance(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := maintenanceOf(m); !got[0] || !got[1] {
		t.Fatalf("after SetMaintenance(): %v", got)
	}
	if err := m.Reshard(ctx, 4); err != nil {
		t.Fatalf("Reshard(4) = %v", err)
	}
	if got := maintenanceOf(m); len(got) != 2 || !got[0] || !got[1] {
		t.Fatalf("the re-shard's clusters: %v, want both in maintenance", got)
	}
	if err := m.SetMaintenance(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := maintenanceOf(m); got[0] || got[1] {
		t.Fatalf("after leaving: %v", got)
	}
	for s := range 4 {
		if err := fake.Emit(s, 3); err != nil {
			t.Fatal(err)
		}
	}
	gt.waitMsgs(t, 1, 3, 0, 1, 2, 3)
	gt.mu.Lock()
	n := gt.count(cluster.EventMaintenance, -1)
	gt.mu.Unlock()
	// Cluster 1 on; cluster 0 on; generation 1's two clusters off.
	if n != 4 {
		t.Fatalf("EventMaintenance sent %d times, want 4:\n%s", n, gt.trace())
	}
}

func TestWithMaintenanceBufferInvalid(t *testing.T) {
	t.Parallel()
	_, err := New(testToken, WithWorker(func() cluster.Worker { return &tallyWorker{} }), WithMaintenanceBuffer(-1))
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Option != "WithMaintenanceBuffer(-1)" {
		t.Fatalf("New(WithMaintenanceBuffer(-1)) = %v, want an *OptionError", err)
	}
}
