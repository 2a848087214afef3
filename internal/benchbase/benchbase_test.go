package benchbase

import (
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestContenders checks that both store baselines count exactly under
// concurrent increments and read back what was set.
func TestContenders(t *testing.T) {
	t.Parallel()
	type kv interface {
		Get(int) (int, bool)
		Set(int, int)
		Incr(int)
	}
	for name, c := range map[string]kv{"SyncMap": &SyncMap{}, "RWMap": NewRWMap()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, ok := c.Get(1); ok {
				t.Fatal("empty map has key 1")
			}
			c.Set(2, 0)
			if v, ok := c.Get(2); !ok || v != 0 {
				t.Fatalf("Get(2) = %d, %v; want 0, true", v, ok)
			}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 500 {
						c.Incr(1)
					}
				})
			}
			wg.Wait()
			if v, _ := c.Get(1); v != 4000 {
				t.Fatalf("after 4000 increments Get(1) = %d", v)
			}
		})
	}
}

// TestBareRoundTrip runs the benchmark once, so that its goroutine is
// checked for leaks by TestMain.
func TestBareRoundTrip(t *testing.T) {
	t.Parallel()
	if r := testing.Benchmark(BareRoundTrip); r.N == 0 {
		t.Fatal("BareRoundTrip did not run")
	}
}
