package engine

import (
	"context"
	"testing"

	"github.com/disgoorg/disgo/events"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/supervisor"
)

// restartAndWait restarts the harness's cluster with kind.
func (h *harness) restartAndWait(kind RestartKind) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := h.c.RestartAndWait(ctx, kind); err != nil {
		h.t.Fatalf("RestartAndWait(%v) = %v\n%s", kind, err, h.diagnose())
	}
}

func TestRestartFull(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	h := newHarness(t, fake, []int{0, 1}, 2, plainWorker)
	h.start()
	h.waitReady()
	before := fake.Counters()
	caches := h.c.Client().Caches
	sessions := len(fake.Ledger().Sessions(0))

	h.restartAndWait(cluster.RestartFull)

	after := fake.Counters()
	if got := after.Identifies - before.Identifies; got != 2 {
		t.Fatalf("identifies during a full restart = %d, want 2", got)
	}
	if got := after.Resumes - before.Resumes; got != 0 {
		t.Fatalf("resumes during a full restart = %d, want 0", got)
	}
	if len(fake.Ledger().Sessions(0)) != sessions+1 {
		t.Fatal("a full restart did not start a new session")
	}
	c2 := h.c.Client().Caches
	if c2 == caches {
		t.Fatal("a full restart kept the cache")
	}
	want := len(fake.GuildIDs(0, 2)) + len(fake.GuildIDs(1, 2))
	if got := c2.GuildsLen(); got != want {
		t.Fatalf("rebuilt cache holds %d guilds, want %d", got, want)
	}
	if h.c.Restarts() != 1 || h.c.Crashes() != 0 {
		t.Fatalf("restarts %d crashes %d", h.c.Restarts(), h.c.Crashes())
	}
	// The new worker receives.
	if err := fake.Emit(0, 3); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "gen 2 messages", func(r *recorder) bool { return r.msgs[2] == 3 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRestartResume proves a resume restart spends no identify, keeps the
// cache and loses no event: the first worker blocks on its third message
// until the restart cancels it, so events are queued (written by the fake,
// not yet handed to the worker) when the restart begins; they must be
// replayed, and every sequence number in the ledger must reach a worker.
func TestRestartResume(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	blocked := make(chan int, 1)
	h := newHarness(t, fake, []int{0, 1}, 2, func(gen int, rec *recorder) Worker {
		n := 0
		return &testWorker{gen: gen, rec: rec, onMsg: func(ctx context.Context, _ *cluster.Cluster, gen int, e *events.MessageCreate) {
			n++
			if gen == 1 && n == 3 {
				blocked <- e.ShardID()
				<-ctx.Done() // held until the restart ends this incarnation
			}
		}}
	})
	h.start()
	h.waitReady()
	before := fake.Counters()
	caches := h.c.Client().Caches
	for _, id := range []int{0, 1} {
		if err := fake.Emit(id, 20); err != nil {
			t.Fatal(err)
		}
	}
	<-blocked
	// All 20 messages of both shards are written (READY is 1, then one
	// GUILD_CREATE per guild): at least 17 of them wait behind the stuck
	// listener.
	for _, id := range []int{0, 1} {
		h.waitLedger(id, 1+len(fake.GuildIDs(id, 2))+20)
	}

	h.restartAndWait(cluster.RestartResume)

	after := fake.Counters()
	if got := after.Identifies - before.Identifies; got != 0 {
		t.Fatalf("identifies during a resume restart = %d, want 0", got)
	}
	if got := after.Resumes - before.Resumes; got != 2 {
		t.Fatalf("resumes = %d, want 2", got)
	}
	if got := after.Replayed - before.Replayed; got < 17+20 {
		t.Fatalf("replayed %d dispatches, want at least the %d queued ones", got, 17+20)
	}
	if h.c.Client().Caches != caches {
		t.Fatal("a resume restart replaced the cache")
	}
	// More traffic after the restart; then every seq must have arrived.
	for _, id := range []int{0, 1} {
		if err := fake.Emit(id, 5); err != nil {
			t.Fatal(err)
		}
	}
	h.rec.waitFor(t, "new worker messages", func(r *recorder) bool { return r.msgs[2] >= 10 })
	h.waitCovered(0, 1)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRestartWorker proves a worker-only reload makes no connection and
// hands the events that arrive during the swap to the new worker.
func TestRestartWorker(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	gate := make(chan struct{})
	launched := make(chan int, 4)
	creating := make(chan struct{}, 1)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		w := &testWorker{gen: gen, rec: rec, launched: launched}
		if gen == 2 {
			w.gate = gate
			creating <- struct{}{}
		}
		return w
	})
	h.start()
	h.waitReady()
	<-launched
	if err := fake.Emit(0, 4); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "gen 1 messages", func(r *recorder) bool { return r.msgs[1] == 4 })
	before := fake.Counters()
	client := h.c.Client()

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		done <- h.c.RestartAndWait(ctx, cluster.RestartWorker)
	}()
	// While the new worker's Launch is held, events arrive.
	<-creating // the old worker is shut down; the new one is being made
	if got := h.c.Status(); got != supervisor.StateReloading {
		t.Fatalf("Status during the swap = %v, want reloading", got)
	}
	if err := fake.Emit(0, 6); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "swap-time messages at gen 2", func(r *recorder) bool { return r.msgs[2] == 6 })

	after := fake.Counters()
	if after.Connections != before.Connections || after.Identifies != before.Identifies || after.Resumes != before.Resumes {
		t.Fatalf("a worker reload reconnected: before %+v after %+v", before, after)
	}
	if h.c.Client() != client {
		t.Fatal("a worker reload replaced the client")
	}
	h.rec.mu.Lock()
	gen1 := h.rec.msgs[1]
	h.rec.mu.Unlock()
	if gen1 != 4 {
		t.Fatalf("the old worker got %d messages, want 4 (none after the swap began)", gen1)
	}
	last := fake.Ledger().LastSeq(0, h.session(0))
	if m := h.rec.missing(0, last); len(m) > 0 {
		t.Fatalf("missed seqs %v", m)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRestartWhileStarting restarts a cluster whose first worker's Launch
// is still running: the Launch sees its context end, that is not a crash,
// and the restart returns once the next attempt is ready.
func TestRestartWhileStarting(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	launching := make(chan struct{})
	never := make(chan struct{})
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		if gen == 1 {
			return WorkerFunc(func(ctx context.Context, c *cluster.Cluster) error {
				close(launching)
				select {
				case <-never:
				case <-ctx.Done():
				}
				return ctx.Err()
			})
		}
		return &testWorker{gen: gen, rec: rec}
	})
	h.start()
	<-launching
	h.restartAndWait(cluster.RestartFull)
	if got := h.c.Status(); got != supervisor.StateReady {
		t.Fatalf("Status = %v", got)
	}
	if h.c.Crashes() != 0 {
		t.Fatalf("crashes = %d, want 0", h.c.Crashes())
	}
	h.rec.mu.Lock()
	crashed := h.rec.count(cluster.EventCrashed)
	h.rec.mu.Unlock()
	if crashed != 0 {
		t.Fatal("a cancelled Launch was reported as a crash")
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}
