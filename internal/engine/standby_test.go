package engine

import (
	"context"
	"testing"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/clusterlink"
)

// requestStats asks the cluster at bus.Cluster(0) for its worker stats.
func requestStats(b *bus.Bus) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err := bus.Request[map[string]any](ctx, b, bus.Address{}, bus.Cluster(0), clusterlink.TopicStats, nil)
	return err
}

func TestStandbyThenActivate(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	b := bus.New()
	launched := make(chan int, 4)
	h := newHarness(t, fake, []int{0, 1}, 2, func(gen int, rec *recorder) Worker {
		return &testWorker{gen: gen, rec: rec, launched: launched}
	}, WithBus(b), WithStandby(true), WithGeneration(3))
	if !h.c.Standby() || h.c.Generation() != 3 {
		t.Fatalf("Standby() = %v, Generation() = %d", h.c.Standby(), h.c.Generation())
	}
	h.start()
	h.waitReady()

	// Ready in standby: the cache is full, no worker, not on the bus.
	if n := h.c.Client().Caches.GuildsLen(); n != len(fake.GuildIDs(0, 2))+len(fake.GuildIDs(1, 2)) {
		t.Fatalf("standby cache has %d guilds", n)
	}
	if n := h.gen.Load(); n != 0 {
		t.Fatalf("%d workers made in standby", n)
	}
	if err := requestStats(b); !isErr(err, bus.ErrNoTarget) {
		t.Fatalf("request in standby = %v, want ErrNoTarget", err)
	}
	if err := h.c.RestartAndWait(context.Background(), cluster.RestartFull); !isErr(err, ErrStandby) {
		t.Fatalf("RestartAndWait in standby = %v, want ErrStandby", err)
	}
	if err := h.c.RestartCluster(context.Background(), 0, cluster.RestartWorker); !isErr(err, ErrStandby) {
		t.Fatalf("Restart in standby = %v, want ErrStandby", err)
	}
	select {
	case <-h.c.Live():
		t.Fatal("live before Activate")
	default:
	}

	h.c.Activate()
	h.c.Activate() // idempotent
	select {
	case <-h.c.Live():
	case <-h.c.Done():
		t.Fatalf("stopped: %v", h.c.LastError())
	}
	if gen := <-launched; gen != 1 {
		t.Fatalf("launched generation %d", gen)
	}
	if h.c.Standby() {
		t.Fatal("still in standby")
	}
	if err := requestStats(b); err != nil {
		t.Fatalf("request after activation: %v", err)
	}
	if err := fake.Emit(discordtest.AllShards, 3); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "messages after activation", func(r *recorder) bool { return r.msgs[1] >= 6 })

	h.rec.mu.Lock()
	standbyReady, liveReady := 0, 0
	for _, e := range h.rec.events {
		if e.Generation != 3 {
			t.Errorf("event %v has generation %d", e.Kind, e.Generation)
		}
		if e.Kind == cluster.EventReady {
			if e.Standby {
				standbyReady++
			} else {
				liveReady++
			}
		}
	}
	h.rec.mu.Unlock()
	if standbyReady != 1 || liveReady != 1 {
		t.Fatalf("ready events: %d in standby, %d live; want 1 and 1", standbyReady, liveReady)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if err := requestStats(b); !isErr(err, bus.ErrNoTarget) {
		t.Fatalf("request after Serve = %v, want ErrNoTarget", err)
	}
}

// TestReleaseBusHandover runs an old and a new cluster with one ID on one
// bus: the standby one does not collide with the old one, takes over the
// address when the old one releases it, and keeps it when the old one
// stops.
func TestReleaseBusHandover(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	b := bus.New()
	q := newQueue(t)
	mk := func(gen int, rec *recorder) Worker { return &testWorker{gen: gen, rec: rec} }
	old := newHarness(t, fake, []int{0}, 1, mk, WithBus(b), WithQueue(q))
	old.start()
	old.waitReady()
	next := newHarness(t, fake, []int{0, 1}, 2, mk, WithBus(b), WithQueue(q), WithStandby(true), WithGeneration(1))
	next.start()
	next.waitReady()
	if err := requestStats(b); err != nil {
		t.Fatalf("the old cluster does not answer beside the standby one: %v", err)
	}

	old.c.ReleaseBus()
	if err := requestStats(b); !isErr(err, bus.ErrTargetStopped) {
		t.Fatalf("request after release = %v, want ErrTargetStopped", err)
	}
	next.c.Activate()
	select {
	case <-next.c.Live():
	case <-next.c.Done():
		t.Fatalf("new cluster stopped: %v", next.c.LastError())
	}
	if err := old.stop(); err != nil {
		t.Fatalf("old Serve = %v", err)
	}
	if err := requestStats(b); err != nil {
		t.Fatalf("the new cluster lost its address when the old one stopped: %v", err)
	}
	if err := next.stop(); err != nil {
		t.Fatalf("new Serve = %v", err)
	}
}

// TestStandbyNeverActivatedLeavesBus: a standby cluster that is stopped
// without activation never touches the address of the active one.
func TestStandbyNeverActivatedLeavesBus(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	b := bus.New()
	q := newQueue(t)
	mk := func(gen int, rec *recorder) Worker { return &testWorker{gen: gen, rec: rec} }
	active := newHarness(t, fake, []int{0}, 1, mk, WithBus(b), WithQueue(q))
	active.start()
	active.waitReady()
	standby := newHarness(t, fake, []int{0}, 1, mk, WithBus(b), WithQueue(q), WithStandby(true))
	standby.start()
	standby.waitReady()
	if err := standby.stop(); err != nil {
		t.Fatalf("standby Serve = %v", err)
	}
	if err := requestStats(b); err != nil {
		t.Fatalf("the active cluster lost its address: %v", err)
	}
	if err := active.stop(); err != nil {
		t.Fatalf("Serve = %v", err)
	}
}

// TestStandbyActivateEarly activates a standby cluster before it serves:
// its first attempt runs live, with exactly one worker.
func TestStandbyActivateEarly(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	launched := make(chan int, 4)
	h := newHarness(t, fake, []int{0, 1}, 2, func(gen int, rec *recorder) Worker {
		return &testWorker{gen: gen, rec: rec, launched: launched}
	}, WithStandby(true))
	h.c.Activate()
	if h.c.Standby() {
		t.Fatal("still in standby after Activate")
	}
	h.start()
	select {
	case <-h.c.Live():
	case <-h.c.Done():
		t.Fatalf("stopped: %v", h.c.LastError())
	}
	if err := fake.Emit(discordtest.AllShards, 2); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "messages", func(r *recorder) bool { return r.msgs[1] >= 4 })
	if err := h.stop(); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	close(launched)
	n := 0
	for range launched {
		n++
	}
	if n != 1 || h.gen.Load() != 1 {
		t.Fatalf("%d launches, %d workers made; want 1", n, h.gen.Load())
	}
}
