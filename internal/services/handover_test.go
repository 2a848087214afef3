package services

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// These tests cover the hand-over of the registry's state (see Registry):
// to Serve's goroutine when it starts, and back when it returns. A call
// that found neither an owner nor the idle state would block for good,
// which synctest reports as a deadlock.

// A second Serve while the first is serving finds the owner and fails at
// once.
func TestSecondServeWhileServing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.serve()
		if err := h.reg.Serve(t.Context()); !errors.Is(err, ErrAlreadyServed) {
			t.Errorf("second Serve while serving = %v, want ErrAlreadyServed", err)
		}
		errc := h.reg.ServeBackground(t.Context())
		if err := <-errc; !errors.Is(err, ErrAlreadyServed) {
			t.Errorf("ServeBackground while serving = %v, want ErrAlreadyServed", err)
		}
	})
}

// Services added while Serve takes over are all started: each Add is
// applied either to the idle state before the hand-over (Serve starts it)
// or by the owner after it (Add starts it).
func TestAddDuringHandOver(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		const n = 8
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := h.reg.Add(fmt.Sprintf("s%d", i), newEcho()); err != nil {
					t.Errorf("Add(s%d) = %v", i, err)
				}
			})
		}
		h.serve()
		wg.Wait()
		for i := range n {
			h.waitFor(fmt.Sprintf("s%d", i), supervisor.StateReady)
		}
		st := h.reg.Stats(t.Context())
		if len(st) != n {
			t.Fatalf("Stats = %+v, want %d services", st, n)
		}
		for _, s := range st {
			if !s.Ready || s.Custom == nil {
				t.Errorf("%s: %+v, want ready with Custom", s.Name, s)
			}
		}
	})
}

// After Serve has returned the state is back in idle: commands are applied
// by their callers again, with the same results as before the change.
func TestCommandsAfterServeReturned(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		e := newEcho()
		if err := h.reg.Add("echo", e); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("echo", supervisor.StateReady)
		h.stop()
		// Ready once and never told: it is told now, once.
		h.reg.NotifyAllClustersReady(t.Context())
		h.reg.NotifyAllClustersReady(t.Context())
		if n := e.allReady.Load(); n != 1 {
			t.Errorf("AllClustersReady after Serve returned: %d calls, want 1", n)
		}
		if err := h.reg.Restart(t.Context(), "echo"); !errors.Is(err, service.ErrNotServing) {
			t.Errorf("Restart after Serve returned = %v, want service.ErrNotServing", err)
		}
		if err := h.reg.Stop(t.Context(), "echo"); err != nil {
			t.Errorf("Stop after Serve returned = %v", err)
		}
		if st := h.reg.Stats(t.Context()); len(st) != 0 {
			t.Errorf("Stats after Stop = %+v", st)
		}
		if err := h.reg.Stop(t.Context(), "echo"); !errors.Is(err, service.ErrNotFound) {
			t.Errorf("second Stop = %v, want service.ErrNotFound", err)
		}
	})
}

// Stats with a context that is already done reads the snapshots only: it
// runs no service code, so a service whose mailbox is busy cannot hold it.
func TestStatsWithDoneContextRunsNoServiceCode(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		s := &countingStats{svc: svc{serve: readyServe}}
		if err := h.reg.Add("counted", s); err != nil {
			t.Fatal(err)
		}
		h.serve()
		h.waitFor("counted", supervisor.StateReady)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		st := h.reg.Stats(ctx)
		synctest.Wait()
		if len(st) != 1 || !st[0].Ready || st[0].Custom != nil || s.calls.Load() != 0 {
			t.Errorf("Stats(done ctx) = %+v after %d Stats calls, want ready, no Custom, no call", st, s.calls.Load())
		}
		if st := h.reg.Stats(t.Context()); st[0].Custom == nil || s.calls.Load() != 1 {
			t.Errorf("Stats = %+v after %d Stats calls, want Custom from one call", st, s.calls.Load())
		}
	})
}

// countingStats counts its Stats calls.
type countingStats struct {
	svc
	calls atomic.Int32
}

func (c *countingStats) Stats() map[string]any {
	return map[string]any{"calls": int(c.calls.Add(1))}
}
