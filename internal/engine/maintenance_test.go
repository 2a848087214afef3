package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/testutil"
)

// stats reads the harness cluster's figures.
func (h *harness) stats() Stats {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return h.c.Stats(ctx)
}

// waitHeld waits until the cluster holds n events (bot events: one
// MESSAGE_CREATE gives two, MessageCreate and GuildMessageCreate).
func (h *harness) waitHeld(what string, cond func(st Stats) bool) {
	h.t.Helper()
	testutil.Eventually(h.t, testTimeout, what, func() bool { return cond(h.stats()) })
}

// msgSeqs returns a copy of the MESSAGE_CREATE seqs generation gen got.
func (r *recorder) msgSeqsOf(gen int) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgSeqs[gen])
}

// checkIncreasing fails unless seqs are strictly increasing.
func checkIncreasing(t *testing.T, seqs []int) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("message %d has seq %d after %d: out of order", i, seqs[i], seqs[i-1])
		}
	}
}

// TestMaintenanceHoldsAndReleasesInOrder proves that in maintenance the
// listeners get nothing while the shard's counters and the cache go on,
// and that leaving it delivers every held event, in order, before the
// events sent right after.
func TestMaintenanceHoldsAndReleasesInOrder(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	h := newHarness(t, fake, []int{0}, 1, plainWorker)
	h.start()
	h.waitReady()
	eventsBefore := h.stats().Shards[0].Events

	h.c.SetMaintenance(true)
	h.c.SetMaintenance(true) // no change: no second event
	if !h.c.Maintenance() {
		t.Fatal("Maintenance() = false after SetMaintenance(true)")
	}
	const held, after = 400, 200
	if err := fake.Emit(0, held); err != nil {
		t.Fatal(err)
	}
	h.waitHeld("every message held", func(st Stats) bool { return st.Held == 2*held })
	st := h.stats()
	if got := h.rec.msgTotal(); got != 0 {
		t.Fatalf("listeners got %d messages in maintenance", got)
	}
	if !h.c.Maintenance() || !st.Ready || st.Shards[0].Events < eventsBefore+held || st.HeldDropped != 0 {
		t.Fatalf("stats in maintenance: %+v", st)
	}

	h.c.SetMaintenance(false)
	if err := fake.Emit(0, after); err != nil { // races the release: must queue behind it
		t.Fatal(err)
	}
	h.rec.waitFor(t, "every message", func(r *recorder) bool { return r.msgs[1] == held+after })
	seqs := h.rec.msgSeqsOf(1)
	checkIncreasing(t, seqs)
	h.waitCovered(0)
	if st := h.stats(); st.Held != 0 || h.c.Maintenance() {
		t.Fatalf("stats after maintenance: %+v", st)
	}
	h.rec.mu.Lock()
	var kinds []bool
	for _, e := range h.rec.events {
		if e.Kind == cluster.EventMaintenance {
			kinds = append(kinds, e.Maintenance)
		}
	}
	h.rec.mu.Unlock()
	if !slices.Equal(kinds, []bool{true, false}) {
		t.Fatalf("maintenance events = %v, want [true false]", kinds)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestMaintenanceOverflowDropsOldest proves the overflow policy: a full
// hold buffer drops the oldest events, counts them, and the listeners
// get the newest ones, in order.
func TestMaintenanceOverflowDropsOldest(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	h := newHarness(t, fake, []int{0}, 1, plainWorker, WithMaintenanceBuffer(10))
	h.start()
	h.waitReady()
	h.c.SetMaintenance(true)
	const n = 50
	if err := fake.Emit(0, n); err != nil {
		t.Fatal(err)
	}
	// 50 MESSAGE_CREATEs give 100 bot events; the buffer keeps 10.
	h.waitHeld("the buffer full and the rest dropped", func(st Stats) bool { return st.Held+st.HeldDropped == 2*n })
	if st := h.stats(); st.Held != 10 || st.HeldDropped != 2*n-10 {
		t.Fatalf("held %d dropped %d, want 10 and %d", st.Held, st.HeldDropped, 2*n-10)
	}
	last := fake.Ledger().LastSeq(0, h.session(0))
	h.c.SetMaintenance(false)
	h.rec.waitFor(t, "the kept messages", func(r *recorder) bool { return r.msgs[1] == 5 })
	want := []int{last - 4, last - 3, last - 2, last - 1, last}
	if got := h.rec.msgSeqsOf(1); !slices.Equal(got, want) {
		t.Fatalf("delivered seqs %v, want the newest %v", got, want)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestMaintenanceHandler proves that with a maintenance handler the
// events go to it, not to the listeners and not into the buffer, and that
// the listeners get the events after maintenance.
func TestMaintenanceHandler(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	var mu sync.Mutex
	var got []int
	var face *cluster.Cluster
	changed := make(chan struct{}, 1)
	handler := func(cl *cluster.Cluster, e bot.Event) {
		if mc, ok := e.(*events.MessageCreate); ok {
			mu.Lock()
			got, face = append(got, mc.SequenceNumber()), cl
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}
	h := newHarness(t, fake, []int{0}, 1, plainWorker, WithMaintenanceHandler(handler))
	h.start()
	h.waitReady()
	h.c.SetMaintenance(true)
	if err := fake.Emit(0, 20); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, testTimeout, "20 messages to the handler", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 20
	}, changed)
	mu.Lock()
	checkIncreasing(t, got)
	if face != h.c.Handle() {
		t.Fatal("the handler did not get the cluster's handle")
	}
	mu.Unlock()
	if st := h.stats(); st.Held != 0 || h.rec.msgTotal() != 0 {
		t.Fatalf("held %d, listeners got %d", st.Held, h.rec.msgTotal())
	}
	h.c.SetMaintenance(false)
	if err := fake.Emit(0, 5); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "5 messages to the listener", func(r *recorder) bool { return r.msgs[1] == 5 })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 20 {
		t.Fatalf("the handler got %d messages, want 20", len(got))
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestMaintenanceBusReply proves that the worker's topics get
// cluster.ErrMaintenance across bus.Request while reserved topics work.
func TestMaintenanceBusReply(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	b := newBus(0)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		return &cmdWorker{testWorker: testWorker{gen: gen, rec: rec}, stats: map[string]any{"k": 1}}
	}, WithBus(b))
	h.start()
	h.waitReady()
	h.c.SetMaintenance(true)
	if _, err := request[int](t, b, bus.Cluster(0), "gen", nil); !errors.Is(err, cluster.ErrMaintenance) {
		t.Fatalf("a worker topic in maintenance = %v, want ErrMaintenance", err)
	}
	if st := h.stats(); st.Custom["k"] != 1 {
		t.Fatalf("the reserved stats topic in maintenance gave %v", st.Custom)
	}
	guild := fake.GuildIDs(0, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := cluster.FetchGuild(ctx, b, bus.Manager(), guild); err != nil {
		t.Fatalf("a fetch in maintenance = %v", err)
	}
	h.c.SetMaintenance(false)
	if g, err := request[int](t, b, bus.Cluster(0), "gen", nil); err != nil || g != 1 {
		t.Fatalf("a worker topic after maintenance = %d, %v", g, err)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestMaintenanceAcrossRestarts proves that every kind of restart keeps
// the cluster in maintenance, and what happens to the held events: a
// resume restart did not count them as delivered (Discord replays them
// and the new attempt holds them again), a worker-only reload keeps them,
// and in both cases the next worker gets every one, in order; a full
// restart loses them.
func TestMaintenanceAcrossRestarts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind    RestartKind
		resumes int64 // resumes the restart costs
		kept    bool  // the next worker gets the held messages
	}{
		{cluster.RestartResume, 1, true},
		{cluster.RestartWorker, 0, true},
		{cluster.RestartFull, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1)
			h := newHarness(t, fake, []int{0}, 1, plainWorker)
			h.start()
			h.waitReady()
			h.c.SetMaintenance(true)
			const n = 30
			if err := fake.Emit(0, n); err != nil {
				t.Fatal(err)
			}
			h.waitHeld("every message held", func(st Stats) bool { return st.Held == 2*n })
			before := fake.Counters()

			h.restartAndWait(tt.kind)

			if !h.c.Maintenance() {
				t.Fatalf("a %v restart left maintenance", tt.kind)
			}
			if after := fake.Counters(); after.Resumes != before.Resumes+tt.resumes {
				t.Fatalf("resumes before %d after %d, want %d more", before.Resumes, after.Resumes, tt.resumes)
			}
			if tt.kept {
				// A replay holds RESUMED too.
				h.waitHeld("the messages held again", func(st Stats) bool { return st.Held >= 2*n })
			}
			if got := h.rec.msgTotal(); got != 0 {
				t.Fatalf("listeners got %d messages in maintenance", got)
			}
			h.c.SetMaintenance(false)
			if tt.kept {
				h.rec.waitFor(t, "the held messages, to the new worker", func(r *recorder) bool { return r.msgs[2] == n })
				checkIncreasing(t, h.rec.msgSeqsOf(2))
				h.waitCovered(0)
			} else {
				if err := fake.Emit(0, 1); err != nil {
					t.Fatal(err)
				}
				h.rec.waitFor(t, "a new message", func(r *recorder) bool { return r.msgs[2] == 1 })
				if st := h.stats(); st.Held != 0 {
					t.Fatalf("held %d after leaving", st.Held)
				}
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
