package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/bot"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/service"
)

// The bus topics and names the soak uses.
const (
	topicPanic  = "soak.panic" // a worker command that panics; payload: the injection ID
	funcPanic   = "soak.panic" // a registered eval function that panics; arg: the injection ID
	serviceName = "chaos"      // the service that crashes on command
	topicCrash  = "crash"      // the service's command; payload: a crashOrder
	noInjection = 0            // an ID the book never hands out
	maxArmed    = 64           // faults of one kind armed per cluster at most
)

// arms holds the faults armed on the workers of each cluster: the next
// Launch panics, the next primary event's listener panics or blocks for a
// while. Workers of every incarnation share it. Safe for concurrent use.
type arms struct {
	book *panicBook
	rec  *recorder

	armed     atomic.Int64 // listener faults armed, over all clusters (fast path)
	off       atomic.Bool  // disarmed for good: injection is over
	slowFired atomic.Int64

	mu       sync.Mutex
	listener map[int][]int           // cluster → armed listener panic IDs
	launch   map[int][]int           // cluster → armed Launch panic IDs
	slow     map[int][]time.Duration // cluster → armed slow handlers
}

func newArms(book *panicBook, rec *recorder) *arms {
	return &arms{book: book, rec: rec, listener: map[int][]int{}, launch: map[int][]int{}, slow: map[int][]time.Duration{}}
}

// armListener makes a listener of cluster panic at its next primary event.
func (a *arms) armListener(cluster int) {
	put(a, a.listener, cluster, a.book.newID(kindListenerPanic), true)
}

// armLaunch makes the next Launch of a worker of cluster panic.
func (a *arms) armLaunch(cluster int) {
	put(a, a.launch, cluster, a.book.newID(kindLaunchPanic), false)
}

// armSlow makes a listener of cluster block for d at its next primary
// event.
func (a *arms) armSlow(cluster int, d time.Duration) { put(a, a.slow, cluster, d, true) }

// put arms v for cluster in m, unless injection is over or maxArmed wait
// already; byListener says the listener takes it (counted in armed).
func put[T any](a *arms, m map[int][]T, cluster int, v T, byListener bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.off.Load() || len(m[cluster]) >= maxArmed {
		return
	}
	m[cluster] = append(m[cluster], v)
	if byListener {
		a.armed.Add(1)
	}
}

// disarm drops every armed fault and arms no more.
func (a *arms) disarm() {
	a.off.Store(true)
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.listener)
	clear(a.launch)
	clear(a.slow)
	a.armed.Store(0)
}

// take pops the first armed value of cluster from m.
func take[T any](a *arms, m map[int][]T, cluster int) (T, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var zero T
	q := m[cluster]
	if a.off.Load() || len(q) == 0 {
		return zero, false
	}
	m[cluster] = q[1:]
	return q[0], true
}

// onEvent is every worker's one listener: it records the event, then acts
// on the cluster's armed faults, so that a fault never hides an event from
// the recorder.
func (a *arms) onEvent(ctx context.Context, cluster int, e bot.Event) {
	if !a.rec.record(e) || a.armed.Load() == 0 {
		return
	}
	if id, ok := take(a, a.listener, cluster); ok {
		a.armed.Add(-1)
		panic(a.book.fire(id))
	}
	if d, ok := take(a, a.slow, cluster); ok {
		a.armed.Add(-1)
		a.slowFired.Add(1)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// worker is the soak's cluster.Worker: one listener that records and
// carries the armed faults, and a command that panics, on its embedded
// bus.Mux.
type worker struct {
	bus.Mux
	a *arms
}

var (
	_ cluster.Worker = (*worker)(nil)
	_ bus.Handler    = (*worker)(nil)
)

// Launch panics if a Launch panic is armed for the cluster, and otherwise
// registers the command and adds the listener.
func (w *worker) Launch(ctx context.Context, c *cluster.Cluster) error {
	id := c.ID()
	if pid, ok := take(w.a, w.a.launch, id); ok {
		panic(w.a.book.fire(pid))
	}
	bus.Handle(&w.Mux, topicPanic, w.panicCommand)
	c.AddEventListeners(bot.NewListenerFunc(func(e bot.Event) { w.a.onEvent(ctx, id, e) }))
	return nil
}

// panicCommand answers topicPanic: it panics with the injection ID it
// carries.
func (w *worker) panicCommand(_ context.Context, id int) (string, error) {
	panic(w.a.book.fire(id))
}

// crashOrder is the chaos service's command: end the current run with an
// error, or with a panic.
type crashOrder struct {
	ID    int  `json:"id"`
	Panic bool `json:"panic"`
}

// chaosService is a service that serves until ctx ends, or until it is
// told to crash: then its run returns a *soakError or panics.
type chaosService struct {
	bus.Mux
	book   *panicBook
	orders chan crashOrder // unbuffered: the crash command hands over to the run
}

var (
	_ service.Service = (*chaosService)(nil)
	_ bus.Handler     = (*chaosService)(nil)
)

func newChaosService(book *panicBook) *chaosService {
	s := &chaosService{book: book, orders: make(chan crashOrder)}
	bus.Handle(&s.Mux, topicCrash, s.crash)
	return s
}

// Serve is ready at once and runs until ctx ends or a crash order.
func (s *chaosService) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	select {
	case <-ctx.Done():
		return nil
	case o := <-s.orders:
		p := s.book.fire(o.ID)
		if o.Panic {
			panic(p)
		}
		return &soakError{ID: o.ID}
	}
}

// crash hands a crash order to the current run.
func (s *chaosService) crash(ctx context.Context, o crashOrder) (string, error) {
	select {
	case s.orders <- o:
		return "ok", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
