package megane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/shard"
)

// leakToken is the token of TestTokenNeverLeaks: its three parts are long
// enough not to show up by chance. The first is base64 of
// 987654321098765432, the application ID.
const leakToken = "OTg3NjU0MzIxMDk4NzY1NDMy.TsPartQ7w.SecretPartZk3Jq9Lm2Xw8Vb5Nc1"

// evidence collects every text the test must search: errors, events,
// printed values, stats and metrics.
type evidence struct {
	mu    sync.Mutex
	texts []string
}

func (e *evidence) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.texts = append(e.texts, fmt.Sprintf(format, args...))
}

func (e *evidence) err(what string, err error) {
	if err != nil {
		e.add("%s: %v | %+v | %#v", what, err, err, err)
	}
}

// event records an Event every way it may be printed, with its error and
// its panic's value and stack.
func (e *evidence) event(ev cluster.Event) {
	e.add("%v | %+v", ev, ev)
	if ev.Err != nil {
		e.err("event err", ev.Err)
	}
	if ev.Panic != nil {
		e.add("panic %v | %s", ev.Panic.Value, ev.Panic.Stack)
	}
}

// leakyWorker panics in a listener on its cluster's third MESSAGE_CREATE
// (once per process), answers the command "fail" with an error, and
// reports every event to a tally.
type leakyWorker struct {
	t        *tally
	panicked *sync.Once
}

func (w *leakyWorker) Launch(_ context.Context, c *cluster.Cluster) error {
	c.AddEventListeners(bot.NewListenerFunc(func(e bot.Event) {
		if n := w.t.got(c, e); n == 3 && c.ID() == 0 {
			w.panicked.Do(func() { panic("listener bug") })
		}
	}))
	return nil
}

// HandleMessage makes leakyWorker a bus.Handler that fails every command.
func (w *leakyWorker) HandleMessage(context.Context, *bus.Message) (any, error) {
	return nil, errors.New("command failed")
}

// stuckService takes commands only when told: its mailbox fills up.
type stuckService struct{ release chan struct{} }

func (s *stuckService) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	<-ctx.Done()
	return nil
}

// HandleMessage makes stuckService a bus.Handler: "fail" fails, anything
// else waits for release.
func (s *stuckService) HandleMessage(ctx context.Context, msg *bus.Message) (any, error) {
	if msg.Topic == "fail" {
		return nil, errors.New("service command failed")
	}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return 0, nil
}

// TestTokenNeverLeaks runs Managers with a known token through every
// error path it can provoke and searches everything they say: every log
// line at debug level (JSON), every error returned, every lifecycle
// event's error and panic (value and stack), the Manager and its
// clusters printed with fmt and slog, a stats snapshot as JSON and the
// Prometheus exposition. Neither the token nor any of its three parts may
// appear.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))
	ev := &evidence{}
	fakeOpts := []discordtest.Option{discordtest.WithToken(leakToken), discordtest.WithLogger(log),
		discordtest.WithHeartbeatInterval(300 * time.Millisecond)}

	t.Run("faults while running", func(t *testing.T) {
		fake := newFake(t, 2, fakeOpts...)
		tl := newTally()
		stuck := &stuckService{release: make(chan struct{})}
		m, err := New(leakToken, append(baseOpts(fake, tl), WithLogger(log), WithClusters(2),
			WithEventHandler(func(e cluster.Event) { tl.event(e); ev.event(e) }),
			WithShardOptions(shard.WithBackoff(time.Millisecond, 10*time.Millisecond)),
			WithService("stuck", stuck, service.WithMailboxCapacity(1)),
			WithWorker(func() cluster.Worker { return &leakyWorker{t: tl, panicked: &sync.Once{}} }))...)
		if err != nil {
			t.Fatal(err)
		}
		stop, _ := run(t, m)
		waitAllReady(t, tl)
		ctx := ctxFor(t)

		// A listener panic: cluster 0 crashes and resumes.
		if err := fake.Emit(0, 3); err != nil {
			t.Fatal(err)
		}
		tl.waitFor(t, "the listener panic and the restart", func(tl *tally) bool {
			return tl.count(cluster.EventCrashed, 0) == 1 && tl.count(cluster.EventReady, 0) == 2
		})

		// A failing command and eval on the clusters, an unknown eval
		// function, a failing service command.
		rs := bus.Broadcast[any](ctx, m.Bus(), bus.Manager(), bus.AllClusters(), "fail", nil)
		for _, r := range rs {
			ev.err("broadcast result", r.Err)
		}
		evs, err := bus.Eval(ctx, m.Bus(), bus.Manager(), bus.AllClusters(), func(context.Context, *cluster.Cluster) (int, error) {
			return 0, errors.New("eval failed")
		})
		ev.err("eval", err)
		for _, r := range evs {
			ev.err("eval result", r.Err)
		}
		_, err = bus.EvalFunc[int, int](ctx, m.Bus(), bus.Manager(), bus.AllClusters(), "not.registered", 1)
		if !errors.Is(err, bus.ErrUnknownFunc) {
			t.Fatalf("EvalFunc of an unregistered name = %v, want bus.ErrUnknownFunc", err)
		}
		ev.err("evalfunc", err)
		_, err = bus.Request[int](ctx, m.Bus(), bus.Manager(), bus.Service("stuck"), "fail", nil)
		ev.err("service command", err)

		// A full mailbox: one command held, one queued, the next refused.
		held := make(chan error, 1)
		go func() {
			_, err := bus.Request[int](ctx, m.Bus(), bus.Manager(), bus.Service("stuck"), "hold", nil)
			held <- err
		}()
		full := false
		for range 1000 {
			err := m.Bus().Send(ctx, bus.Manager(), bus.Service("stuck"), "hold", nil)
			ev.err("send", err)
			if errors.Is(err, bus.ErrMailboxFull) {
				full = true
				break
			}
		}
		close(stuck.release)
		ev.err("held command", <-held)
		if !full {
			t.Fatal("the mailbox never filled")
		}

		// Shard faults: op 9, a zombie connection, malformed frames.
		if err := fake.InvalidSession(1, false); err != nil {
			t.Fatal(err)
		}
		if err := fake.SendMalformed(0); err != nil {
			t.Fatal(err)
		}
		if err := fake.WithholdAcks(0, true); err != nil {
			t.Fatal(err)
		}
		tl.waitFor(t, "the zombie disconnect", func(tl *tally) bool {
			for _, e := range tl.events {
				if e.Kind == cluster.EventShardDisconnected && errors.Is(e.Err, shard.ErrZombie) {
					return true
				}
			}
			return false
		})
		tl.waitFor(t, "the resume after the zombie", func(tl *tally) bool {
			for i, e := range tl.events {
				if e.Kind == cluster.EventShardDisconnected && errors.Is(e.Err, shard.ErrZombie) {
					for _, later := range tl.events[i:] {
						if later.Kind == cluster.EventShardResumed && later.Shard == 0 {
							return true
						}
					}
				}
			}
			return false
		})

		// What a user may print or export.
		snap, err := m.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(snap)
		if err != nil {
			t.Fatal(err)
		}
		ev.add("stats %s", js)
		reg := prometheus.NewRegistry()
		reg.MustRegister(m.PrometheusCollector())
		rec := httptest.NewRecorder()
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "megane_") {
			t.Fatalf("metrics: %d %q", rec.Code, rec.Body.String())
		}
		ev.add("metrics %s", rec.Body.String())
		ev.add("manager %v %+v %#v %s", m, m, m, m)
		textLog := slog.New(slog.NewTextHandler(logs, nil))
		log.Info("printed", slog.Any("manager", m))
		textLog.Info("printed", slog.Any("manager", m))
		for _, info := range m.Clusters() {
			ev.add("info %+v", info)
			c, err := m.Cluster(info.ID)
			if err != nil {
				t.Fatal(err)
			}
			ev.add("cluster %v %+v %#v %s", c, c, c, c)
			log.Info("printed", slog.Any("cluster", c))
			textLog.Info("printed", slog.Any("cluster", c))
		}
		ev.err("Run", stop())
	})

	t.Run("close 4004", func(t *testing.T) {
		fake := newFake(t, 1, fakeOpts...)
		tl := newTally()
		m, err := New(leakToken, append(baseOpts(fake, tl), WithLogger(log), WithWorker(workerOf(tl)),
			WithEventHandler(func(e cluster.Event) { tl.event(e); ev.event(e) }))...)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- m.Run(context.Background()) }()
		waitAllReady(t, tl)
		if err := fake.CloseShard(0, 4004); err != nil {
			t.Fatal(err)
		}
		err = waitRun(t, done)
		if !errors.Is(err, shard.ErrInvalidToken) {
			t.Fatalf("Run = %v, want ErrInvalidToken", err)
		}
		ev.err("Run after 4004", err)
	})

	t.Run("REST 401", func(t *testing.T) {
		fake := newFake(t, 1, append(fakeOpts, discordtest.WithToken("MTExMTExMTExMTExMTExMTEx.other.token"))...)
		tl := newTally()
		m, err := New(leakToken, append(baseOpts(fake, tl), WithLogger(log), WithWorker(workerOf(tl)),
			WithEventHandler(ev.event))...)
		if err != nil {
			t.Fatal(err)
		}
		err = runFor(t, m)
		if !errors.Is(err, shard.ErrInvalidToken) {
			t.Fatalf("Run = %v, want ErrInvalidToken", err)
		}
		ev.err("Run after 401", err)
	})

	if t.Failed() {
		return
	}
	secrets := append([]string{leakToken}, strings.Split(leakToken, ".")...)
	ev.mu.Lock()
	all := append(ev.texts, logs.String())
	ev.mu.Unlock()
	if !strings.Contains(logs.String(), `"level":"DEBUG"`) {
		t.Fatal("no debug line was logged")
	}
	for _, text := range all {
		for _, s := range secrets {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("%q appears in: …%s…", s, text[max(0, i-200):min(len(text), i+len(s)+50)])
				break
			}
		}
	}
}
