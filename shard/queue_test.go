package shard

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// grant is one identify the queue let through.
type grant struct {
	shard int
	at    time.Duration // since the start of the test
}

// runShards makes every shard in ids wait on q at once (in a shuffled
// order), reports each IDENTIFY written as soon as it is granted, and
// returns the grants in the order they happened.
func runShards(t *testing.T, q Queue, ids []int) []grant {
	t.Helper()
	start := time.Now()
	var mu sync.Mutex
	var grants []grant
	var wg sync.WaitGroup
	order := append([]int(nil), ids...)
	rand.New(rand.NewPCG(uint64(len(ids)), 9)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, id := range order {
		wg.Go(func() {
			if err := q.Wait(t.Context(), id); err != nil {
				t.Errorf("shard %d: Wait = %v", id, err)
				return
			}
			q.Identified(id, time.Now(), nil)
			mu.Lock()
			grants = append(grants, grant{id, time.Since(start)})
			mu.Unlock()
		})
	}
	wg.Wait()
	return grants
}

func TestQueueBuckets(t *testing.T) {
	t.Parallel()
	const shards, window = 64, 5 * time.Second
	for _, mc := range []int{1, 4, 16} {
		t.Run("max_concurrency="+strconv.Itoa(mc), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				q := NewQueue(WithMaxConcurrency(mc), WithIdentifyWindow(window), WithIdentifyMargin(0), WithQueueLogger(discardLogger()))
				ids := make([]int, shards)
				for i := range ids {
					ids[i] = i
				}
				grants := runShards(t, q, ids)
				if len(grants) != shards {
					t.Fatalf("%d grants, want %d", len(grants), shards)
				}
				perBucket := make(map[int][]grant)
				for _, g := range grants {
					perBucket[g.shard%mc] = append(perBucket[g.shard%mc], g)
				}
				if len(perBucket) != mc {
					t.Fatalf("%d buckets used, want %d", len(perBucket), mc)
				}
				for b, gs := range perBucket {
					for k, g := range gs {
						// Never two in one window, and no time wasted: the
						// k-th identify of every bucket happens at k windows,
						// so the buckets run in parallel.
						if want := time.Duration(k) * window; g.at != want {
							t.Fatalf("bucket %d: identify %d (shard %d) at %v, want %v", b, k, g.shard, g.at, want)
						}
						// After the first, which was free to go at once,
						// the waiting shards go in ascending ID order.
						if k >= 2 && g.shard < gs[k-1].shard {
							t.Fatalf("bucket %d: shard %d went after shard %d", b, g.shard, gs[k-1].shard)
						}
					}
				}
			})
		})
	}
}

func TestQueueLowerShardsFirst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue(WithMaxConcurrency(2), WithIdentifyWindow(time.Second), WithIdentifyMargin(0), WithQueueLogger(discardLogger()))
		// Occupy both buckets, then queue shards in descending order.
		identify(t, q, 0)
		identify(t, q, 1)
		var mu sync.Mutex
		var order []int
		var wg sync.WaitGroup
		for id := 9; id >= 2; id-- {
			wg.Go(func() {
				if err := q.Wait(t.Context(), id); err != nil {
					t.Error(err)
				}
				mu.Lock()
				order = append(order, id)
				mu.Unlock()
				q.Identified(id, time.Now(), nil)
			})
			synctest.Wait() // id is queued before the next one arrives
		}
		wg.Wait()
		var even, odd []int
		for _, id := range order {
			if id%2 == 0 {
				even = append(even, id)
			} else {
				odd = append(odd, id)
			}
		}
		if !slices.Equal(even, []int{2, 4, 6, 8}) || !slices.Equal(odd, []int{3, 5, 7, 9}) {
			t.Fatalf("bucket orders %v and %v, want ascending shard IDs", even, odd)
		}
	})
}

func TestQueueMaxConcurrencyZeroIsOne(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    func() *LocalQueue
	}{
		{"option 0", func() *LocalQueue { return NewQueue(WithMaxConcurrency(0)) }},
		{"option -3", func() *LocalQueue { return NewQueue(WithMaxConcurrency(-3)) }},
		{"SetLimit 0", func() *LocalQueue {
			q := NewQueue(WithMaxConcurrency(4))
			q.SetLimit(0, 10, 10, time.Hour)
			return q
		}},
		{"zero value", func() *LocalQueue { return &LocalQueue{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				grants := runShards(t, tt.q(), []int{0, 1, 2})
				for k, g := range grants {
					if want := time.Duration(k) * (DefaultIdentifyWindow + DefaultIdentifyMargin); g.at != want {
						t.Fatalf("identify %d at %v, want %v (one bucket, default window and margin)", k, g.at, want)
					}
				}
			})
		})
	}
}

func TestQueueBudgetWaitsForReset(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		const window, reset = 5 * time.Second, time.Hour
		q := NewQueue(WithIdentifyWindow(window), WithIdentifyMargin(0), WithSessionStartLimit(10, 3, reset),
			WithReserve(1), WithQueueLogger(logger))
		if got := q.Remaining(); got != 3 {
			t.Fatalf("Remaining = %d, want 3", got)
		}
		start := time.Now()
		var at []time.Duration
		for id := range 5 {
			identify(t, q, id)
			at = append(at, time.Since(start))
		}
		// Two identifies spend the budget down to the reserve of 1; the
		// third waits for the reset, then the budget is back to 10.
		want := []time.Duration{0, window, reset, reset + window, reset + 2*window}
		if !slices.Equal(at, want) {
			t.Fatalf("identifies at %v, want %v", at, want)
		}
		if got := q.Remaining(); got != 7 {
			t.Fatalf("Remaining after the refill = %d, want 7", got)
		}
		if n := strings.Count(logs.String(), "identify budget exhausted"); n != 1 {
			t.Fatalf("the wait for the reset was logged %d times, want once:\n%s", n, logs.String())
		}
		if !strings.Contains(logs.String(), "reset_at=") {
			t.Fatalf("the log does not say when the reset is:\n%s", logs.String())
		}
	})
}

func TestQueueSetLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue(WithIdentifyWindow(time.Second), WithIdentifyMargin(0), WithQueueLogger(discardLogger()))
		if got := q.Remaining(); got != -1 {
			t.Fatalf("Remaining without a limit = %d, want -1", got)
		}
		q.SetLimit(2, 100, 0, time.Minute)
		identify(t, q, 0)
		if got := q.Remaining(); got != 99 {
			t.Fatalf("Remaining = %d, want 99 after the reset and one identify", got)
		}
		// Two buckets now: shard 2 waits for shard 0's window, shard 3 does not.
		grants := runShards(t, q, []int{2, 3})
		at := map[int]time.Duration{}
		for _, g := range grants {
			at[g.shard] = g.at
		}
		if at[3] != 0 || at[2] != time.Second {
			t.Fatalf("shard 2 went at %v and shard 3 at %v, want 1s and 0s", at[2], at[3])
		}
	})
}

func TestQueueCancelledWaiterLeaves(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const window = 5 * time.Second
		q := NewQueue(WithIdentifyWindow(window), WithIdentifyMargin(0), WithQueueLogger(discardLogger()))
		identify(t, q, 0)
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- q.Wait(ctx, 1) }()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Wait = %v, want context.Canceled", err)
		}
		if time.Since(start) != 0 {
			t.Fatal("a cancelled Wait did not return at once")
		}
		// Its place went to the next shard, which goes when the window ends.
		identify(t, q, 2)
		if got := time.Since(start); got != window {
			t.Fatalf("next shard went after %v, want %v", got, window)
		}
		// A deadline shorter than the window ends the wait too.
		dctx, dcancel := context.WithTimeout(t.Context(), time.Second)
		defer dcancel()
		if err := q.Wait(dctx, 3); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait past its deadline = %v, want DeadlineExceeded", err)
		}
		// An already cancelled context returns without queueing.
		if err := q.Wait(ctx, 4); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait with a cancelled ctx = %v", err)
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		for i, b := range q.buckets {
			if len(b.waiters) != 0 {
				t.Fatalf("bucket %d still holds %d waiters", i, len(b.waiters))
			}
		}
	})
}

func TestQueueClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue(WithQueueLogger(discardLogger()))
		identify(t, q, 0)
		errc := make(chan error, 2)
		for _, id := range []int{1, 2} {
			go func() { errc <- q.Wait(t.Context(), id) }()
		}
		synctest.Wait()
		q.Close()
		q.Close() // idempotent
		for range 2 {
			if err := <-errc; !errors.Is(err, ErrQueueClosed) {
				t.Fatalf("waiting Wait after Close = %v, want ErrQueueClosed", err)
			}
		}
		if err := q.Wait(t.Context(), 3); !errors.Is(err, ErrQueueClosed) {
			t.Fatalf("Wait after Close = %v, want ErrQueueClosed", err)
		}
	})
}

// identify waits for shardID's grant and reports its IDENTIFY written at
// once, as a shard does.
func identify(t *testing.T, q Queue, shardID int) {
	t.Helper()
	if err := q.Wait(t.Context(), shardID); err != nil {
		t.Fatalf("shard %d: Wait = %v", shardID, err)
	}
	q.Identified(shardID, time.Now(), nil)
}

// discardLogger drops every line.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestQueueBudgetAfterResetKeepsReserve lets the reset time pass with the
// budget untouched, then spends it: once the budget is down to the reserve,
// the next identify must wait for the following reset. The queue used to
// skip the refill when nothing had been spent, leave the reset time in the
// past and refill again on the next grant, so it handed out one identify
// more than Discord allows and burned the reserve.
func TestQueueBudgetAfterResetKeepsReserve(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue(WithSessionStartLimit(3, 3, time.Hour), WithReserve(1),
			WithIdentifyWindow(0), WithQueueLogger(discardLogger()))
		time.Sleep(time.Hour) // virtual: the first reset passes, nothing spent
		start := time.Now()
		for i := range 2 {
			identify(t, q, i)
		}
		if time.Since(start) != 0 {
			t.Fatal("the budget above the reserve was not granted at once")
		}
		if got := q.Remaining(); got != 1 {
			t.Fatalf("Remaining = %d, want 1 (the reserve)", got)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		if err := q.Wait(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait with only the reserve left = %v, want to wait for the next reset", err)
		}
		if got := q.Remaining(); got != 1 {
			t.Fatalf("Remaining = %d after the refused wait, want 1", got)
		}
	})
}

// TestQueueWindowStartsWhenWritten is the rule Discord enforces: a
// bucket's window runs from the moment the IDENTIFY is written (plus the
// margin), not from the grant. The queue used to start it at the grant, so
// an identify written late (encoding, the send limiter, a slow write) and
// the next one of its bucket could arrive closer than the window.
func TestQueueWindowStartsWhenWritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const window, margin, writeDelay = 5 * time.Second, 300 * time.Millisecond, 2 * time.Second
		q := NewQueue(WithIdentifyWindow(window), WithIdentifyMargin(margin), WithQueueLogger(discardLogger()))
		start := time.Now()
		if err := q.Wait(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
		granted := make(chan time.Duration, 1)
		go func() {
			identify(t, q, 1)
			granted <- time.Since(start)
		}()
		time.Sleep(writeDelay) // shard 0 is still writing its IDENTIFY
		synctest.Wait()
		select {
		case at := <-granted:
			t.Fatalf("shard 1 went at %v while shard 0's IDENTIFY was not written yet", at)
		default:
		}
		q.Identified(0, time.Now(), nil)
		if got, want := <-granted, writeDelay+window+margin; got != want {
			t.Fatalf("shard 1 went at %v, want %v (written + window + margin)", got, want)
		}
	})
}

// TestQueueIdentifyNotSent: an IDENTIFY that was never written gives its
// identify back to the budget and reopens the bucket at once.
func TestQueueIdentifyNotSent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue(WithIdentifyWindow(5*time.Second), WithSessionStartLimit(10, 10, time.Hour),
			WithQueueLogger(discardLogger()))
		start := time.Now()
		if err := q.Wait(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
		if got := q.Remaining(); got != 9 {
			t.Fatalf("Remaining after a grant = %d, want 9", got)
		}
		q.Identified(0, time.Time{}, errors.New("connection gone before the write"))
		if got := q.Remaining(); got != 10 {
			t.Fatalf("Remaining after an unsent IDENTIFY = %d, want 10", got)
		}
		identify(t, q, 1)
		if time.Since(start) != 0 {
			t.Fatalf("the bucket stayed closed %v after an IDENTIFY that was never sent", time.Since(start))
		}
	})
}

// TestQueueGrantTimeout: a grant that is never reported closes its bucket
// until the grant timeout, and then the window runs from there. A report
// that comes later still moves the window.
func TestQueueGrantTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		const window, margin, timeout = time.Second, 100 * time.Millisecond, 10 * time.Second
		q := NewQueue(WithIdentifyWindow(window), WithIdentifyMargin(margin), WithGrantTimeout(timeout),
			WithQueueLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		start := time.Now()
		if err := q.Wait(t.Context(), 0); err != nil {
			t.Fatal(err) // never reported
		}
		identify(t, q, 1)
		if got, want := time.Since(start), timeout+window+margin; got != want {
			t.Fatalf("shard 1 went at %v, want %v", got, want)
		}
		if !strings.Contains(logs.String(), "never reported") {
			t.Fatalf("the expired grant was not logged:\n%s", logs.String())
		}
		// Shard 0's write returns at last, after shard 1's: the window
		// runs from the later of the two.
		time.Sleep(window / 2)
		late := time.Now()
		q.Identified(0, late, nil)
		identify(t, q, 2)
		if got, want := time.Since(late), window+margin; got != want {
			t.Fatalf("shard 2 went %v after the late report, want %v", got, want)
		}
	})
}

// TestQueueSetLimitKeepsGrants: SetLimit re-buckets a grant in flight, so
// its new bucket stays closed until it is reported, and takes it off the
// fresh budget.
func TestQueueSetLimitKeepsGrants(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const window = time.Second
		q := NewQueue(WithIdentifyWindow(window), WithIdentifyMargin(0), WithQueueLogger(discardLogger()))
		start := time.Now()
		if err := q.Wait(t.Context(), 3); err != nil {
			t.Fatal(err)
		}
		q.SetLimit(2, 100, 50, time.Hour) // shard 3 is now in bucket 1
		if got := q.Remaining(); got != 49 {
			t.Fatalf("Remaining = %d, want 49 (50 less the identify in flight)", got)
		}
		granted := make(chan time.Duration, 1)
		go func() {
			identify(t, q, 1)
			granted <- time.Since(start)
		}()
		identify(t, q, 0) // bucket 0: free
		time.Sleep(2 * time.Second)
		synctest.Wait()
		select {
		case at := <-granted:
			t.Fatalf("shard 1 went at %v, while shard 3 of its new bucket was in flight", at)
		default:
		}
		q.Identified(3, time.Now(), nil)
		if got, want := <-granted, 2*time.Second+window; got != want {
			t.Fatalf("shard 1 went at %v, want %v", got, want)
		}
	})
}
