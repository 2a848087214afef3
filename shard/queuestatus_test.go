package shard

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestQueueStatus follows a queue's status through waiting shards, a
// grant, a written identify and an exhausted budget.
func TestQueueStatus(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const window, margin = 5 * time.Second, 300 * time.Millisecond
		q := NewQueue(WithMaxConcurrency(2), WithIdentifyWindow(window), WithIdentifyMargin(margin),
			WithSessionStartLimit(10, 3, time.Hour), WithReserve(1), WithQueueLogger(discardLogger()))
		start := time.Now()
		want := QueueStatus{NextSlot: start, MaxConcurrency: 2, Interval: window + margin,
			Remaining: 3, Total: 10, Reserve: 1, ResetAt: start.Add(time.Hour)}
		if got := q.Status(); !sameStatus(got, want) {
			t.Fatalf("fresh: Status() = %+v, want %+v", got, want)
		}

		// Shard 0 is granted and writes at once; shards 2 and 4 wait behind
		// it in bucket 0, shard 1 is granted in bucket 1 and not reported.
		if err := q.Wait(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
		q.Identified(0, time.Now(), nil)
		if err := q.Wait(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int{2, 4} {
			go func() { _ = q.Wait(t.Context(), id) }()
		}
		synctest.Wait()
		want.Waiting, want.Remaining = 2, 1
		want.NextSlot = start.Add(window + margin) // both buckets: bucket 0's window, bucket 1's grant
		if got := q.Status(); !sameStatus(got, want) {
			t.Fatalf("waiting: Status() = %+v, want %+v", got, want)
		}

		// Remaining is down to the reserve: shard 2 waits for the reset.
		time.Sleep(window + margin)
		synctest.Wait()
		want.NextSlot = time.Now()
		if got := q.Status(); !sameStatus(got, want) {
			t.Fatalf("exhausted: Status() = %+v, want %+v", got, want)
		}

		q.Close()
		synctest.Wait()

		// Once the reset time has passed, the budget counts as refilled.
		spent := NewQueue(WithSessionStartLimit(5, 0, time.Minute), WithQueueLogger(discardLogger()))
		if st := spent.Status(); st.Remaining != 0 {
			t.Fatalf("spent: Remaining %d, want 0", st.Remaining)
		}
		time.Sleep(time.Minute)
		if st := spent.Status(); st.Remaining != 5 || !st.ResetAt.Equal(time.Now().Add(24*time.Hour)) {
			t.Fatalf("after the reset: Remaining %d, ResetAt %v; want 5 and a day later", st.Remaining, st.ResetAt)
		}
	})
}

// sameStatus compares two statuses, their times with Equal.
func sameStatus(a, b QueueStatus) bool {
	ta, tb := a.NextSlot, b.NextSlot
	ra, rb := a.ResetAt, b.ResetAt
	a.NextSlot, b.NextSlot, a.ResetAt, b.ResetAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b && ta.Equal(tb) && ra.Equal(rb)
}

// TestQueueStatusZero: the zero LocalQueue reports one bucket, a 5 s
// window with its margin, and no budget.
func TestQueueStatusZero(t *testing.T) {
	t.Parallel()
	var q LocalQueue
	st := q.Status()
	if st.MaxConcurrency != 1 || st.Interval != DefaultIdentifyWindow+DefaultIdentifyMargin ||
		st.Remaining != -1 || st.Waiting != 0 {
		t.Fatalf("zero queue: Status() = %+v", st)
	}
}
