package engine

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"github.com/disgoorg/disgo/bot"

	"github.com/megane-go/megane/cluster"
)

// DefaultMaintenanceBuffer is how many events a cluster in maintenance
// holds (see [WithMaintenanceBuffer]) unless told otherwise. A held
// MESSAGE_CREATE takes about 1 to 3 KB of heap once decoded, so the
// default costs up to about 30 MB per cluster in a long maintenance.
const DefaultMaintenanceBuffer = 10_000

// WithMaintenance starts the cluster in maintenance (see
// [Cluster.SetMaintenance]); the Manager sets it on the clusters it
// starts while the whole bot is in maintenance.
func WithMaintenance(on bool) Option { return func(c *config) { c.maintenance = on } }

// WithMaintenanceHandler sends the events of a cluster in maintenance to
// h instead of holding them: h runs on the cluster's dispatch goroutine in
// place of the worker's listeners, one event at a time and in order, and
// a panic in it crashes the cluster like a panic in a listener. Events
// that went to h count as delivered: leaving maintenance replays none of
// them. nil holds events (the default).
func WithMaintenanceHandler(h func(*cluster.Cluster, bot.Event)) Option {
	return func(c *config) { c.maintenanceHandler = h }
}

// WithMaintenanceBuffer sets how many events a cluster in maintenance
// holds for its worker (default [DefaultMaintenanceBuffer]; values < 1
// keep the default). When it is full the oldest held event is dropped to
// make room: each drop is counted (Stats.HeldDropped), the first drop of
// a maintenance episode is logged at warn level and so is the episode's
// total when it ends.
func WithMaintenanceBuffer(n int) Option { return func(c *config) { c.maintenanceBuffer = n } }

// SetMaintenance puts the cluster in maintenance (on) or takes it out.
// In maintenance the shards go on receiving and the disgo client goes on
// handling every event (the cache and the counters keep moving, the
// cluster stays ready), but the worker's listeners get none: each event
// waits in a bounded buffer ([WithMaintenanceBuffer]), or goes to the
// maintenance handler ([WithMaintenanceHandler]). Bus messages of the
// worker's own topics are answered with an error matching
// cluster.ErrMaintenance instead of reaching it; Megane's reserved topics
// (stats, fetches) and evals are answered as usual.
//
// Leaving maintenance hands the held events to the listeners, in the
// order they arrived and before any newer event. Both switches take
// effect on the dispatch goroutine at the start of its next batch (at most
// 64 events of one shard later); SetMaintenance does not wait for that,
// nor for the held events to be delivered.
//
// The setting belongs to the cluster, not to an attempt, so a restart of
// any kind keeps it. The held events belong to the attempt, and they are
// not counted as delivered: a resume restart (or a crash) in maintenance
// gets them replayed by Discord from the last event delivered before
// them, and holds them again; a full restart loses them as it loses any
// event in flight. A worker-only reload keeps them for the new worker.
//
// Changing the setting sends cluster.EventMaintenance; setting it to
// what it is does nothing. Safe for concurrent use. Maintenance relies on
// disgo's default synchronous event delivery: with disgo's async events
// (bot.WithAsyncEventsEnabled) listeners run off the dispatch goroutine,
// and maintenance mode is not supported.
func (c *Cluster) SetMaintenance(on bool) {
	if c.maintOn.Swap(on) == on {
		return
	}
	e := Event{Kind: cluster.EventMaintenance, Shard: -1, Maintenance: on}
	if a := c.view.Load().att; a != nil {
		e.Attempt = a.no
		if !on {
			a.exec.wake()
		}
	}
	c.emit(e)
}

// Maintenance reports whether the cluster is in maintenance.
func (c *Cluster) Maintenance() bool { return c.maintOn.Load() }

// maintenanceReply is the bus's answer for a worker topic in maintenance,
// or nil.
func (c *Cluster) maintenanceReply() error {
	if c.maintOn.Load() {
		return fmt.Errorf("cluster %d: %w", c.id, cluster.ErrMaintenance)
	}
	return nil
}

// maintMode is what the executor does with an event's bot events.
type maintMode uint8

const (
	maintOff    maintMode = iota // to the listeners
	maintHold                    // into the hold buffer
	maintDivert                  // to the maintenance handler
)

// heldEvent is one held bot event and the dispatch it came from.
type heldEvent struct {
	ev    bot.Event
	shard int
	seq   int
}

// maintenance is an executor's maintenance mode. The cluster's switch (on)
// is read once per batch; everything else belongs to the executor
// goroutine, and to the forwarder, which disgo calls on it.
type maintenance struct {
	on      *atomic.Bool // the cluster's switch; never nil
	mode    maintMode
	handler func(*cluster.Cluster, bot.Event) // nil: hold
	face    *cluster.Cluster
	log     *slog.Logger
	current func() *incarnation                      // the forwarder's incarnation
	release func(inc *incarnation, e bot.Event) bool // the forwarder's deliver

	ring       []heldEvent // a FIFO ring of capacity len(ring), allocated on first use
	size       int         // its capacity
	head, n    int
	pos        heldEvent   // the dispatch being handled (ev unused)
	holds      uint64      // events ever held: shows whether a dispatch held any
	taken      map[int]int // per shard with events held: the last seq taken
	dropped    int         // drops in this episode
	held       atomic.Int64
	dropsTotal *atomic.Int64 // the cluster's, over every attempt; never nil
}

// wake makes the executor look at the switch soon, without waiting for
// the next dispatch: an empty batch, unless the queue is full (then the
// batches in it do).
func (e *executor) wake() {
	select {
	case e.ch <- newBatch():
	default:
	}
}

// switchMaintenance follows the cluster's switch at the start of a batch:
// it starts holding (or diverting), or it delivers what was held and stops.
// It reports false when the delivery ended the attempt (a panic, or
// abandon): the events not delivered are not counted as delivered.
func (e *executor) switchMaintenance() bool {
	m := &e.maint
	if m.on.Load() {
		m.mode = maintHold
		if m.handler != nil {
			m.mode = maintDivert
		}
		return true
	}
	mode := m.mode
	m.mode = maintOff
	if mode != maintHold {
		return true
	}
	return e.releaseHeld()
}

// releaseHeld delivers the held events in order, advancing each shard's
// delivered sequence as it goes, then logs the episode's drops.
func (e *executor) releaseHeld() bool {
	m := &e.maint
	n := m.n
	for m.n > 0 {
		if e.stopped.Load() {
			return false
		}
		inc := m.current()
		if inc == nil || inc.dead.Load() || m.ring[m.head].ev.Client() != inc.att.client {
			// The worker crashed (the attempt is ending): what is still
			// held is not delivered, so a resume replays it.
			return false
		}
		h := m.pop()
		ok := m.release(inc, h.ev)
		if d := e.delivered[h.shard]; d != nil && h.seq > 0 && !m.nextIs(h.shard, h.seq) {
			storeMax(d, h.seq)
		}
		if !ok {
			return false
		}
	}
	for id, seq := range m.taken {
		storeMax(e.delivered[id], seq)
	}
	clear(m.taken)
	if m.dropped > 0 {
		m.log.Warn("left maintenance; the hold buffer had overflowed",
			slog.Int("delivered", n), slog.Int("dropped", m.dropped), slog.Int("buffer", m.size))
	} else {
		m.log.Info("left maintenance; delivered the held events", slog.Int("delivered", n))
	}
	m.dropped = 0
	return true
}

// stepHeld handles a dispatch in hold mode: the client handles it (the
// forwarder holds its bot events), and its sequence counts as delivered
// only when it held nothing and nothing of its shard is held.
func (e *executor) stepHeld(it item, d *atomic.Int64) {
	m := &e.maint
	id := it.g.ShardID()
	m.pos = heldEvent{shard: id, seq: it.seq}
	before := m.holds
	e.handle(it)
	if d == nil || it.seq <= 0 {
		return
	}
	if _, pending := m.taken[id]; pending || m.holds != before {
		m.taken[id] = it.seq
		return
	}
	d.Store(int64(it.seq))
}

// divert takes a bot event of inc in maintenance: into the hold buffer,
// or to the maintenance handler.
func (e *executor) divert(inc *incarnation, ev bot.Event) {
	m := &e.maint
	if m.mode == maintDivert {
		e.callHandler(inc, ev)
		return
	}
	m.push(heldEvent{ev: ev, shard: m.pos.shard, seq: m.pos.seq}, e)
}

// callHandler runs the maintenance handler, turning a panic into a crash.
func (e *executor) callHandler(inc *incarnation, ev bot.Event) {
	defer func() {
		if r := recover(); r != nil {
			inc.dead.Store(true)
			inc.att.crash(&PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	e.maint.handler(e.maint.face, ev)
}

// push holds h, dropping the oldest held event when the buffer is full.
func (m *maintenance) push(h heldEvent, e *executor) {
	if m.ring == nil {
		m.ring = make([]heldEvent, m.size)
		m.taken = map[int]int{}
	}
	m.holds++
	if m.n == m.size {
		old := m.pop()
		if d := e.delivered[old.shard]; d != nil && old.seq > 1 {
			storeMax(d, old.seq-1) // a replay resends what is still held, never the dropped
		}
		m.dropsTotal.Add(1)
		if m.dropped == 0 {
			m.log.Warn("maintenance hold buffer full; dropping the oldest held events",
				slog.Int("buffer", m.size))
		}
		m.dropped++
	}
	m.ring[(m.head+m.n)%m.size] = h
	m.n++
	m.held.Store(int64(m.n))
}

// pop removes and returns the oldest held event.
func (m *maintenance) pop() heldEvent {
	h := m.ring[m.head]
	m.ring[m.head] = heldEvent{}
	m.head = (m.head + 1) % m.size
	m.n--
	m.held.Store(int64(m.n))
	return h
}

// nextIs reports whether the oldest held event comes from shard's
// dispatch seq too (one dispatch may give several bot events).
func (m *maintenance) nextIs(shard, seq int) bool {
	return m.n > 0 && m.ring[m.head].shard == shard && m.ring[m.head].seq == seq
}

// storeMax raises d to v.
func storeMax(d *atomic.Int64, v int) {
	if d != nil && d.Load() < int64(v) {
		d.Store(int64(v))
	}
}

// setupMaintenance connects an attempt's executor to the cluster's switch
// and options.
func (a *attempt) setupMaintenance() {
	c := a.c
	m := &a.exec.maint
	m.on = &c.maintOn
	m.handler = c.cfg.maintenanceHandler
	m.face = c.face
	m.log = a.log
	m.size = c.cfg.maintenanceBuffer
	m.dropsTotal = &c.maintDrops
	m.release = func(inc *incarnation, e bot.Event) bool { return c.fwd.deliver(inc, e) }
	m.current = c.fwd.cur.Load
}

// maintenanceStats fills st's maintenance figures.
func (c *Cluster) maintenanceStats(st *Stats, a *attempt) {
	st.HeldDropped = int(c.maintDrops.Load())
	if a != nil {
		st.Held = int(a.exec.maint.held.Load())
	}
}
