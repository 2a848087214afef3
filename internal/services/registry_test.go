package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

func TestServiceReady(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		if err := h.reg.Add("echo", e); err != nil {
			t.Fatal(err)
		}
		if st := h.reg.Stats(t.Context()); len(st) != 1 || st[0].State != supervisor.StateIdle {
			t.Fatalf("before Serve: %+v", st)
		}
		h.serve()
		h.waitFor("echo", supervisor.StateReady)
		st := h.reg.Stats(t.Context())
		if len(st) != 1 || st[0].Name != "echo" || !st[0].Ready || st[0].Restarts != 0 || st[0].LastError != nil {
			t.Errorf("Stats = %+v", st)
		}
	})
}

func TestContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		got := make(chan *service.Context, 1)
		s := &svc{serve: func(ctx context.Context, sc *service.Context, _ int) error {
			got <- sc
			return readyServe(ctx, sc, 0)
		}}
		if err := h.reg.Add("ctx", s); err != nil {
			t.Fatal(err)
		}
		h.serve()
		sc := <-got
		if sc.Name() != "ctx" || sc.Bus() != h.bus || sc.Store() != nil || sc.Logger() == nil {
			t.Errorf("Context = %q %p %p %v", sc.Name(), sc.Bus(), sc.Store(), sc.Logger())
		}
	})
}

func TestReadyTimeoutRestarts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		// The first run never becomes ready; the second does.
		s := &svc{serve: func(ctx context.Context, sc *service.Context, run int) error {
			if run > 1 {
				sc.Ready()
			}
			<-ctx.Done()
			return nil
		}}
		if err := h.reg.Add("slow", s, service.WithReadyTimeout(time.Second), service.WithRestartPolicy(fastPolicy)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		h.serve()
		crash := h.waitFor("slow", supervisor.StateBackoff)
		var rte *service.ReadyTimeoutError
		if !errors.As(crash.Err, &rte) || !errors.Is(crash.Err, service.ErrReadyTimeout) || rte.Timeout != time.Second || rte.Service != "slow" {
			t.Fatalf("crash = %v, want a *service.ReadyTimeoutError", crash.Err)
		}
		if got := crash.At.Sub(start); got != time.Second {
			t.Errorf("crashed after %v (virtual), want 1s", got)
		}
		h.waitFor("slow", supervisor.StateReady)
		if got := time.Since(start); got != time.Second+fastPolicy.MinBackoff {
			t.Errorf("ready after %v (virtual), want 1.1s", got)
		}
		st := h.reg.Stats(t.Context())[0]
		if st.Restarts != 1 || st.Crashes != 1 || !errors.Is(st.LastError, service.ErrReadyTimeout) {
			t.Errorf("status = %+v", st)
		}
		// A ready run is not cut by the timeout later.
		time.Sleep(5 * time.Second)
		if st := h.reg.Stats(t.Context())[0]; st.State != supervisor.StateReady || st.Restarts != 1 {
			t.Errorf("after the timeout elapsed again: %+v", st)
		}
	})
}

func TestPanicRestartsWithBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		e.serve = func(ctx context.Context, sc *service.Context, run int) error {
			if run <= 2 {
				panicInServe(run)
			}
			return readyServe(ctx, sc, run)
		}
		if err := h.reg.Add("crashy", e, service.WithRestartPolicy(fastPolicy)); err != nil {
			t.Fatal(err)
		}
		h.serve()
		for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
			ev := h.waitFor("crashy", supervisor.StateBackoff)
			if ev.Panic == nil || !strings.Contains(string(ev.Panic.Stack), "panicInServe") {
				t.Fatalf("crash %d: panic = %v, want a PanicError whose stack names panicInServe", i+1, ev.Panic)
			}
			if ev.Delay != want {
				t.Errorf("crash %d: backoff %v, want %v", i+1, ev.Delay, want)
			}
		}
		h.waitFor("crashy", supervisor.StateReady)
		g, err := request[greeting](t.Context(), h, "crashy", "greet", struct{ Name string }{"ada"})
		if err != nil || g != (greeting{Hello: "ada", Run: 3}) {
			t.Errorf("after recovery: %+v, %v", g, err)
		}
		var pe *supervisor.PanicError
		if st := h.reg.Stats(t.Context())[0]; st.Crashes != 2 || !errors.As(st.LastError, &pe) {
			t.Errorf("status = %+v", st)
		}
	})
}

func panicInServe(run int) {
	panic("boom in run " + string(rune('0'+run)))
}

func TestCommands(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		if err := h.reg.Add("echo", newEcho()); err != nil {
			t.Fatal(err)
		}
		if err := h.reg.Add("mute", &svc{serve: readyServe}); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("echo", supervisor.StateReady)
		h.waitFor("mute", supervisor.StateReady)

		ctx := t.Context()
		tests := []struct {
			name  string
			check func() error
		}{
			{"typed reply", func() error {
				g, err := request[greeting](ctx, h, "echo", "greet", struct{ Name string }{"bob"})
				if err != nil || g != (greeting{Hello: "bob", Run: 1}) {
					return fmt.Errorf("greet = %+v, %v", g, err)
				}
				return nil
			}},
			{"plain bus.Request to bus.Service(name)", func() error {
				g, err := bus.Request[greeting](ctx, h.bus, bus.Cluster(0), bus.Service("echo"), "greet", json.RawMessage(`{"Name": "eve"}`))
				if err != nil || g.Hello != "eve" {
					return fmt.Errorf("bus.Request = %+v, %v", g, err)
				}
				return nil
			}},
			{"raw JSON passes through", func() error {
				s, err := request[string](ctx, h, "echo", "raw", json.RawMessage(`{"a": 1}`))
				if err != nil || s != `{"a": 1}` {
					return fmt.Errorf("raw = %q, %v", s, err)
				}
				return nil
			}},
			{"nil payload", func() error {
				s, err := request[string](ctx, h, "echo", "raw", nil)
				if err != nil || s != "" {
					return fmt.Errorf("raw(nil) = %q, %v", s, err)
				}
				return nil
			}},
			{"handler error carries its message", func() error {
				_, err := request[greeting](ctx, h, "echo", "fail", nil)
				var he *bus.HandlerError
				if !errors.As(err, &he) || he.Msg != "refusing: nope" || !errors.Is(err, errNope) || he.Target != bus.Service("echo") {
					return fmt.Errorf("fail = %v", err)
				}
				return nil
			}},
			{"wrong reply type", func() error {
				_, err := request[int](ctx, h, "echo", "greet", struct{ Name string }{"x"})
				var te *bus.TypeError
				if !errors.As(err, &te) {
					return fmt.Errorf("err = %v, want *bus.TypeError", err)
				}
				return nil
			}},
			{"payload not JSON-encodable", func() error {
				_, err := request[string](ctx, h, "echo", "raw", make(chan int))
				if !errors.Is(err, bus.ErrInvalidPayload) {
					return fmt.Errorf("err = %v, want bus.ErrInvalidPayload", err)
				}
				return nil
			}},
			{"service without commands", func() error {
				_, err := request[string](ctx, h, "mute", "hi", nil)
				if !errors.Is(err, bus.ErrUnknownTopic) {
					return fmt.Errorf("err = %v, want bus.ErrUnknownTopic", err)
				}
				return nil
			}},
			{"unknown service", func() error {
				_, err := request[string](ctx, h, "nobody", "hi", nil)
				if !errors.Is(err, bus.ErrNoTarget) {
					return fmt.Errorf("err = %v, want bus.ErrNoTarget", err)
				}
				return nil
			}},
			{"timeout", func() error {
				tctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				_, err := request[string](tctx, h, "echo", "block", nil)
				if !errors.Is(err, bus.ErrTimeout) {
					return fmt.Errorf("err = %v, want bus.ErrTimeout", err)
				}
				return nil
			}},
		}
		// t.Run is not allowed inside a synctest bubble: run the table inline.
		for _, tt := range tests {
			if err := tt.check(); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	})
}

func TestCommandWaitsForReady(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		release := make(chan struct{})
		e := newEcho()
		e.serve = func(ctx context.Context, sc *service.Context, run int) error {
			<-release
			return readyServe(ctx, sc, run)
		}
		if err := h.reg.Add("late", e); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("late", supervisor.StateRunning)
		synctest.Wait() // the run has attached its mailbox and waits for release
		reply := make(chan error, 1)
		go func() {
			_, err := request[greeting](t.Context(), h, "late", "greet", struct{ Name string }{"x"})
			reply <- err
		}()
		synctest.Wait()
		if n := e.handled.Load(); n != 0 {
			t.Fatalf("command handled before Ready (%d)", n)
		}
		close(release)
		if err := <-reply; err != nil {
			t.Errorf("queued command = %v", err)
		}
	})
}

// TestCommandPanicKeepsServiceRunning proves that a panicking
// command handler gives the requester a *bus.HandlerError with the stack,
// and that the run goes on: no restart, no crash, and the same run answers
// the next command.
func TestCommandPanicKeepsServiceRunning(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		if err := h.reg.Add("echo", e, service.WithRestartPolicy(fastPolicy)); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("echo", supervisor.StateReady)
		_, err := request[string](t.Context(), h, "echo", "panic", nil)
		var he *bus.HandlerError
		if !errors.Is(err, bus.ErrHandlerPanic) || !errors.As(err, &he) {
			t.Fatalf("panic command = %v, want a *bus.HandlerError matching bus.ErrHandlerPanic", err)
		}
		if he.Target != bus.Service("echo") || he.Topic != "panic" || he.Msg != "panic: command exploded" ||
			!strings.Contains(string(he.Stack), "services.(*echo).panicCommand") {
			t.Fatalf("HandlerError = {%v %q %q}, want service/echo, the panic and a stack naming panicCommand:\n%s",
				he.Target, he.Topic, he.Msg, he.Stack)
		}
		if g, err := request[greeting](t.Context(), h, "echo", "greet", struct{ Name string }{"y"}); err != nil || g.Run != 1 {
			t.Fatalf("after the panic: %+v, %v; want the first run", g, err)
		}
		st := h.reg.Stats(t.Context())
		if len(st) != 1 || st[0].State != supervisor.StateReady || st[0].Restarts != 0 || st[0].Crashes != 0 {
			t.Fatalf("Stats = %+v, want echo ready, never restarted", st)
		}
	})
}

// TestStatsPanicIsLogged proves that Registry.Stats survives a panicking
// Stats: no Custom for that service, a log line at error level with the
// stack, and the service keeps running.
func TestStatsPanicIsLogged(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs testutil.LogBuffer
		b := bus.New(bus.WithLogger(discard))
		reg := NewRegistry(b, nil, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		e := newEcho()
		e.statsPanic = true
		if err := reg.Add("echo", e); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := reg.ServeBackground(ctx)
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve = %v", err)
			}
		}()
		synctest.Wait() // Serve has called Ready and blocks on ctx
		st := reg.Stats(t.Context())
		if len(st) != 1 || !st[0].Ready || st[0].Custom != nil {
			t.Fatalf("Stats = %+v, want echo ready without Custom", st)
		}
		lines := logs.Lines("level=ERROR", "service Stats panicked")
		if len(lines) != 1 || !strings.Contains(lines[0], "services.(*echo).Stats") || strings.Count(lines[0], " service=echo") != 1 {
			t.Fatalf("want one error line with the stack and one service attribute; log:\n%s", logs.String())
		}
		if g, err := bus.Request[greeting](t.Context(), b, bus.Cluster(0), bus.Service("echo"), "greet", struct{ Name string }{"z"}); err != nil || g.Run != 1 {
			t.Fatalf("after the panic: %+v, %v; want the first run", g, err)
		}
		if st := reg.Stats(t.Context()); st[0].Restarts != 0 || st[0].Crashes != 0 {
			t.Fatalf("Stats = %+v, want no restart", st)
		}
	})
}

func TestDetachedWhileRestarting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		e.serve = func(ctx context.Context, sc *service.Context, run int) error {
			if run == 1 {
				sc.Ready()
				return errors.New("lost upstream")
			}
			return readyServe(ctx, sc, run)
		}
		pol := fastPolicy
		pol.MinBackoff = time.Minute
		if err := h.reg.Add("flaky", e, service.WithRestartPolicy(pol)); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("flaky", supervisor.StateBackoff)
		if _, err := request[greeting](t.Context(), h, "flaky", "greet", nil); !errors.Is(err, bus.ErrTargetStopped) {
			t.Errorf("during backoff: %v, want bus.ErrTargetStopped", err)
		}
		// Restart cuts the backoff short.
		if err := h.reg.Restart(t.Context(), "flaky"); err != nil {
			t.Fatal(err)
		}
		h.waitFor("flaky", supervisor.StateReady)
		if _, err := request[greeting](t.Context(), h, "flaky", "greet", struct{ Name string }{"z"}); err != nil {
			t.Errorf("after restart: %v", err)
		}
	})
}

func TestRestartByName(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		if err := h.reg.Add("echo", e); err != nil {
			t.Fatal(err)
		}
		if err := h.reg.Restart(t.Context(), "echo"); !errors.Is(err, service.ErrNotServing) {
			t.Errorf("Restart before Serve = %v, want service.ErrNotServing", err)
		}
		h.serve()
		h.waitFor("echo", supervisor.StateReady)
		if err := h.reg.Restart(t.Context(), "echo"); err != nil {
			t.Fatal(err)
		}
		h.waitFor("echo", supervisor.StateReady)
		if g, err := request[greeting](t.Context(), h, "echo", "greet", struct{ Name string }{"r"}); err != nil || g.Run != 2 {
			t.Errorf("after Restart: %+v, %v", g, err)
		}
		if st := h.reg.Stats(t.Context())[0]; st.Restarts != 1 || st.Crashes != 0 {
			t.Errorf("status after Restart = %+v (a restart is not a crash)", st)
		}
		if err := h.reg.Restart(t.Context(), "ghost"); !errors.Is(err, service.ErrNotFound) {
			t.Errorf("Restart(ghost) = %v, want service.ErrNotFound", err)
		}
	})
}

func TestRestartRevivesFailedService(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		e.serve = func(ctx context.Context, sc *service.Context, run int) error {
			if run <= 2 {
				return errors.New("bad config")
			}
			return readyServe(ctx, sc, run)
		}
		pol := fastPolicy
		pol.MaxRestarts = 1
		if err := h.reg.Add("cfg", e, service.WithRestartPolicy(pol)); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("cfg", supervisor.StateFailed)
		// Failed services stay listed and are not addressable.
		if st := h.reg.Stats(t.Context())[0]; st.State != supervisor.StateFailed || st.LastError == nil {
			t.Errorf("failed status = %+v", st)
		}
		if _, err := request[greeting](t.Context(), h, "cfg", "greet", nil); !errors.Is(err, bus.ErrTargetStopped) {
			t.Errorf("failed service: %v, want bus.ErrTargetStopped", err)
		}
		if err := h.reg.Restart(t.Context(), "cfg"); err != nil {
			t.Fatal(err)
		}
		h.waitFor("cfg", supervisor.StateReady)
		st := h.reg.Stats(t.Context())[0]
		if st.Restarts != 2 || st.Crashes != 2 || st.LastError == nil {
			t.Errorf("revived status = %+v", st)
		}
	})
}

func TestStats(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		if err := h.reg.Add("echo", e); err != nil {
			t.Fatal(err)
		}
		if err := h.reg.Add("plain", &svc{serve: readyServe}); err != nil {
			t.Fatal(err)
		}
		starting := &svc{serve: func(ctx context.Context, sc *service.Context, _ int) error { <-ctx.Done(); return nil }}
		if err := h.reg.Add("starting", starting); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("echo", supervisor.StateReady)
		h.waitFor("plain", supervisor.StateReady)
		h.waitFor("starting", supervisor.StateRunning)
		for range 3 {
			if _, err := request[greeting](t.Context(), h, "echo", "greet", struct{ Name string }{"s"}); err != nil {
				t.Fatal(err)
			}
		}
		st := h.reg.Stats(t.Context())
		if len(st) != 3 {
			t.Fatalf("Stats = %+v", st)
		}
		if st[0].Name != "echo" || st[0].Custom["handled"] != 3 {
			t.Errorf("echo custom = %v", st[0].Custom)
		}
		if st[1].Custom != nil || st[2].Custom != nil || st[2].Ready {
			t.Errorf("plain/starting = %+v / %+v", st[1], st[2])
		}
	})
}

func TestAllClustersReady(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		early := newEcho()
		if err := h.reg.Add("early", early); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("early", supervisor.StateReady)
		synctest.Wait()
		h.reg.NotifyAllClustersReady(t.Context())
		if n := early.allReady.Load(); n != 1 {
			t.Errorf("early: AllClustersReady called %d times, want 1", n)
		}
		late := newEcho()
		late.allReadyC = make(chan struct{}, 1)
		if err := h.reg.Add("late", late); err != nil {
			t.Fatal(err)
		}
		<-late.allReadyC // delivered after its first Ready
		h.reg.NotifyAllClustersReady(t.Context())
		if err := h.reg.Restart(t.Context(), "late"); err != nil {
			t.Fatal(err)
		}
		h.waitFor("late", supervisor.StateReady)
		synctest.Wait()
		if a, b := early.allReady.Load(), late.allReady.Load(); a != 1 || b != 1 {
			t.Errorf("calls: early %d, late %d; want 1 each", a, b)
		}
	})
}
