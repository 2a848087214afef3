package store

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestStore returns a store without a janitor, closed when the test ends.
func newTestStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s := New(append([]Option{WithSweepInterval(0)}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

// mustOpen opens a bucket or fails the test.
func mustOpen[K comparable, V any](t *testing.T, s *Store, name string) *Bucket[K, V] {
	t.Helper()
	b, err := Open[K, V](s, name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	return b
}
