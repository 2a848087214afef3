package shard

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// ErrQueueClosed is returned by LocalQueue.Wait once the queue is closed.
var ErrQueueClosed = errors.New("shard: identify queue closed")

// Queue is the process-wide identify queue. Every shard waits on it before
// it sends IDENTIFY, and reports when it sent it. It is an interface so
// that a queue shared by several hosts can replace LocalQueue.
//
// Discord times an IDENTIFY when it arrives, so a bucket's window must
// start when the frame was written, not when the queue let it go: between
// the two the shard still encodes the frame, passes its send limiter and
// writes. A Queue therefore keeps a bucket closed from Wait's grant until
// Identified reports the write, and starts the window then.
type Queue interface {
	// Wait blocks until shardID may identify, or ctx ends. A nil error
	// spends one identify from the session start budget: the caller must
	// identify right away and then call Identified. It returns ctx.Err()
	// if ctx ends first.
	Wait(ctx context.Context, shardID int) error
	// Identified reports what became of the IDENTIFY that the last nil
	// Wait for shardID allowed. A nil err means it was written, and at is
	// when the write returned: the bucket's window starts there. A non-nil
	// err means not one byte of it was written (the frame could not be
	// encoded, the connection was gone before the write began); the
	// identify is given back to the budget and the bucket reopens at once.
	// A caller that does not know whether a failed write reached the peer
	// must report it as written (nil err). Call it exactly once after
	// every nil Wait; it never blocks.
	Identified(shardID int, at time.Time, err error)
}

var _ Queue = (*LocalQueue)(nil)

// Defaults of a LocalQueue.
const (
	// DefaultIdentifyWindow is how long a bucket waits after an identify
	// before the next one (Discord: 5 s).
	DefaultIdentifyWindow = 5 * time.Second
	// DefaultIdentifyMargin is added to every window. Discord times each
	// IDENTIFY when it arrives, and two IDENTIFYs of one bucket travel on
	// two connections (later on two hosts) whose delays differ: if the
	// first one is delayed more than the second, they arrive closer than
	// they were written, and a breach costs an op 9 and a whole window.
	// 300 ms covers the jitter of a loaded host and an ordinary network
	// path; it adds 6% to a cold start at max_concurrency 1.
	DefaultIdentifyMargin = 300 * time.Millisecond
	// DefaultGrantTimeout is how long a grant may go unreported (see
	// Queue.Identified) before the queue takes the IDENTIFY as written at
	// the end of it. A shard reports within its write timeout (10 s).
	DefaultGrantTimeout = 30 * time.Second
	// budgetPeriod is how long a refilled session start budget lasts until
	// the next reset when Discord has not said (it resets daily).
	budgetPeriod = 24 * time.Hour
)

// LocalQueue is the in-process identify Queue. It enforces Discord's rules:
//
//   - shard s is in bucket s % max_concurrency, and each bucket allows at
//     most one identify per identify window, while buckets proceed in
//     parallel. A bucket closes when Wait grants an identify; its window
//     (plus the margin, see DefaultIdentifyMargin) starts when Identified
//     reports the IDENTIFY written, or at the grant timeout if it never
//     does;
//   - within a bucket, waiting shards go in ascending shard ID order;
//   - each identify spends one of session_start_limit.remaining; when the
//     remaining budget is down to the reserve, waiters wait until the reset
//     (logged once) and the budget is then refilled to the total.
//
// Create one with NewQueue and share it between every shard of the process.
// The zero value is usable (max_concurrency 1, a 5 s window, no budget
// limit). A LocalQueue must not be copied after first use. All methods are
// safe for concurrent use. Wait starts no goroutine; a waiter whose context
// ends leaves the queue at once and gives its place to the next.
type LocalQueue struct {
	mu      sync.Mutex
	inited  bool
	cfg     queueConfig
	buckets []*queueBucket // index: shard ID % max concurrency
	// Session start budget; remaining < 0 means no known limit.
	total, remaining int
	resetAt          time.Time
	logged           bool // the current wait for a reset was logged
	closed           bool
	done             chan struct{} // closed by Close
}

// queueBucket is one rate limit key.
type queueBucket struct {
	next    time.Time      // earliest time of the next identify
	held    []queueGrant   // granted, not yet reported; usually 0 or 1
	waiters []*queueWaiter // sorted by shard ID, then arrival
}

// queueGrant is an identify that Wait let go and Identified has not
// reported yet. Its bucket stays closed meanwhile.
type queueGrant struct {
	shardID int
	expires time.Time // unreported by then: taken as written then
}

// queueWaiter is one blocked Wait call.
type queueWaiter struct {
	shardID int
	wake    chan struct{} // capacity 1: a pending wake-up is never lost, extra ones are dropped
}

func (w *queueWaiter) notify() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending; the waiter re-reads the state anyway
	}
}

// queueConfig holds the options of a LocalQueue.
type queueConfig struct {
	maxConcurrency int
	window         time.Duration
	margin         time.Duration
	grantTimeout   time.Duration
	total          int
	remaining      int
	resetAfter     time.Duration
	reserve        int
	logger         *slog.Logger
}

func defaultQueueConfig() queueConfig {
	return queueConfig{
		maxConcurrency: 1,
		window:         DefaultIdentifyWindow,
		margin:         DefaultIdentifyMargin,
		grantTimeout:   DefaultGrantTimeout,
		remaining:      -1,
		logger:         slog.Default(),
	}
}

// QueueOption configures a LocalQueue.
type QueueOption func(*queueConfig)

// WithMaxConcurrency sets max_concurrency from /gateway/bot: the number of
// buckets. 0 or less is treated as 1.
func WithMaxConcurrency(n int) QueueOption {
	return func(c *queueConfig) { c.maxConcurrency = max(n, 1) }
}

// WithIdentifyWindow sets how long a bucket waits between two identifies,
// from the moment the first was written. Default: DefaultIdentifyWindow
// (5 s), Discord's window. Tests scale it down on the fake Discord and give
// the queue the fake's own window, so the number is set once:
// WithIdentifyWindow(fake.IdentifyWindow()). A window of 0 or less lets
// identifies through without spacing (and without a margin).
func WithIdentifyWindow(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.window = d }
}

// WithIdentifyMargin sets the safety margin added to every window (see
// DefaultIdentifyMargin for why). Default 300 ms; negative means 0.
func WithIdentifyMargin(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.margin = max(d, 0) }
}

// WithGrantTimeout sets how long a grant may go unreported before the
// queue takes its IDENTIFY as written at the end of that time (default
// DefaultGrantTimeout). It only matters for a Queue caller that breaks the
// rule of calling Identified; values of 0 or less keep the default.
func WithGrantTimeout(d time.Duration) QueueOption {
	return func(c *queueConfig) {
		if d > 0 {
			c.grantTimeout = d
		}
	}
}

// WithSessionStartLimit sets session_start_limit from /gateway/bot: the
// daily total, what remains of it now, and the time until it resets.
// Without it the queue does not limit the number of identifies.
func WithSessionStartLimit(total, remaining int, resetAfter time.Duration) QueueOption {
	return func(c *queueConfig) {
		c.total, c.remaining, c.resetAfter = max(total, 0), max(remaining, 0), max(resetAfter, 0)
	}
}

// WithReserve keeps the last n identifies of the budget: once only n are
// left, waiters wait for the reset instead of spending them. Default 0.
func WithReserve(n int) QueueOption {
	return func(c *queueConfig) { c.reserve = max(n, 0) }
}

// WithQueueLogger sets the logger. Default: slog.Default().
func WithQueueLogger(l *slog.Logger) QueueOption {
	return func(c *queueConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// NewQueue returns a LocalQueue configured by opts.
func NewQueue(opts ...QueueOption) *LocalQueue {
	q := &LocalQueue{cfg: defaultQueueConfig()}
	for _, opt := range opts {
		opt(&q.cfg)
	}
	q.initLocked()
	return q
}

// initLocked applies the configuration; it makes the zero value usable.
func (q *LocalQueue) initLocked() {
	if q.inited {
		return
	}
	q.inited = true
	if q.cfg == (queueConfig{}) {
		q.cfg = defaultQueueConfig() // the zero value
	}
	q.cfg.logger = q.cfg.logger.With(slog.String("service", "identify-queue"))
	q.buckets = newQueueBuckets(q.cfg.maxConcurrency)
	q.total, q.remaining = q.cfg.total, q.cfg.remaining
	if q.remaining >= 0 {
		q.resetAt = time.Now().Add(q.cfg.resetAfter)
	}
	q.done = make(chan struct{})
}

func newQueueBuckets(n int) []*queueBucket {
	b := make([]*queueBucket, max(n, 1))
	for i := range b {
		b[i] = &queueBucket{}
	}
	return b
}

// Wait blocks until shardID may identify, or ctx ends, or the queue is
// closed (ErrQueueClosed). See LocalQueue for the rules. A nil error has
// spent one identify of the budget and keeps the bucket closed until
// Identified.
func (q *LocalQueue) Wait(ctx context.Context, shardID int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &queueWaiter{shardID: shardID, wake: make(chan struct{}, 1)}
	q.mu.Lock()
	q.initLocked()
	if q.closed {
		q.mu.Unlock()
		return ErrQueueClosed
	}
	q.enqueueLocked(w)
	done := q.done
	q.mu.Unlock()

	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrQueueClosed
		}
		at, ok := q.tryGrantLocked(w, time.Now())
		q.mu.Unlock()
		if ok {
			return nil
		}
		var fire <-chan time.Time
		if !at.IsZero() {
			d := time.Until(at)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			fire = timer.C
		}
		select {
		case <-w.wake:
		case <-fire:
		case <-done:
			return ErrQueueClosed
		case <-ctx.Done():
			q.leave(w)
			return ctx.Err()
		}
	}
}

// enqueueLocked adds w to its bucket in shard ID order and wakes the bucket's
// previous head if w goes before it.
func (q *LocalQueue) enqueueLocked(w *queueWaiter) {
	b := q.bucketLocked(w.shardID)
	i, _ := slices.BinarySearchFunc(b.waiters, w.shardID, func(x *queueWaiter, id int) int {
		if x.shardID <= id {
			return -1 // after every equal ID: arrival order among equals
		}
		return 1
	})
	b.waiters = slices.Insert(b.waiters, i, w)
	if i == 0 && len(b.waiters) > 1 {
		b.waiters[1].notify()
	}
}

func (q *LocalQueue) bucketLocked(shardID int) *queueBucket {
	n := len(q.buckets)
	return q.buckets[((shardID%n)+n)%n]
}

// tryGrantLocked grants w if it heads its bucket, no identify of the
// bucket is in flight, the bucket's window has passed and the budget
// allows. Otherwise it returns when to look again (zero: when woken).
func (q *LocalQueue) tryGrantLocked(w *queueWaiter, now time.Time) (time.Time, bool) {
	b := q.bucketLocked(w.shardID)
	if len(b.waiters) == 0 || b.waiters[0] != w {
		return time.Time{}, false
	}
	if q.expireLocked(b, now) {
		// Identified will wake w; the timer covers a report that never comes.
		return b.held[0].expires, false
	}
	at := b.next
	if q.remaining >= 0 {
		if !now.Before(q.resetAt) {
			// Discord refilled the budget at resetAt, whatever was left.
			q.remaining = q.total
			q.resetAt = now.Add(budgetPeriod)
			q.logged = false
			q.cfg.logger.Info("identify budget refilled", slog.Int("remaining", q.remaining))
		}
		if q.remaining <= q.cfg.reserve {
			if !q.logged {
				q.logged = true
				q.cfg.logger.Warn("identify budget exhausted: waiting for the session start limit to reset",
					slog.Int("shard", w.shardID),
					slog.Int("remaining", q.remaining),
					slog.Int("reserve", q.cfg.reserve),
					slog.Time("reset_at", q.resetAt),
					slog.Duration("wait", q.resetAt.Sub(now)))
			}
			if q.resetAt.After(at) {
				at = q.resetAt
			}
		}
	}
	if now.Before(at) {
		return at, false
	}
	b.waiters = slices.Delete(b.waiters, 0, 1)
	if q.cfg.window > 0 {
		b.held = append(b.held, queueGrant{shardID: w.shardID, expires: now.Add(q.cfg.grantTimeout)})
	}
	if len(b.waiters) > 0 {
		// The new head looks again: at once without spacing, else it
		// sets its timer to the grant's expiry until Identified wakes it.
		b.waiters[0].notify()
	}
	if q.remaining > 0 {
		q.remaining--
	}
	return time.Time{}, true
}

// expireLocked drops b's grants that went unreported past their expiry,
// taking each as written then, and reports whether a grant is still held.
func (q *LocalQueue) expireLocked(b *queueBucket, now time.Time) bool {
	b.held = slices.DeleteFunc(b.held, func(g queueGrant) bool {
		if now.Before(g.expires) {
			return false
		}
		q.cfg.logger.Warn("identify grant never reported; taking it as written at its timeout",
			slog.Int("shard", g.shardID), slog.Duration("timeout", q.cfg.grantTimeout))
		q.closeBucketLocked(b, g.expires)
		return true
	})
	return len(b.held) > 0
}

// closeBucketLocked starts b's window at written: the next identify may go
// a window plus the margin later.
func (q *LocalQueue) closeBucketLocked(b *queueBucket, written time.Time) {
	if q.cfg.window <= 0 {
		return
	}
	if next := written.Add(q.cfg.window + q.cfg.margin); next.After(b.next) {
		b.next = next
	}
}

// Identified implements Queue: it reopens shardID's bucket, with its
// window starting at at (the current time if at is zero) when err is nil;
// when err is not nil the identify goes back to the budget and the bucket
// reopens at once. A report for a grant that expired still moves the
// window, so a late write is never overtaken.
func (q *LocalQueue) Identified(shardID int, at time.Time, err error) {
	if at.IsZero() {
		at = time.Now()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.initLocked()
	b := q.bucketLocked(shardID)
	i := slices.IndexFunc(b.held, func(g queueGrant) bool { return g.shardID == shardID })
	if i >= 0 {
		b.held = slices.Delete(b.held, i, i+1)
	}
	switch {
	case err == nil:
		q.closeBucketLocked(b, at)
	case i >= 0 && q.remaining >= 0 && q.remaining < q.total:
		q.remaining++ // never sent: Discord did not count it
	}
	if len(b.waiters) > 0 {
		b.waiters[0].notify()
	}
}

// leave removes a waiter whose context ended and wakes the next in line.
func (q *LocalQueue) leave(w *queueWaiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.bucketLocked(w.shardID)
	i := slices.Index(b.waiters, w)
	if i < 0 {
		return
	}
	b.waiters = slices.Delete(b.waiters, i, i+1)
	if i == 0 && len(b.waiters) > 0 {
		b.waiters[0].notify()
	}
}

// Remaining returns the identifies left in the session start budget, or -1
// when the queue has no budget limit. A budget whose reset time has passed
// counts as refilled.
func (q *LocalQueue) Remaining() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.initLocked()
	if q.remaining >= 0 && !time.Now().Before(q.resetAt) {
		return q.total
	}
	return q.remaining
}

// SetLimit replaces max_concurrency and the session start budget with fresh
// figures from /gateway/bot. A maxConcurrency of 0 or less is treated as 1.
// Identifies granted and not yet reported are taken off remaining, since
// Discord may not have counted them yet. Waiting shards and those grants
// are re-bucketed; a new bucket keeps the latest window of the old
// buckets, so no bucket can identify twice within one window.
func (q *LocalQueue) SetLimit(maxConcurrency, total, remaining int, resetAfter time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.initLocked()
	maxConcurrency = max(maxConcurrency, 1)
	q.cfg.maxConcurrency = maxConcurrency
	held := 0
	for _, b := range q.buckets {
		held += len(b.held)
	}
	q.total, q.remaining = max(total, 0), max(remaining-held, 0)
	q.resetAt = time.Now().Add(max(resetAfter, 0))
	q.logged = false
	if len(q.buckets) != maxConcurrency {
		var latest time.Time
		var waiters []*queueWaiter
		var grants []queueGrant
		for _, b := range q.buckets {
			if b.next.After(latest) {
				latest = b.next
			}
			waiters = append(waiters, b.waiters...)
			grants = append(grants, b.held...)
		}
		q.buckets = newQueueBuckets(maxConcurrency)
		for _, b := range q.buckets {
			b.next = latest
		}
		slices.SortStableFunc(waiters, func(a, b *queueWaiter) int { return a.shardID - b.shardID })
		for _, w := range waiters {
			b := q.bucketLocked(w.shardID)
			b.waiters = append(b.waiters, w)
		}
		for _, g := range grants {
			b := q.bucketLocked(g.shardID)
			b.held = append(b.held, g)
		}
	}
	for _, b := range q.buckets {
		for _, w := range b.waiters {
			w.notify()
		}
	}
}

// Close makes every current and future Wait return ErrQueueClosed. It is
// idempotent.
func (q *LocalQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.initLocked()
	if q.closed {
		return
	}
	q.closed = true
	close(q.done)
	for _, b := range q.buckets {
		b.waiters = nil
	}
}
