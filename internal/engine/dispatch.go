package engine

import (
	"context"
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
)

// incarnation is one worker value and the listeners it registered. A
// worker-only reload replaces the incarnation while the client stays.
type incarnation struct {
	worker    Worker
	ctx       context.Context
	cancel    context.CancelFunc
	att       *attempt
	listeners atomic.Pointer[[]bot.EventListener] // copy-on-write
	dead      atomic.Bool                         // crashed or retired: gets no more events
	shutOnce  sync.Once
}

// newIncarnation makes an incarnation whose context carries ctx's values
// but ends only when the incarnation ends (attempt.end, a swap, teardown):
// never before dispatch to it has stopped.
func newIncarnation(ctx context.Context, a *attempt, w Worker) *incarnation {
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	inc := &incarnation{worker: w, ctx: ictx, cancel: cancel, att: a}
	inc.listeners.Store(&[]bot.EventListener{})
	return inc
}

// add appends listeners (copy-on-write, safe with concurrent dispatch).
func (inc *incarnation) add(ls []bot.EventListener) {
	for {
		old := inc.listeners.Load()
		next := make([]bot.EventListener, 0, len(*old)+len(ls))
		next = append(append(next, *old...), ls...)
		if inc.listeners.CompareAndSwap(old, &next) {
			return
		}
	}
}

// remove deletes listeners by identity.
func (inc *incarnation) remove(ls []bot.EventListener) {
	for {
		old := inc.listeners.Load()
		next := make([]bot.EventListener, 0, len(*old))
	outer:
		for _, l := range *old {
			for _, r := range ls {
				if l == r {
					continue outer
				}
			}
			next = append(next, l)
		}
		if inc.listeners.CompareAndSwap(old, &next) {
			return
		}
	}
}

// call runs one listener, turning a panic into a crash of the attempt. It
// reports false after a panic.
func (inc *incarnation) call(l bot.EventListener, e bot.Event) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			inc.dead.Store(true)
			inc.att.crash(&PanicError{Value: r, Stack: debug.Stack()})
			ok = false
		}
	}()
	l.OnEvent(e)
	return true
}

// forwarder is the one permanent listener the cluster adds to every disgo
// client it builds. It forwards each event to the listeners of the current
// incarnation, so a worker-only reload swaps listeners without touching the
// client. Unlike disgo's DispatchEvent, which logs and swallows a listener
// panic, it turns the panic into a crash of the cluster.
type forwarder struct {
	cur atomic.Pointer[incarnation]
}

var _ bot.EventListener = (*forwarder)(nil)

// OnEvent implements bot.EventListener. An event of another attempt's
// client (an abandoned executor finishing late) is dropped: it never
// reaches a newer worker.
func (f *forwarder) OnEvent(e bot.Event) {
	inc := f.cur.Load()
	if inc == nil || inc.dead.Load() || e.Client() != inc.att.client {
		return
	}
	if x := inc.att.exec; x.maint.mode != maintOff {
		x.divert(inc, e)
		return
	}
	if o := inc.att.exec.handlerTime; o != nil {
		f.deliverTimed(inc, e, o)
		return
	}
	f.deliver(inc, e)
}

// deliver hands e to inc's listeners in order. It reports false after a
// listener panicked (the attempt crashes).
func (f *forwarder) deliver(inc *incarnation, e bot.Event) bool {
	for _, l := range *inc.listeners.Load() {
		if !inc.call(l, e) {
			return false
		}
	}
	return true
}

// item is one entry of the executor's queue: a dispatch, or a worker swap.
type item struct {
	g    gateway.Gateway
	t    gateway.EventType
	seq  int
	ev   gateway.EventData
	swap chan error   // non-nil: run fn (nil: a worker-only reload), reply here (cap 1)
	fn   func() error // with swap: what to run on the executor goroutine
}

// batch is what one shard's read loop hands over at once: the events of
// every frame it had read (at most 64), or one swap, and the size of their
// data (see byteBudget). Batches are pooled.
type batch struct {
	items []item
	size  int64
}

var batchPool = sync.Pool{New: func() any { return &batch{items: make([]item, 0, 64)} }}

func newBatch() *batch { return batchPool.Get().(*batch) }

// release drops the batch's references and pools it. b must not be used
// afterwards.
func (b *batch) release() {
	clear(b.items)
	b.items, b.size = b.items[:0], 0
	batchPool.Put(b)
}

// executor is the one goroutine of an attempt that hands dispatches to the
// disgo client (and so to the worker's listeners). The shards' read loops
// put batches of decoded events into its bounded queue (tap); when the
// queue is full they wait (backpressure), unless the executor was
// abandoned. One hand-over, and at most one wake-up of the executor, serves
// a whole batch. The data the queued batches hold is bounded too (see
// byteBudget): decoded GUILD_CREATEs wait in the kernel's socket buffers,
// not in the heap.
//
// Abandon stops the executor from taking more events. The events it never
// took are not counted as delivered, so a resume from the delivered
// sequence numbers gets them replayed by Discord. A listener that blocks
// forever only holds the executor goroutine, never a shard or a restart.
type executor struct {
	ch        chan *batch
	budget    *byteBudget
	abandoned chan struct{}
	stopped   atomic.Bool  // abandoned, read before every item
	queued    atomic.Int64 // events handed over and not taken yet (the watchdog's "waiting")
	abOnce    sync.Once
	done      chan struct{}
	delivered map[int]*atomic.Int64 // per shard: last seq taken; read-only map
	// sessions is, per shard, the session of the last READY the executor
	// took (at the start: the session the attempt resumes); a read-only
	// map. delivered counts within that session only: a shard that
	// identified again during the attempt has a newer session, whose
	// READY, if the executor never took it, leaves nothing of that
	// session delivered (see attempt.session).
	sessions map[int]*atomic.Pointer[string]
	handle   func(it item) // runs on the executor goroutine
	swap     func() error  // worker-only reload, on the executor goroutine
	onPanic  func(r any, stack []byte)
	maint    maintenance // maintenance mode: the hold buffer (see maintenance.go)
	// handlerTime measures the listeners' time per live event (nil: not
	// measured; see WithHandlerObserver).
	handlerTime Observer

	// progress is written for every event by the executor, while the
	// shards' read loops read ch and abandoned for every batch: it gets
	// its own cache line, so those reads do not miss per event.
	_        [128]byte
	progress atomic.Uint64
	_        [128]byte
}

// newExecutor makes an executor whose queue holds size batches, and at
// most about maxBytes of their data (0: no bound). start holds the
// sessions the attempt's shards resume, each at its delivered seq.
func newExecutor(size int, maxBytes int64, shardIDs []int, start map[int]shard.State) *executor {
	e := &executor{
		ch:        make(chan *batch, size),
		budget:    newByteBudget(maxBytes),
		abandoned: make(chan struct{}),
		done:      make(chan struct{}),
		delivered: make(map[int]*atomic.Int64, len(shardIDs)),
		sessions:  make(map[int]*atomic.Pointer[string], len(shardIDs)),
	}
	e.maint.on, e.maint.dropsTotal = new(atomic.Bool), new(atomic.Int64)
	e.maint.size = DefaultMaintenanceBuffer
	for _, id := range shardIDs {
		v := new(atomic.Int64)
		v.Store(int64(start[id].Seq))
		e.delivered[id] = v
		sess, resumed := new(atomic.Pointer[string]), start[id].SessionID
		sess.Store(&resumed)
		e.sessions[id] = sess
	}
	return e
}

// tap is the shards' batch handler (shard.WithBatchHandler). It runs on a
// shard's read loop and blocks while the queue is full or its byte budget
// spent, unless abandoned.
//
// The common case, a queue with room, takes a non-blocking send, which is
// cheaper than a two-way select. A batch that lands in the queue after
// abandon is never taken and so never counted as delivered.
func (e *executor) tap(s *shard.Shard, ds []shard.Dispatch) {
	b := newBatch()
	for _, d := range ds {
		b.items = append(b.items, item{g: s, t: d.Type, seq: d.Seq, ev: d.Data})
		b.size += int64(d.Size)
	}
	// Counted before the waits: events that wait for the budget, like
	// those that wait for a slot, are waiting for the executor (the
	// watchdog's measure).
	n := int64(len(b.items))
	e.queued.Add(n)
	if !e.budget.acquire(b.size, e.abandoned) {
		e.queued.Add(-n)
		b.release()
		return
	}
	select {
	case e.ch <- b:
		return
	default:
	}
	select {
	case e.ch <- b:
	case <-e.abandoned:
		e.queued.Add(-n)
		b.release()
	}
}

// abandon stops the executor from taking more events. Idempotent.
func (e *executor) abandon() {
	e.abOnce.Do(func() {
		e.stopped.Store(true)
		close(e.abandoned)
	})
}

// errAttemptEnded is returned by requestSwap when the attempt ended
// before the swap ran.
var errAttemptEnded = errors.New("cluster: attempt ended")

// requestSwap queues a worker-only reload behind the queued events and
// waits for it, for ctx, or for the attempt to end (stop closed: then
// errAttemptEnded, unless the swap already replied).
func (e *executor) requestSwap(ctx context.Context, stop <-chan struct{}) error {
	return e.requestCall(ctx, stop, nil)
}

// requestCall queues fn behind the queued events, to run on the executor
// goroutine (nil: the worker-only reload), and waits for it like
// requestSwap.
func (e *executor) requestCall(ctx context.Context, stop <-chan struct{}, fn func() error) error {
	reply := make(chan error, 1)
	b := newBatch()
	b.items = append(b.items, item{swap: reply, fn: fn})
	select {
	case e.ch <- b:
	case <-e.abandoned:
		b.release()
		return errAttemptEnded
	case <-stop:
		b.release()
		return errAttemptEnded
	case <-ctx.Done():
		b.release()
		return ctx.Err()
	}
	select {
	case err := <-reply:
		if errors.Is(err, cluster.ErrStopped) {
			return errAttemptEnded
		}
		return err
	case <-e.abandoned:
		return errAttemptEnded
	case <-stop:
		return errAttemptEnded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waiting is how many events wait for the executor: in the queue, and
// behind the one it runs now in its batch.
func (e *executor) waiting() int { return int(e.queued.Load()) }

// run is the executor goroutine. It exits once abandoned.
//
// While the queue has batches it takes them with a non-blocking receive,
// cheaper than a two-way select; it blocks in the select only when the
// queue is empty. Either way it checks abandoned before each item, so no
// item is taken after abandon.
func (e *executor) run() {
	defer close(e.done)
	for {
		var b *batch
		select {
		case b = <-e.ch:
		default:
			select {
			case <-e.abandoned:
				return
			case b = <-e.ch:
			}
		}
		ok := e.runBatch(b)
		e.budget.release(b.size)
		b.release()
		if !ok {
			return
		}
	}
}

// runBatch runs a batch's items in order. It reports false once abandoned
// or after a panic outside a listener; the swaps it did not run are
// answered with cluster.ErrStopped.
func (e *executor) runBatch(b *batch) bool {
	if e.maint.on.Load() != (e.maint.mode != maintOff) && !e.switchMaintenance() {
		failSwaps(b.items)
		return false
	}
	for i, it := range b.items {
		if e.stopped.Load() {
			failSwaps(b.items[i:])
			return false
		}
		if !e.step(it) { // a panic; step answered its own swap
			failSwaps(b.items[i+1:])
			return false
		}
	}
	return true
}

// tookReady records that the executor took the READY of a new session of
// its shard: delivered starts again from nothing, within that session.
func (e *executor) tookReady(it item, d *atomic.Int64) {
	var id string
	switch r := it.ev.(type) {
	case gateway.EventReady:
		id = r.SessionID
	case *gateway.EventReady:
		id = r.SessionID
	default:
		return
	}
	if sess := e.sessions[it.g.ShardID()]; sess != nil && d != nil {
		d.Store(0)
		sess.Store(&id)
	}
}

// deliveredIn returns the last seq of session taken for shard: 0 when
// the executor never took that session's READY (nor started in it).
func (e *executor) deliveredIn(shard int, session string) (int, bool) {
	d, sess := e.delivered[shard], e.sessions[shard]
	if d == nil || sess == nil {
		return 0, false
	}
	if p := sess.Load(); p == nil || *p != session {
		return 0, true
	}
	return int(d.Load()), true
}

// failSwaps answers the swaps among items that will never run.
func failSwaps(items []item) {
	for _, it := range items {
		if it.swap != nil {
			it.swap <- cluster.ErrStopped
		}
	}
}

// step runs one item; it reports false after a panic outside a listener
// (inside disgo's handlers), which crashes the attempt.
func (e *executor) step(it item) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if it.swap != nil {
				it.swap <- cluster.ErrStopped
			}
			e.onPanic(r, debug.Stack())
			ok = false
		}
	}()
	if it.swap != nil {
		if it.fn != nil {
			it.swap <- it.fn()
		} else {
			it.swap <- e.swap()
		}
		return true
	}
	e.queued.Add(-1)
	d := e.delivered[it.g.ShardID()]
	if it.t == gateway.EventTypeReady {
		e.tookReady(it, d)
	}
	if e.maint.mode == maintHold {
		e.stepHeld(it, d)
	} else {
		if d != nil && it.seq > 0 {
			d.Store(int64(it.seq))
		}
		e.handle(it)
	}
	e.progress.Add(1)
	return true
}
