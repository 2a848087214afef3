package services

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/service"
)

// TestParallelStress adds, commands, restarts, reads and stops services from
// many goroutines at once, then checks that everything is gone and every
// error was one the API documents.
func TestParallelStress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.serve()
		const workers, rounds = 8, 25
		allowed := []error{bus.ErrTargetStopped, bus.ErrNoTarget, bus.ErrTimeout, service.ErrNotFound, service.ErrDuplicate, context.DeadlineExceeded}
		check := func(what string, err error) error {
			if err == nil {
				return nil
			}
			for _, a := range allowed {
				if errors.Is(err, a) {
					return nil
				}
			}
			return fmt.Errorf("%s: unexpected error %v", what, err)
		}
		var wg sync.WaitGroup
		var answered atomic.Int64
		errs := make(chan error, workers*rounds*4)
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					// Neighbouring workers share names, so operations race.
					name := fmt.Sprintf("s%d", (w+i)%(workers/2))
					errs <- check("add", h.reg.Add(name, newEcho(), service.WithRestartPolicy(fastPolicy)))
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					_, err := request[greeting](ctx, h, name, "greet", struct{ Name string }{name})
					if err == nil {
						answered.Add(1)
					}
					errs <- check("command", err)
					errs <- check("restart", h.reg.Restart(ctx, name))
					_ = h.reg.Stats(ctx)
					if i%3 == 0 {
						errs <- check("stop", h.reg.Stop(ctx, name))
					}
					cancel()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if answered.Load() == 0 {
			t.Error("no command was ever answered")
		}
		ctx := context.Background()
		for _, st := range h.reg.Stats(ctx) {
			if err := h.reg.Stop(ctx, st.Name); err != nil {
				t.Errorf("final Stop(%s) = %v", st.Name, err)
			}
		}
		if st := h.reg.Stats(ctx); len(st) != 0 {
			t.Errorf("Stats after stopping all = %+v", st)
		}
		// Drain events so the harness hook never drops any.
		for len(h.events) > 0 {
			<-h.events
		}
	})
}
