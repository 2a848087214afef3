package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var discard = slog.New(slog.DiscardHandler)

// fastPolicy restarts quickly and deterministically (no jitter).
var fastPolicy = supervisor.Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, Multiplier: 2, MaxRestarts: 10, Window: time.Minute}

// harness runs a Registry over a fresh bus and records every event.
type harness struct {
	t       *testing.T
	bus     *bus.Bus
	reg     *Registry
	events  chan supervisor.Event
	skipped []supervisor.Event // read from events but not yet asked for; only waitFor touches it
	dropped atomic.Int64
	cancel  context.CancelFunc
	done    <-chan error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, bus: bus.New(bus.WithLogger(discard)), events: make(chan supervisor.Event, 1024)}
	h.reg = NewRegistry(h.bus, nil, WithLogger(discard), WithEventHook(func(e supervisor.Event) {
		select {
		case h.events <- e:
		default:
			h.dropped.Add(1)
		}
	}))
	return h
}

// serve starts the registry; the test's cleanup stops it and waits.
func (h *harness) serve() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = h.reg.ServeBackground(ctx)
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Registry.Serve = %v, want nil", err)
	}
	h.cancel = nil
	if n := h.dropped.Load(); n > 0 {
		h.t.Errorf("%d events dropped by the test hook", n)
	}
}

// waitFor returns the next event of service name that enters state to,
// skipping that service's other events (other services' events are kept for
// later calls). Inside a synctest bubble a missing event is a deadlock
// that fails the test rather than hanging.
func (h *harness) waitFor(name string, to supervisor.State) supervisor.Event {
	h.t.Helper()
	for i, e := range h.skipped {
		if e.Name == name && e.To == to {
			h.skipped = append(h.skipped[:i:i], h.skipped[i+1:]...)
			return e
		}
	}
	for e := range h.events {
		if e.Name == name && e.To == to {
			return e
		}
		if e.Name != name {
			h.skipped = append(h.skipped, e) // another service's: keep it for later
		}
	}
	h.t.Fatalf("event channel closed before %s entered %v", name, to)
	return supervisor.Event{}
}

// request sends a command to a service as cluster 0 would.
func request[Resp any](ctx context.Context, h *harness, service, name string, payload any) (Resp, error) {
	return bus.Request[Resp](ctx, h.bus, bus.Cluster(0), bus.Service(service), name, payload)
}

// svc is a configurable test service. serve is called with the 1-based run
// number.
type svc struct {
	serve func(ctx context.Context, sc *service.Context, run int) error
	runs  atomic.Int32
}

func (s *svc) Serve(ctx context.Context, sc *service.Context) error {
	return s.serve(ctx, sc, int(s.runs.Add(1)))
}

// readyServe calls Ready and serves until ctx ends.
func readyServe(ctx context.Context, sc *service.Context, _ int) error {
	sc.Ready()
	<-ctx.Done()
	return nil
}

// echo is a service with commands, stats and an AllClustersReady hook.
type echo struct {
	svc
	mux        bus.Mux // the commands, registered by newEcho
	statsPanic bool    // Stats panics
	handled    atomic.Int32
	allReady   atomic.Int32
	allReadyC  chan struct{}
}

type greeting struct {
	Hello string `json:"hello"`
	Run   int    `json:"run"`
}

var errNope = errors.New("nope")

// HandleMessage makes echo a bus.Handler: it counts the command and hands
// it to the mux.
func (e *echo) HandleMessage(ctx context.Context, msg *bus.Message) (any, error) {
	e.handled.Add(1)
	return e.mux.HandleMessage(ctx, msg)
}

func (e *echo) greet(_ context.Context, in struct{ Name string }) (greeting, error) {
	return greeting{Hello: in.Name, Run: int(e.runs.Load())}, nil
}

func (e *echo) panicCommand(context.Context, any) (any, error) { panic("command exploded") }

func (e *echo) Stats() map[string]any {
	if e.statsPanic {
		panic("stats exploded")
	}
	return map[string]any{"handled": int(e.handled.Load())}
}

func (e *echo) AllClustersReady(context.Context) {
	e.allReady.Add(1)
	if e.allReadyC != nil {
		e.allReadyC <- struct{}{}
	}
}

func newEcho() *echo {
	e := &echo{}
	e.serve = readyServe
	bus.Handle(&e.mux, "greet", e.greet)
	bus.Handle(&e.mux, "raw", func(_ context.Context, payload json.RawMessage) (string, error) { return string(payload), nil })
	bus.Handle(&e.mux, "fail", func(context.Context, any) (any, error) { return nil, fmt.Errorf("refusing: %w", errNope) })
	bus.Handle(&e.mux, "panic", e.panicCommand)
	bus.Handle(&e.mux, "block", func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	return e
}
