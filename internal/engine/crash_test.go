package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/events"
	"github.com/megane-go/megane/cluster"
)

// TestListenerPanicRestarts proves a panic in a listener (which disgo
// would swallow) crashes the cluster, is reported with its stack, and is
// restarted by the supervisor, resuming so that the messages after the
// panic reach the next worker.
func TestListenerPanicRestarts(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		n := 0
		return &testWorker{gen: gen, rec: rec, onMsg: func(context.Context, *cluster.Cluster, int, *events.MessageCreate) {
			n++
			if gen == 1 && n == 3 {
				panicInListener()
			}
		}}
	})
	h.start()
	h.waitReady()
	before := fake.Counters()
	if err := fake.Emit(0, 10); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "restart after the panic", func(r *recorder) bool {
		return r.count(cluster.EventCrashed) == 1 && r.count(cluster.EventReady) == 2
	})
	if err := fake.Emit(0, 5); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "later messages", func(r *recorder) bool { return r.msgs[2] >= 5 })
	h.waitCovered(0)

	h.rec.mu.Lock()
	var crash Event
	for _, e := range h.rec.events {
		if e.Kind == cluster.EventCrashed {
			crash = e
		}
	}
	gen1 := h.rec.msgs[1]
	h.rec.mu.Unlock()
	if crash.Panic == nil || !strings.Contains(string(crash.Panic.Stack), "panicInListener") {
		t.Fatalf("crash event without the panic's stack: %+v", crash)
	}
	var pe *PanicError
	if !errors.As(crash.Err, &pe) || pe.Value != "boom" {
		t.Fatalf("crash error = %v", crash.Err)
	}
	if gen1 != 3 {
		t.Fatalf("the first worker got %d messages, want 3 (none after its panic)", gen1)
	}
	if got := fake.Counters().Identifies - before.Identifies; got != 0 {
		t.Fatalf("a crash restart identified %d times, want 0 (resume)", got)
	}
	if h.c.Crashes() != 1 {
		t.Fatalf("crashes = %d", h.c.Crashes())
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

//go:noinline
func panicInListener() { panic("boom") }

// TestWatchdogRestartsStalledCluster blocks a listener forever (until the
// test releases it at the end) and checks that the watchdog restarts the
// cluster, resuming, so that the messages queued behind the stuck one
// reach the next worker (every ledger seq arrives).
func TestWatchdogRestartsStalledCluster(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	release := make(chan struct{})
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		n := 0
		return &testWorker{gen: gen, rec: rec, onMsg: func(context.Context, *cluster.Cluster, int, *events.MessageCreate) {
			n++
			if gen == 1 && n == 2 {
				<-release // ignores every context
			}
		}}
	}, WithWatchdog(200*time.Millisecond), WithDrainTimeout(20*time.Millisecond), WithDispatchBuffer(2))
	h.start()
	defer close(release)
	h.waitReady()
	if err := fake.Emit(0, 10); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "stall and restart", func(r *recorder) bool {
		return r.count(cluster.EventStalled) >= 1 && r.count(cluster.EventReady) >= 2
	})
	if err := fake.Emit(0, 5); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "later messages", func(r *recorder) bool { return r.msgTotal()-r.msgs[1] >= 5 })
	h.waitCovered(0)
	h.rec.mu.Lock()
	var stall Event
	for _, e := range h.rec.events {
		if e.Kind == cluster.EventStalled {
			stall = e
		}
	}
	gen1 := h.rec.msgs[1]
	h.rec.mu.Unlock()
	var se *StalledError
	if !errors.As(stall.Err, &se) || !errors.Is(stall.Err, cluster.ErrStalled) || se.Waiting == 0 {
		t.Fatalf("stall event error = %v", stall.Err)
	}
	if gen1 != 2 {
		t.Fatalf("the stuck worker got %d messages, want 2", gen1)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}
