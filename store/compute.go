package store

import (
	"strconv"
	"time"
)

// Op tells [Bucket.Compute] what to do with the value its function returns.
// It mirrors xsync's ComputeOp.
type Op uint8

const (
	// OpKeep leaves the entry as it was: present with its old value and
	// deadline, or absent. The returned value is ignored. It is the zero Op.
	OpKeep Op = iota
	// OpUpdate stores the returned value. An existing entry keeps its
	// deadline; a new entry (or one replacing an expired entry) has none,
	// unless it was made by [Bucket.ComputeTTL].
	OpUpdate
	// OpDelete removes the entry if it is present. The returned value is
	// ignored.
	OpDelete
)

// String returns the Op's name, e.g. "OpUpdate".
func (o Op) String() string {
	switch o {
	case OpKeep:
		return "OpKeep"
	case OpUpdate:
		return "OpUpdate"
	case OpDelete:
		return "OpDelete"
	default:
		return "Op(" + strconv.Itoa(int(o)) + ")"
	}
}

// Compute atomically reads, modifies and writes the entry for k. It calls fn
// exactly once with the current value and whether k holds an unexpired entry
// (an expired entry is reported as absent and reclaimed), then applies the
// returned [Op]. No other write to k can happen between the read and the
// write. It returns the value now stored for k and whether k is present.
//
// TTL: OpUpdate preserves an existing entry's deadline (so a counter with a
// TTL keeps counting down); use SetTTL or Set to change or clear it.
//
// Watchers receive a [KindSet] change for OpUpdate, a [KindDelete] change for
// OpDelete of a present entry, and nothing for OpKeep.
//
// fn runs while a lock on one hash-table bucket of the underlying map is
// held, so it must be short and must not call methods of the same Bucket:
// a write, or a Get that finds an expired entry, can deadlock. If fn panics,
// the entry is left as it was (an expired one is still reclaimed), the lock
// is released, and the panic is re-raised on the caller's goroutine. An Op
// other than the three defined ones is treated as OpKeep.
func (b *Bucket[K, V]) Compute(k K, fn func(old V, loaded bool) (V, Op)) (V, bool) {
	return b.compute(k, 0, fn)
}

// ComputeTTL is [Bucket.Compute] for entries that should expire: an entry
// that OpUpdate creates (k was absent or expired) expires once ttl has
// elapsed, while an existing entry keeps its deadline. That makes a
// fixed-window counter one call:
//
//	n, _ := b.ComputeTTL(user, time.Minute, func(old int, _ bool) (int, store.Op) {
//		return old + 1, store.OpUpdate
//	})
//
// A ttl <= 0 makes it exactly Compute.
func (b *Bucket[K, V]) ComputeTTL(k K, ttl time.Duration, fn func(old V, loaded bool) (V, Op)) (V, bool) {
	return b.compute(k, ttl, fn)
}

// compute implements Compute and ComputeTTL; ttl applies to created entries.
func (b *Bucket[K, V]) compute(k K, ttl time.Duration, fn func(old V, loaded bool) (V, Op)) (V, bool) {
	var (
		res      V
		present  bool
		panicked bool
		pval     any
	)
	b.m.Compute(k, func(old entry[V], loaded bool) (entry[V], bool) {
		if loaded && b.expired(old) {
			b.ttlLive.Add(-1)
			b.emit(Change[K, V]{Kind: KindExpire, Key: k, Value: old.v})
			loaded = false
			old = entry[V]{}
		}
		nv, op, p, ok := callCompute(fn, old.v, loaded)
		if !ok {
			panicked, pval = true, p
			op = OpKeep
		}
		switch {
		case op == OpUpdate:
			res, present = nv, true
			exp := old.exp
			if !loaded && ttl > 0 {
				exp = b.s.deadline(ttl)
				b.ttlLive.Add(1)
			}
			b.emit(Change[K, V]{Kind: KindSet, Key: k, Value: nv})
			return entry[V]{v: nv, exp: exp}, false
		case op == OpDelete && loaded:
			if old.exp != 0 {
				b.ttlLive.Add(-1)
			}
			b.emit(Change[K, V]{Kind: KindDelete, Key: k, Value: old.v})
			return old, true
		case loaded: // OpKeep on a present entry
			res, present = old.v, true
			return old, false
		default: // absent: nothing to keep or delete
			return old, true
		}
	})
	if panicked {
		panic(pval)
	}
	return res, present
}

// callCompute calls fn, turning a panic into ok == false so that the caller
// can release the map's lock before re-raising it.
func callCompute[V any](fn func(V, bool) (V, Op), old V, loaded bool) (nv V, op Op, p any, ok bool) {
	defer func() {
		if !ok {
			p = recover()
		}
	}()
	nv, op = fn(old, loaded)
	return nv, op, nil, true
}

// CompareAndSwap stores new for k if k holds an unexpired entry equal (==)
// to old, and reports whether it did. The entry keeps its deadline, and
// watchers receive a [KindSet] change. An absent or expired key never
// matches.
//
// It is a function rather than a method because it needs V to be
// comparable, which a Bucket does not require. If V is an interface type
// whose dynamic values are not comparable, == panics as it does in plain Go;
// the panic is re-raised on the caller's goroutine with the bucket unlocked.
func CompareAndSwap[K, V comparable](b *Bucket[K, V], k K, old, new V) bool {
	swapped := false
	b.Compute(k, func(cur V, loaded bool) (V, Op) {
		if !loaded || cur != old {
			return cur, OpKeep
		}
		swapped = true
		return new, OpUpdate
	})
	return swapped
}
