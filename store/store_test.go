package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestOpenSameBucket(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	a := mustOpen[string, int](t, s, "x")
	b := mustOpen[string, int](t, s, "x")
	if a != b {
		t.Fatal("Open with the same name and types returned different buckets")
	}
	a.Set("k", 1)
	if v, ok := b.Get("k"); !ok || v != 1 {
		t.Fatalf("Get through second handle = (%d, %v), want (1, true)", v, ok)
	}
	if a.Name() != "x" {
		t.Errorf("Name = %q, want x", a.Name())
	}
	other := mustOpen[string, int](t, s, "y")
	if other == a {
		t.Error("different names share a bucket")
	}
}

func TestOpenTypeMismatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		open func(s *Store) error
		want reflect.Type
	}{
		{"other value type", func(s *Store) error { _, err := Open[string, string](s, "x"); return err },
			reflect.TypeFor[*Bucket[string, string]]()},
		{"other key type", func(s *Store) error { _, err := Open[int, int](s, "x"); return err },
			reflect.TypeFor[*Bucket[int, int]]()},
		{"pointer value type", func(s *Store) error { _, err := Open[string, *int](s, "x"); return err },
			reflect.TypeFor[*Bucket[string, *int]]()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t)
			mustOpen[string, int](t, s, "x")
			err := tc.open(s)
			if !errors.Is(err, ErrTypeMismatch) {
				t.Fatalf("err = %v, want ErrTypeMismatch", err)
			}
			var tm *TypeMismatchError
			if !errors.As(err, &tm) {
				t.Fatalf("err = %T, want *TypeMismatchError", err)
			}
			if tm.Name != "x" || tm.Want != tc.want || tm.Have != reflect.TypeFor[*Bucket[string, int]]() {
				t.Errorf("TypeMismatchError = %+v", tm)
			}
			const want = `store: bucket "x" is *store.Bucket[string,int], not `
			if msg := err.Error(); len(msg) < len(want) || msg[:len(want)] != want {
				t.Errorf("Error() = %q, want prefix %q", msg, want)
			}
		})
	}
}

func TestClosedStore(t *testing.T) {
	t.Parallel()
	s := New() // with its janitor, to prove Close stops it
	b := mustOpen[string, int](t, s, "x")
	s.Close()
	s.Close() // idempotent

	if _, err := Open[string, int](s, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after Close: err = %v, want ErrClosed", err)
	}
	if _, err := b.Watch(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Watch after Close: err = %v, want ErrClosed", err)
	}
	if b.watchers.Load() != nil {
		t.Error("a refused watcher stayed registered")
	}
	// Data stays usable.
	b.Set("k", 1)
	if v, ok := b.Get("k"); !ok || v != 1 {
		t.Errorf("Get after Close = (%d, %v), want (1, true)", v, ok)
	}
}

func TestOpenConcurrent(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	const n = 16
	got := make(chan *Bucket[int, string], n)
	for range n {
		go func() {
			b, err := Open[int, string](s, "shared")
			if err != nil {
				t.Error(err)
			}
			got <- b
		}()
	}
	first := <-got
	for range n - 1 {
		if b := <-got; b != first {
			t.Fatal("concurrent Open calls created different buckets")
		}
	}
}

func TestCloseRacesWithWatch(t *testing.T) {
	t.Parallel()
	s := New(WithSweepInterval(0))
	b := mustOpen[int, int](t, s, "w")
	const n = 8
	results := make(chan error, n)
	for range n {
		go func() {
			ch, err := b.Watch(context.Background())
			if err == nil {
				for range ch { // closed by Close
				}
			}
			results <- err
		}()
	}
	s.Close()
	for range n {
		if err := <-results; err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Watch racing Close: err = %v, want nil or ErrClosed", err)
		}
	}
	if b.watchers.Load() != nil {
		t.Error("watchers left registered after Close")
	}
}
