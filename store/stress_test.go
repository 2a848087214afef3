package store

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestParallelStress runs Set, SetTTL, Compute, ComputeTTL, CompareAndSwap,
// Delete, Range and Len from many goroutines at once, in the spirit of xsync's
// TestMapOfParallelStoresAndDeletes, then checks the invariants:
//   - Compute-incremented counters sum exactly;
//   - CompareAndSwap increments (retried until they win) sum exactly;
//   - the TTL bookkeeping matches the entries actually stored;
//   - a concurrent watcher that follows the documented protocol (apply each
//     change; re-read on KindOverflow) ends with an exact copy of the bucket.
//     This is what proves that each key's changes arrive in order and that
//     every dropped change is followed by an overflow marker.
func TestParallelStress(t *testing.T) {
	t.Parallel()
	const (
		workers  = 8
		iters    = 3000
		counters = 16
		keys     = 64
	)
	s := newTestStore(t)
	ctrs := mustOpen[int, int](t, s, "counters")
	cas := mustOpen[int, int](t, s, "cas")
	mixed := mustOpen[string, int](t, s, "mixed")

	ch, err := mixed.Watch(t.Context(), WithWatchBuffer(16)) // small: forces overflows
	if err != nil {
		t.Fatal(err)
	}
	// The consumer applies changes to its copy and re-reads on overflow. It
	// stops at the first sentinel that arrives as a KindSet change: writers
	// send directly only when no drop is pending, so every change before it
	// has been applied or covered by a re-read. A sentinel seen only through a
	// re-read proves nothing (Range is not a snapshot), so the consumer asks
	// for another sentinel instead.
	const sentinel = "done"
	again := make(chan struct{}, 1)
	mirrorDone := make(chan map[string]int)
	go func() {
		mirror := make(map[string]int)
		overflows := 0
		for c := range ch {
			switch c.Kind {
			case KindSet:
				if c.Key == sentinel {
					t.Logf("watcher saw %d overflow markers", overflows)
					mirrorDone <- mirror
					return
				}
				mirror[c.Key] = c.Value
			case KindDelete, KindExpire:
				delete(mirror, c.Key)
			case KindOverflow, KindClear:
				overflows++
				mirror = collect(mixed)
				delete(mirror, sentinel)
				if mixed.Has(sentinel) {
					select {
					case again <- struct{}{}:
					default:
					}
				}
			}
		}
		mirrorDone <- nil
	}()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range iters {
				ctrs.Compute(i%counters, func(old int, _ bool) (int, Op) { return old + 1, OpUpdate })
				for k := i % counters; ; {
					old, _ := cas.Get(k)
					if CompareAndSwap(cas, k, old, old+1) {
						break
					}
					if _, ok := cas.Get(k); !ok {
						cas.Compute(k, func(old int, _ bool) (int, Op) { return old + 1, OpUpdate })
						break
					}
				}
				k := fmt.Sprint(r.IntN(keys))
				switch r.IntN(7) {
				case 0:
					mixed.Set(k, i)
				case 1:
					mixed.SetTTL(k, i, time.Hour) // never expires during the test
				case 2:
					mixed.Delete(k)
				case 3:
					mixed.Compute(k, func(old int, loaded bool) (int, Op) {
						if loaded && old%2 == 0 {
							return 0, OpDelete
						}
						return old + 1, OpUpdate
					})
				case 4:
					mixed.Range(func(string, int) bool { return true })
				case 5:
					_ = mixed.Len()
				case 6:
					mixed.ComputeTTL(k, time.Hour, func(old int, _ bool) (int, Op) { return old + 1, OpUpdate })
				}
			}
		})
	}
	wg.Wait()
	mixed.Set(sentinel, 1)
	var mirror map[string]int
	for received := false; !received; {
		select {
		case <-again:
			mixed.Set(sentinel, 1)
		case mirror = <-mirrorDone:
			received = true
		}
	}
	if mirror == nil {
		t.Fatal("watch channel closed before the sentinel arrived")
	}
	mixed.Delete(sentinel)

	sum := func(b *Bucket[int, int]) int {
		n := 0
		b.Range(func(_, v int) bool { n += v; return true })
		return n
	}
	if got, want := sum(ctrs), workers*iters; got != want {
		t.Errorf("Compute counters sum to %d, want %d", got, want)
	}
	if got, want := sum(cas), workers*iters; got != want {
		t.Errorf("CompareAndSwap counters sum to %d, want %d", got, want)
	}
	var withTTL int64
	mixed.m.Range(func(_ string, e entry[int]) bool {
		if e.exp != 0 {
			withTTL++
		}
		return true
	})
	if got := mixed.ttlLive.Load(); got != withTTL {
		t.Errorf("ttlLive = %d, but %d entries carry a deadline", got, withTTL)
	}
	if want := collect(mixed); !maps.Equal(mirror, want) {
		t.Errorf("watcher's copy diverged:\n got %v\nwant %v", mirror, want)
	}
}
