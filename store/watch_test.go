package store

import (
	"context"
	"errors"
	"testing"
)

func TestWatchDeliversChangesInOrder(t *testing.T) {
	t.Parallel()
	b := mustOpen[string, int](t, newTestStore(t), "w")
	b.Set("before", 0) // made before Watch: not delivered
	ch, err := b.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b.Set("a", 1)
	b.Set("a", 0)
	b.Compute("a", func(old int, _ bool) (int, Op) { return old + 5, OpUpdate })
	b.Compute("a", func(int, bool) (int, Op) { return 0, OpKeep }) // no change
	CompareAndSwap(b, "a", 5, 6)
	CompareAndSwap(b, "a", 5, 7) // fails: no change
	b.Delete("a")
	b.Delete("a") // absent: no change
	b.Set("b", 2)
	b.Compute("b", func(int, bool) (int, Op) { return 0, OpDelete })
	b.Clear()

	want := []Change[string, int]{
		{Kind: KindSet, Key: "a", Value: 1},
		{Kind: KindSet, Key: "a", Value: 0},
		{Kind: KindSet, Key: "a", Value: 5},
		{Kind: KindSet, Key: "a", Value: 6},
		{Kind: KindDelete, Key: "a", Value: 6},
		{Kind: KindSet, Key: "b", Value: 2},
		{Kind: KindDelete, Key: "b", Value: 2},
		{Kind: KindClear},
	}
	for i, w := range want {
		if c := <-ch; c != w {
			t.Fatalf("change %d = %+v, want %+v", i, c, w)
		}
	}
	select {
	case c := <-ch:
		t.Fatalf("unexpected extra change %+v", c)
	default:
	}
}

func TestWatchSlowWatcherOverflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		buffer  int
		writes  int
		wantSet int // changes delivered before the overflow
	}{
		{"buffer 1", 1, 10, 1},
		{"buffer 4", 4, 100, 4},
		{"exactly full", 4, 4, 4},
		{"default buffer", 0, DefaultWatchBuffer + 50, DefaultWatchBuffer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := mustOpen[int, int](t, newTestStore(t), "w")
			var opts []WatchOption
			if tc.buffer > 0 {
				opts = append(opts, WithWatchBuffer(tc.buffer))
			}
			ch, err := b.Watch(t.Context(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			// A second, idle watcher with a large buffer must see everything.
			full, err := b.Watch(t.Context(), WithWatchBuffer(tc.writes+1))
			if err != nil {
				t.Fatal(err)
			}
			// Nobody reads ch: the writes must still all complete.
			for i := range tc.writes {
				b.Set(i, i)
			}
			for i := range tc.wantSet {
				if c := <-ch; c.Kind != KindSet || c.Key != i {
					t.Fatalf("change %d = %+v, want Set of %d", i, c, i)
				}
			}
			wantDropped := uint64(tc.writes - tc.wantSet)
			var dropped uint64
			for dropped < wantDropped {
				c := <-ch
				if c.Kind != KindOverflow || c.Dropped == 0 {
					t.Fatalf("got %+v, want KindOverflow", c)
				}
				dropped += c.Dropped
			}
			if dropped != wantDropped {
				t.Fatalf("overflow reported %d dropped, want %d", dropped, wantDropped)
			}
			// Once the overflow is reported, later changes flow again.
			b.Set(-1, -1)
			if c := <-ch; c.Kind != KindSet || c.Key != -1 {
				t.Fatalf("after overflow got %+v, want Set of -1", c)
			}
			for i := range tc.writes {
				if c := <-full; c.Key != i {
					t.Fatalf("large-buffer watcher change %d = %+v", i, c)
				}
			}
		})
	}
}

func TestWatchClosesChannel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, s *Store)
	}{
		{"ctx cancelled", func(cancel context.CancelFunc, _ *Store) { cancel() }},
		{"store closed", func(_ context.CancelFunc, s *Store) { s.Close() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t)
			b := mustOpen[int, int](t, s, "w")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ch, err := b.Watch(ctx, WithWatchBuffer(1))
			if err != nil {
				t.Fatal(err)
			}
			// Leave the watcher mid-overflow: its goroutine is blocked
			// delivering the marker when it is stopped.
			b.Set(1, 1)
			b.Set(2, 2)
			tc.stop(cancel, s)
			for range ch { // drains, then ends when the channel closes
			}
			// Writers keep working with a closed watcher.
			b.Set(3, 3)
			// The stopped watcher is gone from the bucket. Its removal
			// happens before the channel closes, so this is not racy.
			if b.watchers.Load() != nil {
				t.Error("stopped watcher still registered")
			}
		})
	}
}

func TestWatchErrors(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts []WatchOption
		want error
	}{
		{"zero buffer", context.Background(), []WatchOption{WithWatchBuffer(0)}, ErrInvalidOption},
		{"negative buffer", context.Background(), []WatchOption{WithWatchBuffer(-3)}, ErrInvalidOption},
		{"ctx done", cancelled, nil, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := mustOpen[int, int](t, newTestStore(t), "w")
			ch, err := b.Watch(tc.ctx, tc.opts...)
			if !errors.Is(err, tc.want) || ch != nil {
				t.Fatalf("Watch = (%v, %v), want (nil, %v)", ch, err, tc.want)
			}
			if b.watchers.Load() != nil {
				t.Error("failed Watch left a watcher registered")
			}
		})
	}
}

func TestWatchChurn(t *testing.T) {
	t.Parallel()
	b := mustOpen[int, int](t, newTestStore(t), "w")
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b.Set(i%32, i)
			b.Delete((i + 7) % 32)
		}
	}()
	const watchers, rounds = 4, 50
	done := make(chan struct{}, watchers)
	for range watchers {
		go func() {
			defer func() { done <- struct{}{} }()
			for range rounds {
				ctx, cancel := context.WithCancel(t.Context())
				ch, err := b.Watch(ctx, WithWatchBuffer(2))
				if err != nil {
					t.Error(err)
					cancel()
					return
				}
				<-ch // at least one change (possibly an overflow) arrives
				cancel()
				for range ch {
				}
			}
		}()
	}
	for range watchers {
		<-done
	}
	close(stop)
	<-writerDone
	if b.watchers.Load() != nil {
		t.Error("watchers left registered after every ctx ended")
	}
}
