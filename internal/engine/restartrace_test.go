package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/supervisor"
)

// slowBackoff crashes into a backoff that lasts the whole test: only a
// restart starts the next attempt.
func slowBackoff() supervisor.Policy {
	return supervisor.Policy{MinBackoff: time.Hour, MaxBackoff: time.Hour, MaxRestarts: -1, MaxFailedStarts: -1}
}

// TestRestartRaceKeepsSessions is the race the soak found. A crash leaves
// the cluster in backoff with its sessions saved; restart 1 (resume)
// starts attempt A at once; restart 2 (resume) comes before A has read its
// start kind, and cancels it. The cluster kept one "pending" kind for both
// ends of a restart: A consumed restart 2's kind as its own start, so its
// teardown found none, took the cancel for a stop, closed the sessions with
// 1000 and dropped them, and the next attempt identified afresh; the events
// of the gap were lost. Now A's end reads restart 2's own kind.
func TestRestartRaceKeepsSessions(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	crash := make(chan struct{}, 1)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		return &testWorker{gen: gen, rec: rec, onMsg: func(context.Context, *cluster.Cluster, int, *events.MessageCreate) {
			select {
			case <-crash:
				panic("listener bug")
			default:
			}
		}}
	}, WithRestartPolicy(slowBackoff()))
	// The hooks are read by the cluster's goroutines; they only wait on
	// channels the test fills.
	holdA := make(chan struct{})
	queued := make(chan struct{}, 4)
	var attempts int
	h.c.hooks.runStart = func() {
		attempts++ // runners run one after another: no race
		if attempts == 2 {
			<-holdA
		}
	}
	h.c.hooks.restartQueued = func() { queued <- struct{}{} }
	h.start()
	h.waitReady()
	crash <- struct{}{}
	if err := fake.Emit(0, 1); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "the crash", func(r *recorder) bool { return r.count(cluster.EventCrashed) == 1 })
	identifies := fake.Counters().Identifies

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	first, second := make(chan error, 1), make(chan error, 1)
	go func() { first <- h.c.RestartAndWait(ctx, cluster.RestartResume) }() // starts A, held at its start
	<-queued
	go func() { second <- h.c.RestartAndWait(ctx, cluster.RestartResume) }() // cancels A
	<-queued
	close(holdA) // A reads its start kind only now, after restart 2 set it
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatalf("RestartAndWait = %v", err)
		}
	}
	if got := fake.Counters().Identifies; got != identifies {
		t.Fatalf("the restarts identified %d times: a resume restart dropped its sessions", got-identifies)
	}
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	for _, e := range h.rec.events {
		if e.Kind == cluster.EventRestarted && e.Restart != cluster.RestartResume {
			t.Fatalf("attempt %d restarted as %v, want resume", e.Attempt, e.Restart)
		}
	}
}

// TestCrashDuringRestartIsReported: a worker whose Launch panics as the
// restart that started it is cancelled by another used to have its panic
// logged at debug level as a "cancelled attempt", with no crash event.
func TestCrashDuringRestartIsReported(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		if gen == 1 {
			return &testWorker{gen: gen, rec: rec}
		}
		return WorkerFunc(func(ctx context.Context, _ *cluster.Cluster) error {
			if gen == 2 {
				<-ctx.Done() // ended by the second restart
				panic("launch bug on the way out")
			}
			return nil
		})
	})
	queued := make(chan struct{}, 4)
	h.c.hooks.restartQueued = func() { queued <- struct{}{} }
	h.start()
	h.waitReady()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	first := make(chan error, 1)
	go func() { first <- h.c.RestartAndWait(ctx, cluster.RestartResume) }() // gen 2 launches and waits
	<-queued
	h.rec.waitFor(t, "gen 2's attempt", func(r *recorder) bool { return r.count(cluster.EventRestarted) == 1 })
	if err := h.c.RestartAndWait(ctx, cluster.RestartResume); err != nil {
		t.Fatal(err)
	}
	<-first
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	var pe *PanicError
	for _, e := range h.rec.events {
		if e.Kind == cluster.EventCrashed && errors.As(e.Err, &pe) && e.Panic != nil {
			return
		}
	}
	t.Fatalf("no crash event for the panic; events %v", h.rec.events)
}

// TestRestartBeforeLaunchEndsIt: a restart that cancels an attempt after
// the attempt has armed its end (attempt.end on its context) but before
// its worker's launch is recorded used to find no incarnation to cancel,
// so that Launch ran with a live context until the ready timeout and the
// restart waited as long.
func TestRestartBeforeLaunchEndsIt(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		if gen == 2 {
			return WorkerFunc(func(ctx context.Context, _ *cluster.Cluster) error {
				<-ctx.Done() // ended by the second restart, or never
				return nil
			})
		}
		return &testWorker{gen: gen, rec: rec}
	}, WithReadyTimeout(2*testTimeout)) // without the fix: a failure, then the stuck Launch times out
	held := make(chan struct{}, 1)
	ended := make(chan struct{}, 4) // attempt 2's end ran (AfterFunc, then teardown)
	h.c.hooks.launchStart = func(attempt int) {
		if attempt == 2 {
			held <- struct{}{}
			<-ended // the second restart cancelled the attempt, and its end ran
		}
	}
	h.c.hooks.ended = func(attempt int) {
		if attempt == 2 {
			ended <- struct{}{}
		}
	}
	h.start()
	h.waitReady()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	first := make(chan error, 1)
	go func() { first <- h.c.RestartAndWait(ctx, cluster.RestartResume) }() // attempt 2, held before its launch
	<-held
	if err := h.c.RestartAndWait(ctx, cluster.RestartResume); err != nil {
		t.Fatalf("second RestartAndWait = %v (Launch of the cancelled attempt was left running)", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first RestartAndWait = %v", err)
	}
}
