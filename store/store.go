package store

import (
	"reflect"
	"sync"
	"time"

	"github.com/puzpuzpuz/xsync/v3"
)

// Store is a set of named, typed buckets. Make one with [New]; the zero value
// is not usable. A Store must not be copied; share the *Store. All methods,
// and [Open], are safe for concurrent use.
//
// New starts one janitor goroutine (unless [WithSweepInterval] disables it)
// and each [Bucket.Watch] starts one goroutine per watcher. [Store.Close]
// stops all of them and waits for them to exit.
type Store struct {
	cfg     config
	epoch   time.Time // origin of entry deadlines; carries a monotonic reading
	buckets *xsync.MapOf[string, bucketHandle]

	mu      sync.Mutex // guards closed and wg.Go against Close
	closed  bool
	closing chan struct{} // closed by Close; stops the janitor and watchers
	wg      sync.WaitGroup
	once    sync.Once
}

// bucketHandle is what the store needs from a bucket of any type.
type bucketHandle interface {
	// sweep deletes every expired entry, reporting each to watchers.
	sweep()
}

// New returns an empty, open Store and starts its janitor.
func New(opts ...Option) *Store {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Store{
		cfg:     cfg,
		epoch:   time.Now(),
		buckets: xsync.NewMapOf[string, bucketHandle](),
		closing: make(chan struct{}),
	}
	if cfg.sweepInterval > 0 {
		s.wg.Go(s.janitor)
	}
	return s
}

// Close stops the janitor, closes every watcher's channel and waits for the
// store's goroutines to exit. It is idempotent and safe for concurrent use.
//
// Buckets stay readable and writable after Close: their data lives in memory
// and is not discarded. Expired entries are still never returned (they are
// reclaimed lazily), but [Open] and [Bucket.Watch] return [ErrClosed].
func (s *Store) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closing)
		s.mu.Unlock()
	})
	s.wg.Wait()
}

// Open returns the bucket named name with key type K and value type V,
// creating it empty on first use. Every call with the same name and types
// returns the same *Bucket, so callers need not keep it: calling Open on a hot
// path costs one lock-free map lookup and a type assertion.
//
// If the name is already in use with other types, Open returns a
// [*TypeMismatchError] (matching [ErrTypeMismatch]). After [Store.Close] it
// returns [ErrClosed].
func Open[K comparable, V any](s *Store, name string) (*Bucket[K, V], error) {
	select {
	case <-s.closing:
		return nil, ErrClosed
	default:
	}
	h, ok := s.buckets.Load(name)
	if !ok {
		h, _ = s.buckets.LoadOrCompute(name, func() bucketHandle {
			return newBucket[K, V](s, name)
		})
	}
	b, ok := h.(*Bucket[K, V])
	if !ok {
		return nil, &TypeMismatchError{
			Name: name,
			Have: reflect.TypeOf(h),
			Want: reflect.TypeFor[*Bucket[K, V]](),
		}
	}
	return b, nil
}

// now returns the current time as nanoseconds since s.epoch, plus one so that
// a deadline computed from it is never zero (zero means "no deadline").
func (s *Store) now() int64 {
	return int64(time.Since(s.epoch)) + 1
}

// deadline returns the deadline of an entry written now with the given ttl,
// or 0 (never) when ttl <= 0.
func (s *Store) deadline(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return s.now() + int64(ttl)
}

// goWatcher runs fn on a goroutine owned by the store, unless the store is
// closed, in which case it reports false and runs nothing.
func (s *Store) goWatcher(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Go(fn)
	return true
}

// janitor sweeps every bucket once per sweep interval until Close.
func (s *Store) janitor() {
	t := time.NewTicker(s.cfg.sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			s.buckets.Range(func(_ string, h bucketHandle) bool {
				h.sweep()
				return true
			})
		}
	}
}
