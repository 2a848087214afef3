package store

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestTTLExpiresOnRead(t *testing.T) {
	t.Parallel()
	// Every read must hide an expired entry even with no janitor running.
	reads := []struct {
		name    string
		present func(b *Bucket[string, int]) bool
	}{
		{"Get", func(b *Bucket[string, int]) bool { _, ok := b.Get("k"); return ok }},
		{"Has", func(b *Bucket[string, int]) bool { return b.Has("k") }},
		{"Len", func(b *Bucket[string, int]) bool { return b.Len() == 1 }},
		{"Range", func(b *Bucket[string, int]) bool { return len(collect(b)) == 1 }},
		{"Compute", func(b *Bucket[string, int]) bool {
			_, loaded := b.Compute("k", func(_ int, loaded bool) (int, Op) { return 0, OpKeep })
			return loaded
		}},
		{"CompareAndSwap", func(b *Bucket[string, int]) bool { return CompareAndSwap(b, "k", 7, 7) }},
		{"Delete", func(b *Bucket[string, int]) bool { return b.Delete("k") }},
	}
	for _, rd := range reads {
		t.Run(rd.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := New(WithSweepInterval(0))
				defer s.Close()
				b := mustOpen[string, int](t, s, "ttl")
				b.SetTTL("k", 7, 5*time.Second)

				time.Sleep(5*time.Second - time.Nanosecond)
				if !rd.present(b) {
					t.Fatalf("%s: entry gone before its TTL elapsed", rd.name)
				}
				if rd.name == "Delete" {
					return // it removed the entry
				}
				time.Sleep(time.Nanosecond)
				if rd.present(b) {
					t.Fatalf("%s: expired entry returned", rd.name)
				}
				if n := b.m.Size(); n != 0 && rd.name != "Len" {
					t.Errorf("%s left %d expired entries in the map, want them reclaimed", rd.name, n)
				}
			})
		})
	}
}

func TestTTLJanitorEmitsExpire(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := New(WithSweepInterval(time.Second))
		defer s.Close()
		b := mustOpen[string, int](t, s, "ttl")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, err := b.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b.SetTTL("short", 1, 2500*time.Millisecond)
		b.SetTTL("long", 2, time.Hour)
		b.Set("forever", 3)
		for range 3 {
			if c := <-ch; c.Kind != KindSet {
				t.Fatalf("got %v, want KindSet", c.Kind)
			}
		}

		// Nothing reads the bucket: only the janitor can reclaim "short",
		// on its third tick.
		time.Sleep(3 * time.Second)
		synctest.Wait()
		select {
		case c := <-ch:
			if c.Kind != KindExpire || c.Key != "short" || c.Value != 1 {
				t.Fatalf("got %+v, want Expire of short=1", c)
			}
		default:
			t.Fatal("janitor did not report the expired entry")
		}
		if n := b.m.Size(); n != 2 {
			t.Errorf("map holds %d entries after sweep, want 2", n)
		}
		if got := b.ttlLive.Load(); got != 1 {
			t.Errorf("ttlLive = %d, want 1 (long)", got)
		}
	})
}

func TestTTLUpdates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		write       func(b *Bucket[string, int]) // after SetTTL("k", 1, 10s)
		wantAfter10 bool                         // present once the original TTL elapsed
		wantTTLLive int64
	}{
		{"Compute preserves TTL", func(b *Bucket[string, int]) {
			b.Compute("k", func(old int, _ bool) (int, Op) { return old + 1, OpUpdate })
		}, false, 1},
		{"CompareAndSwap preserves TTL", func(b *Bucket[string, int]) { CompareAndSwap(b, "k", 1, 2) }, false, 1},
		{"Set clears TTL", func(b *Bucket[string, int]) { b.Set("k", 2) }, true, 0},
		{"SetTTL zero clears TTL", func(b *Bucket[string, int]) { b.SetTTL("k", 2, 0) }, true, 0},
		{"SetTTL negative clears TTL", func(b *Bucket[string, int]) { b.SetTTL("k", 2, -time.Second) }, true, 0},
		{"SetTTL extends", func(b *Bucket[string, int]) { b.SetTTL("k", 2, time.Minute) }, true, 1},
		{"Delete", func(b *Bucket[string, int]) { b.Delete("k") }, false, 0},
		{"Clear", func(b *Bucket[string, int]) { b.Clear() }, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := New(WithSweepInterval(0))
				defer s.Close()
				b := mustOpen[string, int](t, s, "ttl")
				b.SetTTL("k", 1, 10*time.Second)
				time.Sleep(5 * time.Second)
				tc.write(b)
				if got := b.ttlLive.Load(); got != tc.wantTTLLive {
					t.Errorf("ttlLive = %d, want %d", got, tc.wantTTLLive)
				}
				time.Sleep(5 * time.Second)
				if got := b.Has("k"); got != tc.wantAfter10 {
					t.Errorf("Has after original TTL = %v, want %v", got, tc.wantAfter10)
				}
			})
		})
	}
}

func TestTTLExpiredReplacedReportsExpire(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := New(WithSweepInterval(0))
		defer s.Close()
		b := mustOpen[string, int](t, s, "ttl")
		b.SetTTL("k", 1, time.Second)
		ch, err := b.Watch(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		v, ok := b.Compute("k", func(old int, loaded bool) (int, Op) {
			if loaded {
				t.Error("Compute saw an expired entry as loaded")
			}
			return old + 10, OpUpdate
		})
		if !ok || v != 10 {
			t.Fatalf("Compute = (%d, %v), want (10, true)", v, ok)
		}
		want := []Change[string, int]{
			{Kind: KindExpire, Key: "k", Value: 1},
			{Kind: KindSet, Key: "k", Value: 10},
		}
		for _, w := range want {
			if c := <-ch; c != w {
				t.Fatalf("got %+v, want %+v", c, w)
			}
		}
		// The new entry carries no deadline.
		time.Sleep(time.Hour)
		if !b.Has("k") {
			t.Error("entry created over an expired one inherited its deadline")
		}
		s.Close()
		if _, open := <-ch; open {
			t.Error("watch channel still open after Close")
		}
	})
}

func TestComputeTTL(t *testing.T) {
	t.Parallel()
	incr := func(old int, _ bool) (int, Op) { return old + 1, OpUpdate }
	tests := []struct {
		name     string
		ttl      time.Duration
		preset   func(b *Bucket[string, int]) // before the first ComputeTTL, at t=0
		wantAt30 int                          // value after 3 increments at 0s, 10s, 20s, read at 30s
		wantAt90 bool                         // present at 90s
	}{
		{"creates with TTL", time.Minute, nil, 3, false},
		{"keeps existing deadline", time.Hour, func(b *Bucket[string, int]) { b.SetTTL("k", 0, time.Minute) }, 3, false},
		{"existing without TTL stays", time.Minute, func(b *Bucket[string, int]) { b.Set("k", 0) }, 3, true},
		{"zero ttl is Compute", 0, nil, 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := New(WithSweepInterval(0))
				defer s.Close()
				b := mustOpen[string, int](t, s, "ttl")
				if tc.preset != nil {
					tc.preset(b)
				}
				for range 3 {
					b.ComputeTTL("k", tc.ttl, incr)
					time.Sleep(10 * time.Second)
				}
				if v, _ := b.Get("k"); v != tc.wantAt30 {
					t.Errorf("value at 30s = %d, want %d", v, tc.wantAt30)
				}
				time.Sleep(time.Minute)
				if got := b.Has("k"); got != tc.wantAt90 {
					t.Errorf("present at 90s = %v, want %v", got, tc.wantAt90)
				}
				// A new window starts after expiry.
				if v, _ := b.ComputeTTL("k", tc.ttl, incr); !tc.wantAt90 && v != 1 {
					t.Errorf("first count of a new window = %d, want 1", v)
				}
			})
		})
	}
}
