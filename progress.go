package megane

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
)

// DefaultStartupProgress is how often the Manager reports a starting shard
// set's progress unless WithStartupProgress says otherwise.
const DefaultStartupProgress = 5 * time.Second

// WithStartupProgress sets how often, while a shard set starts (Run's
// first set, and a re-shard's new one), the Manager sends an
// EventStartupProgress and logs it: shards ready of the set's total,
// shards waiting in the identify queue, session starts left, and the ETA
// from the queue's schedule (see cluster.StartupProgress). The first one
// comes an interval after the set starts, so a start quicker than that
// sends none. Default DefaultStartupProgress (5 s); 0 or less turns it off.
func WithStartupProgress(every time.Duration) Option {
	return func(c *config) { c.progressEvery = every }
}

// budgetResetPeriod is how long a refilled session start budget lasts:
// Discord resets it daily (as shard's LocalQueue assumes).
const budgetResetPeriod = 24 * time.Hour

// startupETA is how long q's schedule needs to let n more identifies go:
// the buckets run in parallel from q.NextSlot, one identify per interval
// each, while the budget above the reserve lasts; the rest go after the
// budget's reset (a later reset, a day on, for what one refill cannot
// cover). It returns -1 when the budget can never cover them (a refill
// no larger than the reserve).
func startupETA(q shard.QueueStatus, n int, now time.Time) time.Duration {
	if n <= 0 {
		return 0
	}
	buckets := max(q.MaxConcurrency, 1)
	// last is when the k-th of k identifies goes, the buckets free at from.
	last := func(from time.Time, k int) time.Time {
		return from.Add(time.Duration((k+buckets-1)/buckets-1) * q.Interval)
	}
	start := q.NextSlot
	if start.Before(now) {
		start = now
	}
	usable := max(q.Remaining-q.Reserve, 0)
	if q.Remaining < 0 || n <= usable {
		return last(start, n).Sub(now)
	}
	refill := q.Total - q.Reserve
	if refill <= 0 {
		return -1
	}
	n -= usable
	periods := (n - 1) / refill // whole refills spent before the last one
	n -= periods * refill
	from := q.ResetAt.Add(time.Duration(periods) * budgetResetPeriod)
	free := start // when the buckets are free for the identifies after the reset
	if usable > 0 {
		free = last(start, usable).Add(q.Interval)
	}
	if free.After(from) {
		from = free
	}
	return last(from, n).Sub(now)
}

// startup follows the shard set that is starting, from the lifecycle
// events (observe, from every cluster's goroutines) and the identify
// queue, for the progress loop (run). Its mutex guards its fields and is
// held for nothing else. The zero value is ready to use.
type startup struct {
	mu      sync.Mutex
	queue   shard.QueueReporter      // Run's queue; nil outside Run or when it reports nothing
	gen     int                      // the set that started last
	total   int                      // its shard count
	started bool                     // gen is starting: not every shard is ready yet, and it did not fail
	ready   map[int]map[int]struct{} // generation → its ready shards, for gen and later ones
	wake    chan struct{}            // capacity 1: a start or an end for run; extra ones are dropped
}

// startupState is what the progress loop reads of a startup.
type startupState struct {
	gen, ready, total int
	started           bool
	queue             shard.QueueReporter
}

// initLocked makes the zero value usable.
func (s *startup) initLocked() {
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
		s.ready = map[int]map[int]struct{}{}
	}
}

// signalLocked wakes the progress loop.
func (s *startup) signalLocked() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is pending; the loop reads the state anyway
	}
}

// setQueue sets the queue the figures are read from (nil: none).
func (s *startup) setQueue(q shard.Queue) {
	r, _ := q.(shard.QueueReporter)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = r
}

// begin starts following generation gen of total shards; shards of it
// seen ready before count.
func (s *startup) begin(gen, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.gen, s.total, s.started = gen, total, true
	for g := range s.ready {
		if g < gen {
			delete(s.ready, g)
		}
	}
	s.checkDoneLocked()
	s.signalLocked()
}

// observe takes one lifecycle event into the count. It never blocks for
// long.
func (s *startup) observe(e cluster.Event) {
	switch e.Kind {
	case cluster.EventShardReady, cluster.EventShardResumed, cluster.EventShardDisconnected,
		cluster.EventReshardFailed:
	case cluster.EventReshardStarted:
		s.begin(e.Generation, e.NewShards)
		return
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if e.Generation < s.gen {
		return // a set that was replaced
	}
	switch e.Kind {
	case cluster.EventReshardFailed:
		if s.started && e.Generation == s.gen {
			s.started = false
			s.signalLocked()
		}
		return
	case cluster.EventShardDisconnected:
		delete(s.ready[e.Generation], e.Shard)
		return
	}
	set := s.ready[e.Generation]
	if set == nil {
		set = map[int]struct{}{}
		s.ready[e.Generation] = set
	}
	set[e.Shard] = struct{}{}
	s.checkDoneLocked()
}

// checkDoneLocked ends the start of gen once every shard is ready.
func (s *startup) checkDoneLocked() {
	if s.started && len(s.ready[s.gen]) >= s.total {
		s.started = false
		s.signalLocked()
	}
}

// state returns what the progress loop reads.
func (s *startup) state() startupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	return startupState{gen: s.gen, ready: min(len(s.ready[s.gen]), s.total), total: s.total,
		started: s.started, queue: s.queue}
}

// wakeup returns the channel run waits on.
func (s *startup) wakeup() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	return s.wake
}

// run sends a progress event every interval while a set starts, and one
// more when it ends if any was sent for it, until ctx ends. It runs on a
// goroutine of Run's.
func (s *startup) run(ctx context.Context, every time.Duration, emit func(cluster.Event)) {
	wake := s.wakeup()
	timer := time.NewTimer(every)
	timer.Stop()
	defer timer.Stop()
	cur, reported, ticking := -1, false, false
	for {
		st := s.state()
		if st.gen != cur {
			cur, reported = st.gen, false
		}
		switch {
		case st.started && !ticking:
			timer.Reset(every)
			ticking = true
		case !st.started && ticking:
			timer.Stop()
			ticking = false
		}
		if !st.started && reported {
			emit(st.event(time.Now()))
			reported = false
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
			ticking = false
			if st := s.state(); st.started && st.gen == cur {
				emit(st.event(time.Now()))
				reported = true
			}
		}
	}
}

// event is the progress event of st at now.
func (st startupState) event(now time.Time) cluster.Event {
	p := cluster.StartupProgress{Ready: st.ready, Total: st.total, Waiting: -1, Remaining: -1, ETA: -1}
	if st.queue != nil {
		q := st.queue.Status()
		p.Waiting, p.Remaining = q.Waiting, q.Remaining
		p.ETA = startupETA(q, max(q.Waiting, st.total-st.ready), now)
	}
	if st.ready >= st.total {
		p.ETA = 0
	}
	return cluster.Event{Kind: cluster.EventStartupProgress, Cluster: -1, Shard: -1, Generation: st.gen,
		At: now, Progress: p}
}

// startProgress follows the start of Run's first set of total shards on
// queue, and reports it (and each re-shard's) until ctx ends, when
// WithStartupProgress is on. wg waits for its goroutine.
func (m *Manager) startProgress(ctx context.Context, wg *sync.WaitGroup, queue shard.Queue, total int) {
	m.progress.setQueue(queue)
	m.progress.begin(0, total)
	if m.cfg.progressEvery > 0 {
		wg.Go(func() { m.progress.run(ctx, m.cfg.progressEvery, m.emitOwn) })
	}
}

// The identify queue's metrics, read at scrape time.
var (
	queueDepthDesc = prometheus.NewDesc("megane_identify_queue_depth",
		"Shards waiting in the identify queue.", nil, nil)
	sessionStartsDesc = prometheus.NewDesc("megane_session_starts_remaining",
		"Session starts (identifies) left before Discord's session_start_limit resets; absent when unlimited.", nil, nil)
)

// queueMetrics exports the identify queue's depth and the session starts
// left while Run runs; nothing otherwise.
func (m *Manager) queueMetrics(ch chan<- prometheus.Metric) {
	q := m.progress.state().queue
	if q == nil {
		return
	}
	st := q.Status()
	ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Waiting))
	if st.Remaining >= 0 {
		ch <- prometheus.MustNewConstMetric(sessionStartsDesc, prometheus.GaugeValue, float64(st.Remaining))
	}
}

// promCollectors is the Manager's prometheus.Collector: the stats'
// collector, the bus's, the histograms, then queueMetrics.
type promCollectors struct {
	stats, bus prometheus.Collector
	m          *Manager
}

// Describe implements prometheus.Collector.
func (p promCollectors) Describe(ch chan<- *prometheus.Desc) {
	p.stats.Describe(ch)
	p.bus.Describe(ch)
	p.m.hist.Describe(ch)
	ch <- queueDepthDesc
	ch <- sessionStartsDesc
}

// Collect implements prometheus.Collector.
func (p promCollectors) Collect(ch chan<- prometheus.Metric) {
	p.stats.Collect(ch)
	p.bus.Collect(ch)
	p.m.hist.Collect(ch)
	p.m.queueMetrics(ch)
}
