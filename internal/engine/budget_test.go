package engine

import (
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/shard"
)

// TestByteBudget checks the budget's rules: room is taken at once while
// it lasts, a batch larger than the budget goes through when nothing is
// queued, a spent budget makes acquire wait until a release makes room,
// and a closed stop ends the wait without taking anything.
func TestByteBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newByteBudget(100)
		never := make(chan struct{})
		if !b.acquire(500, never) {
			t.Fatal("a batch larger than an unused budget was refused")
		}
		var got atomic.Bool
		go func() { got.Store(b.acquire(10, never)) }()
		synctest.Wait()
		if got.Load() {
			t.Fatal("acquire took room from a spent budget")
		}
		b.release(300) // 200 of 100 still used: no room yet
		synctest.Wait()
		if got.Load() {
			t.Fatal("acquire went on while the budget was still spent")
		}
		b.release(200)
		synctest.Wait()
		if !got.Load() || b.used.Load() != 10 {
			t.Fatalf("after the release: acquired %t, used %d, want true and 10", got.Load(), b.used.Load())
		}

		b.used.Store(100)
		stop := make(chan struct{})
		done := make(chan bool)
		go func() { done <- b.acquire(10, stop) }()
		synctest.Wait()
		close(stop)
		if <-done || b.used.Load() != 100 {
			t.Fatalf("a stopped acquire took room: used %d", b.used.Load())
		}
	})
}

// TestByteBudgetNone checks that a limit of 0 never waits.
func TestByteBudgetNone(t *testing.T) {
	t.Parallel()
	b := newByteBudget(0)
	for range 10 {
		if !b.acquire(1<<30, nil) {
			t.Fatal("an unbounded budget refused")
		}
	}
}

// TestExecutorBoundsQueuedBytes checks that a shard's read loop waits in
// tap once the queued batches hold the executor's byte budget, although
// the queue has free slots, and goes on once the executor has run them.
// Without the bound, startup queued hundreds of decoded GUILD_CREATEs.
func TestExecutorBoundsQueuedBytes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newExecutor(64, 1000, []int{0}, nil)
		ran := make(chan struct{}, 16)
		e.handle = func(item) { ran <- struct{}{} }
		e.onPanic = func(r any, _ []byte) { t.Errorf("panic: %v", r) }
		s := shard.New("t", 0, 1, nil)
		guild := []shard.Dispatch{{Seq: 1, Size: 600, Type: gateway.EventTypeGuildCreate, Data: gateway.EventGuildCreate{}}}
		e.tap(s, guild)
		e.tap(s, guild) // 600 used: room left
		tapped := make(chan struct{})
		go func() {
			e.tap(s, guild) // 1200 used: waits
			close(tapped)
		}()
		synctest.Wait()
		select {
		case <-tapped:
			t.Fatal("tap queued a batch beyond the byte budget")
		default:
		}
		if e.waiting() != 3 {
			t.Fatalf("waiting = %d, want the 2 queued events and the one waiting for room", e.waiting())
		}
		go e.run()
		<-ran
		<-ran
		<-tapped
		<-ran
		e.abandon()
		<-e.done
		if used := e.budget.used.Load(); used != 0 {
			t.Fatalf("%d bytes still counted after every batch ran", used)
		}
	})
}

// TestExecutorAbandonEndsByteWait checks that a read loop waiting for the
// byte budget returns when the executor is abandoned, counting nothing.
func TestExecutorAbandonEndsByteWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newExecutor(64, 100, []int{0}, nil)
		s := shard.New("t", 0, 1, nil)
		big := []shard.Dispatch{{Seq: 1, Size: 100, Type: gateway.EventTypeGuildCreate, Data: gateway.EventGuildCreate{}}}
		e.tap(s, big)
		tapped := make(chan struct{})
		go func() {
			e.tap(s, big)
			close(tapped)
		}()
		synctest.Wait()
		e.abandon()
		<-tapped
		if e.waiting() != 1 {
			t.Fatalf("waiting = %d, want only the first batch's event", e.waiting())
		}
	})
}

// TestExecutorWaitingCountsByteWait checks that events whose read loop
// waits for the byte budget count as waiting, as those waiting for a
// queue slot do: the watchdog restarts a cluster whose executor is stuck
// while events wait, and a listener stuck on the one batch that holds the
// whole budget must not hide them.
func TestExecutorWaitingCountsByteWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newExecutor(64, 100, []int{0}, nil)
		stuck, unstick := make(chan struct{}), make(chan struct{})
		e.handle = func(item) {
			stuck <- struct{}{}
			<-unstick
		}
		e.onPanic = func(r any, _ []byte) { t.Errorf("panic: %v", r) }
		s := shard.New("t", 0, 1, nil)
		big := []shard.Dispatch{{Seq: 1, Size: 100, Type: gateway.EventTypeGuildCreate, Data: gateway.EventGuildCreate{}}}
		go e.run()
		e.tap(s, big)
		<-stuck // the executor runs the batch that holds the budget
		tapped := make(chan struct{})
		go func() {
			e.tap(s, []shard.Dispatch{{Seq: 2, Size: 10, Type: gateway.EventTypeGuildCreate, Data: gateway.EventGuildCreate{}}})
			close(tapped)
		}()
		synctest.Wait()
		if e.waiting() != 1 {
			t.Fatalf("waiting = %d while a read loop waits for the budget, want 1", e.waiting())
		}
		unstick <- struct{}{}
		<-tapped
		<-stuck
		unstick <- struct{}{}
		e.abandon()
		<-e.done
	})
}
