package store

import (
	"context"
	"slices"
	"strconv"
	"sync"
)

// Kind says what a [Change] reports.
type Kind uint8

const (
	// KindSet reports that Key now holds Value (Set, SetTTL, Compute with
	// OpUpdate, a successful CompareAndSwap).
	KindSet Kind = iota + 1
	// KindDelete reports that Key, which held Value, was deleted.
	KindDelete
	// KindExpire reports that Key's entry, which held Value, expired and was
	// reclaimed.
	KindExpire
	// KindClear reports that [Bucket.Clear] removed every entry. Key and
	// Value are zero.
	KindClear
	// KindOverflow reports that Dropped changes were not delivered because
	// the watcher's buffer was full. Key and Value are zero. The watcher
	// should re-read the bucket with Range.
	KindOverflow
)

// String returns the Kind's name, e.g. "KindSet".
func (k Kind) String() string {
	switch k {
	case KindSet:
		return "KindSet"
	case KindDelete:
		return "KindDelete"
	case KindExpire:
		return "KindExpire"
	case KindClear:
		return "KindClear"
	case KindOverflow:
		return "KindOverflow"
	default:
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
}

// Change is one change to a bucket, as delivered by [Bucket.Watch]. Value is
// shared with the bucket, not copied.
type Change[K comparable, V any] struct {
	// Kind says what happened; it is never zero.
	Kind Kind
	// Key is the key that changed; zero for KindClear and KindOverflow.
	Key K
	// Value is the new value (KindSet) or the removed one (KindDelete,
	// KindExpire); zero for KindClear and KindOverflow.
	Value V
	// Dropped is the number of changes lost before this one; set only for
	// KindOverflow.
	Dropped uint64
}

// watcher is one Watch subscription. Writers call send; the watcher's own
// goroutine (run) delivers overflow markers and closes ch.
type watcher[K comparable, V any] struct {
	ch   chan Change[K, V]
	kick chan struct{} // capacity 1: "dropped became non-zero"

	mu      sync.Mutex
	dropped uint64 // changes lost and not yet reported
	closed  bool   // ch is closed; send must not touch it
}

// send delivers c without blocking. While an overflow is pending, c is
// counted as dropped so that the overflow marker precedes every later change.
func (w *watcher[K, V]) send(c Change[K, V]) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.dropped == 0 {
		select {
		case w.ch <- c:
			return
		default:
		}
	}
	w.dropped++
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run delivers overflow markers until ctx ends or the store closes, then
// unregisters the watcher and closes its channel.
func (w *watcher[K, V]) run(ctx context.Context, b *Bucket[K, V]) {
	defer func() {
		b.removeWatcher(w)
		w.mu.Lock()
		w.closed = true
		close(w.ch)
		w.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.s.closing:
			return
		case <-w.kick:
		}
		for {
			w.mu.Lock()
			d := w.dropped
			w.mu.Unlock()
			if d == 0 {
				break
			}
			select {
			case w.ch <- Change[K, V]{Kind: KindOverflow, Dropped: d}:
			case <-ctx.Done():
				return
			case <-b.s.closing:
				return
			}
			w.mu.Lock()
			w.dropped -= d
			w.mu.Unlock()
		}
	}
}

// Watch returns a channel that receives every change to the bucket made after
// Watch returns, in the order the changes were applied to each key (changes
// to different keys from different goroutines have no defined order). The
// channel is closed when ctx ends or the store is closed; the watcher's
// goroutine has then exited.
//
// The channel holds [DefaultWatchBuffer] changes unless [WithWatchBuffer] says otherwise.
// Writers never block on a watcher. When the buffer is full, the change is
// dropped for this watcher and counted, and so is every later change until
// the watcher makes room; then it receives one or more [KindOverflow] changes
// whose Dropped fields add up to the number lost, followed by the changes
// made after that point. A watcher that keeps a copy of the bucket should
// discard it, re-read with [Bucket.Range] on KindOverflow and KindClear, and
// keep applying the changes that follow: Range is not a snapshot, and those
// later changes are what complete it. Following that protocol, the copy
// converges to the bucket (the package's stress test checks this under
// concurrent writers).
//
// A change is sent while its write is being applied, under the key's lock,
// which is what keeps each key's changes in order. A Get that races with the
// receipt of a change may therefore still see the previous value for a moment;
// Range and later writes to the key will not.
//
// Each watcher costs one goroutine and its channel. While a bucket has no
// watchers, notifying costs writers one atomic load. Watch returns ctx.Err()
// if ctx has already ended, [ErrClosed] after [Store.Close], and an error
// matching [ErrInvalidOption] for a bad option.
func (b *Bucket[K, V]) Watch(ctx context.Context, opts ...WatchOption) (<-chan Change[K, V], error) {
	cfg := defaultWatchConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &watcher[K, V]{
		ch:   make(chan Change[K, V], cfg.buffer),
		kick: make(chan struct{}, 1),
	}
	// Register before starting the goroutine, so that no change made after
	// Watch returns is missed; unregister if the store turned out closed.
	b.addWatcher(w)
	if !b.s.goWatcher(func() { w.run(ctx, b) }) {
		b.removeWatcher(w)
		return nil, ErrClosed
	}
	return w.ch, nil
}

// emit sends c to every watcher. With no watchers it is one atomic load.
func (b *Bucket[K, V]) emit(c Change[K, V]) {
	ws := b.watchers.Load()
	if ws == nil {
		return
	}
	for _, w := range *ws {
		w.send(c)
	}
}

func (b *Bucket[K, V]) addWatcher(w *watcher[K, V]) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	var next []*watcher[K, V]
	if cur := b.watchers.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, w)
	b.watchers.Store(&next)
}

func (b *Bucket[K, V]) removeWatcher(w *watcher[K, V]) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	cur := b.watchers.Load()
	if cur == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*cur), func(x *watcher[K, V]) bool { return x == w })
	if len(next) == 0 {
		b.watchers.Store(nil)
		return
	}
	b.watchers.Store(&next)
}
