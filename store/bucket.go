package store

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v3"
)

// entry is what a bucket stores per key: the caller's value and its deadline.
type entry[V any] struct {
	v   V
	exp int64 // deadline in Store.now units; 0 means it never expires
}

// Bucket is a named map from K to V inside a [Store], built on
// [xsync.MapOf]. Get it from [Open]; the zero value is not usable, and a
// Bucket must not be copied (share the *Bucket).
//
// All methods are safe for concurrent use. Reads (Get, Has) are lock-free;
// writes lock one hash-table bucket of the underlying map for the duration of
// the write (for Compute, of the caller's function).
//
// Values are shared, not copied: a pointer stored is the same pointer read
// back by every reader. Zero values are valid values.
type Bucket[K comparable, V any] struct {
	s    *Store
	name string
	m    *xsync.MapOf[K, entry[V]]

	// ttlLive counts the entries in m that carry a deadline, expired or not.
	// It is kept exactly by the write callbacks, which run under the map's
	// per-key lock. While it is zero, Len is O(1) and sweeps skip the bucket.
	ttlLive atomic.Int64

	wmu      sync.Mutex                       // serialises changes to watchers
	watchers atomic.Pointer[[]*watcher[K, V]] // copy on write; nil when none
}

func newBucket[K comparable, V any](s *Store, name string) *Bucket[K, V] {
	return &Bucket[K, V]{s: s, name: name, m: xsync.NewMapOf[K, entry[V]]()}
}

// Name returns the name the bucket was opened with.
func (b *Bucket[K, V]) Name() string { return b.name }

// expired reports whether e has a deadline that has passed. It reads the
// clock only for entries that have a deadline.
func (b *Bucket[K, V]) expired(e entry[V]) bool {
	return e.exp != 0 && b.s.now() >= e.exp
}

// Get returns the value stored for k and true, or the zero value and false if
// k is absent or its entry has expired. It is lock-free unless it finds an
// expired entry, which it reclaims.
func (b *Bucket[K, V]) Get(k K) (V, bool) {
	e, ok := b.m.Load(k)
	if ok && b.expired(e) {
		b.reap(k)
		ok = false
	}
	if !ok {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Has reports whether k holds an unexpired entry. It costs the same as Get.
func (b *Bucket[K, V]) Has(k K) bool {
	_, ok := b.Get(k)
	return ok
}

// Set stores v for k with no expiry, replacing any value and clearing any TTL
// the key had. Watchers receive a [KindSet] change.
func (b *Bucket[K, V]) Set(k K, v V) {
	b.put(k, v, 0)
}

// SetTTL stores v for k so that it expires once ttl has elapsed, replacing any
// value and deadline the key had. Watchers receive a [KindSet] change now and
// a [KindExpire] change when the entry is reclaimed. A ttl <= 0 stores v with
// no expiry, exactly like Set.
func (b *Bucket[K, V]) SetTTL(k K, v V, ttl time.Duration) {
	b.put(k, v, b.s.deadline(ttl))
}

func (b *Bucket[K, V]) put(k K, v V, exp int64) {
	b.m.Compute(k, func(old entry[V], loaded bool) (entry[V], bool) {
		if loaded {
			if b.expired(old) {
				b.emit(Change[K, V]{Kind: KindExpire, Key: k, Value: old.v})
			}
			if old.exp != 0 {
				b.ttlLive.Add(-1)
			}
		}
		if exp != 0 {
			b.ttlLive.Add(1)
		}
		b.emit(Change[K, V]{Kind: KindSet, Key: k, Value: v})
		return entry[V]{v: v, exp: exp}, false
	})
}

// Delete removes k and reports whether an unexpired entry was removed.
// Watchers receive a [KindDelete] change for it, or a [KindExpire] change if
// the entry had already expired.
func (b *Bucket[K, V]) Delete(k K) (deleted bool) {
	b.m.Compute(k, func(old entry[V], loaded bool) (entry[V], bool) {
		if !loaded {
			return old, true
		}
		if old.exp != 0 {
			b.ttlLive.Add(-1)
		}
		if b.expired(old) {
			b.emit(Change[K, V]{Kind: KindExpire, Key: k, Value: old.v})
			return old, true
		}
		deleted = true
		b.emit(Change[K, V]{Kind: KindDelete, Key: k, Value: old.v})
		return old, true
	})
	return deleted
}

// reap deletes k if its entry has expired, reporting a [KindExpire] change.
// An entry rewritten since the caller saw it expire is left alone.
func (b *Bucket[K, V]) reap(k K) {
	b.m.Compute(k, func(old entry[V], loaded bool) (entry[V], bool) {
		if !loaded {
			return old, true
		}
		if !b.expired(old) {
			return old, false
		}
		b.ttlLive.Add(-1)
		b.emit(Change[K, V]{Kind: KindExpire, Key: k, Value: old.v})
		return old, true
	})
}

// sweep reclaims every expired entry. It implements bucketHandle.
func (b *Bucket[K, V]) sweep() {
	if b.ttlLive.Load() == 0 {
		return
	}
	b.m.Range(func(k K, e entry[V]) bool {
		if b.expired(e) {
			b.reap(k)
		}
		return true
	})
}

// Range calls f for each unexpired entry until f returns false. Like
// [xsync.MapOf.Range], it is not a snapshot: an entry written or deleted while
// Range runs may or may not be seen. f may read and write the bucket, and
// runs with no lock held. Range reclaims expired entries it passes.
func (b *Bucket[K, V]) Range(f func(k K, v V) bool) {
	b.m.Range(func(k K, e entry[V]) bool {
		if b.expired(e) {
			b.reap(k)
			return true
		}
		return f(k, e.v)
	})
}

// Len returns the number of unexpired entries. It is O(1) while the bucket
// holds no TTL entries, and O(n) otherwise, because each deadline must be
// checked. Under concurrent writes the result is approximate.
func (b *Bucket[K, V]) Len() int {
	if b.ttlLive.Load() == 0 {
		return b.m.Size()
	}
	n := 0
	b.m.Range(func(_ K, e entry[V]) bool {
		if !b.expired(e) {
			n++
		}
		return true
	})
	return n
}

// Clear deletes every entry present when it starts, then sends watchers one
// [KindClear] change (no per-key changes). Writes that race with Clear may or
// may not survive it; a watcher that keeps a copy of the bucket should treat
// KindClear like [KindOverflow] and re-read with Range. Clear costs O(n).
func (b *Bucket[K, V]) Clear() {
	b.m.Range(func(k K, _ entry[V]) bool {
		b.m.Compute(k, func(old entry[V], loaded bool) (entry[V], bool) {
			if loaded && old.exp != 0 {
				b.ttlLive.Add(-1)
			}
			return old, true
		})
		return true
	})
	b.emit(Change[K, V]{Kind: KindClear})
}
