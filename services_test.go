package megane

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// counterSvc counts "incr" commands, panics on "crash", reports its count
// in the stats and signals AllClustersReady.
// counterSvc counts: "incr" adds one and returns the count, "crash" makes
// Serve panic (a crash), "panic" panics in its command handler (not a
// crash). Its commands are on its embedded bus.Mux.
type counterSvc struct {
	bus.Mux
	n        atomic.Int64
	allReady chan struct{} // capacity 1
	crash    chan struct{} // capacity 1
}

func newCounter() *counterSvc {
	s := &counterSvc{allReady: make(chan struct{}, 1), crash: make(chan struct{}, 1)}
	bus.Handle(&s.Mux, "incr", func(context.Context, any) (int, error) { return int(s.n.Add(1)), nil })
	bus.Handle(&s.Mux, "crash", func(context.Context, any) (int, error) {
		select {
		case s.crash <- struct{}{}:
		default:
		}
		return 0, nil
	})
	bus.Handle(&s.Mux, "panic", func(context.Context, any) (int, error) { panic("command boom") })
	return s
}

func (s *counterSvc) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	select {
	case <-ctx.Done():
		return nil
	case <-s.crash:
		panic("service boom")
	}
}

func (s *counterSvc) Stats() map[string]any { return map[string]any{"count": s.n.Load()} }

func (s *counterSvc) AllClustersReady(context.Context) {
	select {
	case s.allReady <- struct{}{}:
	default:
	}
}

var (
	_ bus.Handler                 = (*counterSvc)(nil)
	_ bus.StatsProvider           = (*counterSvc)(nil)
	_ bus.AllClustersReadyHandler = (*counterSvc)(nil)
)

// serviceStates counts the ServiceStateChanged events of a service that
// reached state.
func serviceStates(tl *tally, name, state string) int {
	n := 0
	for _, e := range tl.events {
		if e.Kind == cluster.EventServiceState && e.Service == name && e.State == state {
			n++
		}
	}
	return n
}

// TestManagerServices: a service registered with WithService answers a
// cluster worker's request, gets AllClustersReady, crashes and is
// restarted, is restarted and stopped by name, and a service added after
// start serves too; stopped services leave the stats.
func TestManagerServices(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	tl := newTally()
	counter := newCounter()
	factory, _ := gatedFactory(tl, 0)
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(2), WithWorker(factory),
		WithService("counter", counter, service.WithRestartPolicy(supervisor.Policy{MaxRestarts: -1})))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	select {
	case <-counter.allReady:
	case <-ctxFor(t).Done():
		t.Fatal("the service never got AllClustersReady")
	}
	b := m.Bus()

	// Cluster workers ask the service through the bus.
	for i, to := range []bus.Address{bus.Cluster(0), bus.Cluster(1)} {
		got, err := bus.Request[int](ctxFor(t), b, bus.Manager(), to, "ask", nil)
		if err != nil || got != i+1 {
			t.Fatalf("ask via %v = %d, %v; want %d", to, got, err, i+1)
		}
	}

	// A panicking command is an error for its sender, not a crash.
	if _, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Service("counter"), "panic", nil); !errors.Is(err, bus.ErrHandlerPanic) {
		t.Fatalf("panic: err = %v, want ErrHandlerPanic", err)
	}
	if sts := m.Services(ctxFor(t)); len(sts) != 1 || !sts[0].Ready || sts[0].Restarts != 0 || sts[0].Crashes != 0 {
		t.Fatalf("after a panicking command: Services = %+v, want counter ready, never restarted", sts)
	}

	// A panic in Serve crashes the service; it is restarted.
	if _, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Service("counter"), "crash", nil); err != nil {
		t.Fatalf("crash: err = %v", err)
	}
	tl.waitFor(t, "the service crashed and is ready again", func(tl *tally) bool {
		return serviceStates(tl, "counter", "backoff") == 1 && serviceStates(tl, "counter", "ready") == 2
	})
	tl.mu.Lock()
	var crash cluster.Event
	for _, e := range tl.events {
		if e.Kind == cluster.EventServiceState && e.State == "backoff" {
			crash = e
		}
	}
	tl.mu.Unlock()
	if crash.Panic == nil || crash.Cluster != -1 {
		t.Fatalf("crash event = %+v, want a panic", crash)
	}
	if got, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Service("counter"), "incr", nil); err != nil || got != 3 {
		t.Fatalf("incr after the crash = %d, %v", got, err)
	}

	// Restart by name.
	if err := m.RestartService(ctxFor(t), "counter"); err != nil {
		t.Fatal(err)
	}
	tl.waitFor(t, "ready after RestartService", func(tl *tally) bool { return serviceStates(tl, "counter", "ready") == 3 })
	if sts := m.Services(ctxFor(t)); len(sts) != 1 || sts[0].Name != "counter" || sts[0].Restarts != 2 {
		t.Fatalf("Services = %+v", sts)
	}
	// Services carries the service's own Stats figures, as the stats do.
	if sts := m.Services(ctxFor(t)); len(sts) != 1 || sts[0].Custom["count"] != int64(3) {
		t.Fatalf("Services = %+v, want counter's Custom count 3", sts)
	}

	// Add one after start, see both in the stats, stop it.
	if err := m.AddService("second", newCounter()); err != nil {
		t.Fatal(err)
	}
	if err := m.AddService("second", newCounter()); !errors.Is(err, service.ErrDuplicate) {
		t.Fatalf("duplicate: err = %v", err)
	}
	// Until its first run starts, the new service is known but stopped.
	tl.waitFor(t, "second ready", func(tl *tally) bool { return serviceStates(tl, "second", "ready") == 1 })
	if got, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Service("second"), "incr", nil); err != nil || got != 1 {
		t.Fatalf("second incr = %d, %v", got, err)
	}
	snap, err := m.Stats(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	sv, ok := snap.Service("counter")
	if !ok || !sv.Ready || sv.Custom["count"] != int64(3) || sv.Restarts != 2 {
		t.Fatalf("counter stats = %+v", sv)
	}
	if _, ok := snap.Service("second"); !ok || snap.Totals.Services != 2 {
		t.Fatalf("second service missing from %+v", snap.Services)
	}
	if err := m.StopService(ctxFor(t), "second"); err != nil {
		t.Fatal(err)
	}
	snap, err = m.Stats(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Service("second"); ok || snap.Totals.Services != 1 {
		t.Fatalf("stopped service still in the stats: %+v", snap.Services)
	}
	if _, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Service("second"), "incr", nil); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("stopped service: err = %v, want ErrNoTarget", err)
	}
	if err := m.StopService(ctxFor(t), "second"); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("stop twice: err = %v", err)
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := m.AddService("late", newCounter()); !errors.Is(err, service.ErrClosed) {
		t.Fatalf("AddService after Run: err = %v, want ErrClosed", err)
	}
	if err := m.RestartService(ctxFor(t), "counter"); !errors.Is(err, service.ErrNotServing) {
		t.Fatalf("RestartService after Run: err = %v", err)
	}
}

func TestNewValidatesServices(t *testing.T) {
	t.Parallel()
	const token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b"
	worker := WithWorker(func() cluster.Worker { return &tallyWorker{} })
	tests := []struct {
		name string
		opts []Option
		want error
	}{
		{"empty name", []Option{WithService("", newCounter())}, service.ErrInvalidName},
		{"bad name", []Option{WithService("a b/*", newCounter())}, service.ErrInvalidName},
		{"nil service", []Option{WithService("x", nil)}, service.ErrInvalidName},
		{"duplicate", []Option{WithService("x", newCounter()), WithService("x", newCounter())}, service.ErrDuplicate},
		{"fine", []Option{WithService("x", newCounter()), WithService("y", newCounter())}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := New(token, append([]Option{worker}, tt.opts...)...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if m == nil {
				return
			}
			// A Manager that never runs: its store is made on first use
			// and released by Close.
			if m.Store() == nil || len(m.Services(ctxFor(t))) != 2 {
				t.Fatalf("store %v, services %+v", m.Store(), m.Services(ctxFor(t)))
			}
			m.Close()
			if err := m.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
				t.Fatalf("Run after Close = %v", err)
			}
			if err := m.AddService("z", newCounter()); !errors.Is(err, service.ErrClosed) {
				t.Fatalf("AddService after Close = %v", err)
			}
		})
	}
}
