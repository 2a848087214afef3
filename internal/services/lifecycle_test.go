package services

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

func TestStop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		for _, name := range []string{"a", "b"} {
			if err := h.reg.Add(name, newEcho()); err != nil {
				t.Fatal(err)
			}
		}
		h.serve()
		h.waitFor("a", supervisor.StateReady)
		h.waitFor("b", supervisor.StateReady)
		if err := h.reg.Stop(t.Context(), "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := request[greeting](t.Context(), h, "a", "greet", nil); !errors.Is(err, bus.ErrNoTarget) {
			t.Errorf("stopped service: %v, want bus.ErrNoTarget", err)
		}
		if st := h.reg.Stats(t.Context()); len(st) != 1 || st[0].Name != "b" {
			t.Errorf("Stats after Stop = %+v", st)
		}
		if err := h.reg.Stop(t.Context(), "a"); !errors.Is(err, service.ErrNotFound) {
			t.Errorf("second Stop = %v, want service.ErrNotFound", err)
		}
		// The name can be used again.
		if err := h.reg.Add("a", newEcho()); err != nil {
			t.Fatal(err)
		}
		h.waitFor("a", supervisor.StateReady)
		if _, err := request[greeting](t.Context(), h, "a", "greet", struct{ Name string }{"again"}); err != nil {
			t.Errorf("re-added service: %v", err)
		}
	})
}

func TestStopBeforeServe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.reg.Add("a", newEcho()); err != nil {
		t.Fatal(err)
	}
	if err := h.reg.Stop(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if st := h.reg.Stats(t.Context()); len(st) != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestStopWaitsForServiceContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		release := make(chan struct{})
		s := &svc{serve: func(ctx context.Context, sc *service.Context, _ int) error {
			sc.Ready()
			<-ctx.Done()
			<-release // a slow shutdown
			return nil
		}}
		if err := h.reg.Add("slowstop", s); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("slowstop", supervisor.StateReady)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := h.reg.Stop(ctx, "slowstop"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v, want DeadlineExceeded", err)
		}
		if err := h.reg.Add("slowstop", newEcho()); !errors.Is(err, service.ErrDuplicate) {
			t.Errorf("Add while stopping = %v, want service.ErrDuplicate", err)
		}
		close(release)
		h.waitFor("slowstop", supervisor.StateStopped)
		synctest.Wait()
		if err := h.reg.Add("slowstop", newEcho()); err != nil {
			t.Errorf("Add after stopped = %v", err)
		}
	})
}

func TestAdd(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.serve()
		// Added after start: runs at once.
		if err := h.reg.Add("late", newEcho()); err != nil {
			t.Fatal(err)
		}
		h.waitFor("late", supervisor.StateReady)
		if _, err := request[greeting](t.Context(), h, "late", "greet", struct{ Name string }{"n"}); err != nil {
			t.Errorf("late service: %v", err)
		}
		tests := []struct {
			name string
			svc  service.Service
			want error
		}{
			{"late", newEcho(), service.ErrDuplicate},
			{"", newEcho(), service.ErrInvalidName},
			{"nil", nil, service.ErrInvalidName},
		}
		for _, tt := range tests {
			if err := h.reg.Add(tt.name, tt.svc); !errors.Is(err, tt.want) {
				t.Errorf("Add(%q) = %v, want %v", tt.name, err, tt.want)
			}
		}
		h.stop()
		if err := h.reg.Add("after", newEcho()); !errors.Is(err, service.ErrClosed) {
			t.Errorf("Add after Serve returned = %v, want service.ErrClosed", err)
		}
		if err := h.reg.Serve(t.Context()); !errors.Is(err, ErrAlreadyServed) {
			t.Errorf("second Serve = %v, want ErrAlreadyServed", err)
		}
		if st := h.reg.Stats(t.Context())[0]; st.State != supervisor.StateStopped {
			t.Errorf("after Serve returned: %+v", st)
		}
	})
}

func TestFinishedServiceStops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		s := &svc{serve: func(ctx context.Context, sc *service.Context, _ int) error {
			sc.Ready()
			return nil // done, no restart
		}}
		if err := h.reg.Add("oneshot", s); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("oneshot", supervisor.StateStopped)
		if n := s.runs.Load(); n != 1 {
			t.Errorf("runs = %d, want 1", n)
		}
	})
}

func TestBeforeServe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.reg.Add("queued", newEcho()); err != nil {
		t.Fatal(err)
	}
	// Registered but not running yet: retryable, not "no such target".
	if _, err := request[greeting](t.Context(), h, "queued", "greet", nil); !errors.Is(err, bus.ErrTargetStopped) {
		t.Errorf("before Serve: %v, want bus.ErrTargetStopped", err)
	}
	// An address attached by someone else is refused.
	if _, err := h.bus.Attach(bus.Service("taken"), nil); err != nil {
		t.Fatal(err)
	}
	if err := h.reg.Add("taken", newEcho()); !errors.Is(err, service.ErrDuplicate) || !errors.Is(err, bus.ErrAlreadyAttached) {
		t.Errorf("Add(taken) = %v, want service.ErrDuplicate and bus.ErrAlreadyAttached", err)
	}
}

// A run whose ready timeout has fired is already being torn down: a Ready it
// calls afterwards (a slow start that ignores ctx) must not make the service
// ready, reset its backoff, or start its mailbox. Before the fix, such a
// service flapped Running → Ready → Backoff and always restarted after
// MinBackoff instead of backing off.
func TestReadyAfterReadyTimeoutIsIgnored(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		s := &svc{serve: func(ctx context.Context, sc *service.Context, run int) error {
			time.Sleep(2 * time.Second) // slow start, past the 1 s timeout
			sc.Ready()
			<-ctx.Done()
			return nil
		}}
		if err := h.reg.Add("late", s, service.WithReadyTimeout(time.Second), service.WithRestartPolicy(fastPolicy)); err != nil {
			t.Fatal(err)
		}
		h.serve()
		want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
		for i, d := range want {
			ev := h.waitFor("late", supervisor.StateBackoff)
			if ev.From != supervisor.StateRunning {
				t.Errorf("crash %d: from %v, want running (never ready)", i+1, ev.From)
			}
			if !errors.Is(ev.Err, service.ErrReadyTimeout) {
				t.Errorf("crash %d: err = %v, want service.ErrReadyTimeout", i+1, ev.Err)
			}
			if ev.Delay != d {
				t.Errorf("crash %d: backoff %v, want %v", i+1, ev.Delay, d)
			}
		}
	})
}

// A run that returns NoRestart(err) stops the service for good (no backoff, no
// restart) with err visible; Restart revives it.
func TestFatalStopsWithoutRestart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		errConfig := errors.New("bad config")
		s := &svc{serve: func(ctx context.Context, sc *service.Context, run int) error {
			if run == 1 {
				return supervisor.NoRestart(errConfig)
			}
			return readyServe(ctx, sc, run)
		}}
		if err := h.reg.Add("fatal", s, service.WithRestartPolicy(fastPolicy)); err != nil {
			t.Fatal(err)
		}
		h.serve()
		ev := h.waitFor("fatal", supervisor.StateFailed)
		if ev.From != supervisor.StateRunning || !errors.Is(ev.Err, errConfig) {
			t.Fatalf("failure event = %+v, want running → failed with the config error", ev)
		}
		synctest.Wait()
		st := h.reg.Stats(t.Context())[0]
		if st.State != supervisor.StateFailed || st.Restarts != 0 || !errors.Is(st.LastError, errConfig) || s.runs.Load() != 1 {
			t.Fatalf("after a fatal error: %+v, %d runs", st, s.runs.Load())
		}
		if err := h.reg.Restart(t.Context(), "fatal"); err != nil {
			t.Fatalf("Restart = %v", err)
		}
		h.waitFor("fatal", supervisor.StateReady)
	})
}

// service.WithMailboxCapacity bounds the commands that wait for a service that is not
// ready yet; beyond it a fire-and-forget send fails with bus.ErrMailboxFull.
func TestMailboxCapacity(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		s := &svc{serve: func(ctx context.Context, _ *service.Context, _ int) error {
			<-ctx.Done() // never ready: the mailbox is never drained
			return nil
		}}
		if err := h.reg.Add("small", s, service.WithMailboxCapacity(2)); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("small", supervisor.StateRunning)
		synctest.Wait() // the run has attached its mailbox and blocks in Serve
		for i := range 2 {
			if err := h.bus.Send(t.Context(), bus.Cluster(0), bus.Service("small"), "x", nil); err != nil {
				t.Fatalf("send %d = %v", i, err)
			}
		}
		if err := h.bus.Send(t.Context(), bus.Cluster(0), bus.Service("small"), "x", nil); !errors.Is(err, bus.ErrMailboxFull) {
			t.Fatalf("send beyond capacity = %v, want bus.ErrMailboxFull", err)
		}
	})
}
