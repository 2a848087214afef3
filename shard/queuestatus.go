package shard

import "time"

// QueueStatus is an identify queue's state at one moment: enough to tell
// how long the identifies still to come will take. It is a plain value.
//
// A queue schedules identifies this way: MaxConcurrency buckets run in
// parallel, each letting one identify go per Interval from NextSlot on,
// while the session start budget lasts (Remaining above Reserve); then
// they wait until ResetAt, when the budget is refilled to Total.
type QueueStatus struct {
	// Waiting is the number of shards blocked in Wait.
	Waiting int
	// NextSlot is the earliest time a bucket may let an identify go, by
	// its window alone (the budget aside); never before the time of the
	// status.
	NextSlot time.Time
	// MaxConcurrency is the number of buckets (at least 1).
	MaxConcurrency int
	// Interval is the time between two identifies of one bucket: the
	// identify window plus the safety margin (0: no spacing).
	Interval time.Duration
	// Remaining is the session starts left until ResetAt, or -1 when the
	// queue has no budget limit (then Total, Reserve and ResetAt are zero).
	Remaining int
	// Total is what the budget is refilled to at ResetAt.
	Total int
	// Reserve is the part of the budget the queue never spends.
	Reserve int
	// ResetAt is when the budget is refilled next.
	ResetAt time.Time
}

// QueueReporter is implemented by a Queue that can report its state, as
// LocalQueue does. It is optional: the Manager's startup progress and
// metrics use it when the Queue has it. Status must be cheap (it is read
// on every progress tick and metrics scrape) and safe for concurrent use.
type QueueReporter interface {
	Status() QueueStatus
}

var _ QueueReporter = (*LocalQueue)(nil)

// Status implements QueueReporter. It takes the queue's lock for a walk
// over the buckets (max_concurrency of them), and never blocks otherwise.
// A budget whose reset time has passed counts as refilled, as in
// Remaining.
func (q *LocalQueue) Status() QueueStatus {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.initLocked()
	st := QueueStatus{MaxConcurrency: len(q.buckets), Remaining: -1}
	if q.cfg.window > 0 {
		st.Interval = q.cfg.window + q.cfg.margin
	}
	for i, b := range q.buckets {
		st.Waiting += len(b.waiters)
		next := b.next
		if len(b.held) > 0 {
			// Granted and about to be written: the window starts then.
			next = later(next, now.Add(st.Interval))
		}
		if i == 0 || next.Before(st.NextSlot) {
			st.NextSlot = next
		}
	}
	st.NextSlot = later(st.NextSlot, now)
	if q.remaining >= 0 {
		st.Remaining, st.Total, st.Reserve, st.ResetAt = q.remaining, q.total, q.cfg.reserve, q.resetAt
		if !now.Before(q.resetAt) {
			st.Remaining, st.ResetAt = q.total, now.Add(budgetPeriod)
		}
	}
	return st
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
