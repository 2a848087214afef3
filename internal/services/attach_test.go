package services

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// gatedRegistry is a registry whose hook holds the service called name in
// state Starting (before Run) the holdAt-th time it gets there, until gate
// is closed. That is the window in which a command used to fail with
// bus.ErrTargetStopped although the registry had said it was serving.
func gatedRegistry(name string, holdAt int, gate <-chan struct{}) (*bus.Bus, *Registry) {
	b := bus.New(bus.WithLogger(discard))
	var starts atomic.Int32 // each unit calls the hook from its own goroutine
	reg := NewRegistry(b, nil, WithLogger(discard), WithEventHook(func(e supervisor.Event) {
		if e.Name == name && e.To == supervisor.StateStarting && int(starts.Add(1)) == holdAt {
			<-gate
		}
	}))
	return b, reg
}

// TestCommandRightAfterStartWaitsForReady sends a command as soon as
// ServeBackground (or Add on a serving registry) has returned, while the
// service's first run has not started yet. The command must be queued and
// answered once the service is ready, not fail with bus.ErrTargetStopped.
func TestCommandRightAfterStartWaitsForReady(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		holdAt  int // the run held before it starts
		failRun int // a run that fails for good at once; 0: none
		start   func(reg *Registry, ctx context.Context, svc service.Service) (<-chan error, error)
	}{
		{"ServeBackground", 1, 0, func(reg *Registry, ctx context.Context, svc service.Service) (<-chan error, error) {
			if err := reg.Add("echo", svc); err != nil {
				return nil, err
			}
			return reg.ServeBackground(ctx), nil
		}},
		{"Add while serving", 1, 0, func(reg *Registry, ctx context.Context, svc service.Service) (<-chan error, error) {
			done := reg.ServeBackground(ctx)
			return done, reg.Add("echo", svc)
		}},
		{"Restart of a failed service", 2, 1, func(reg *Registry, ctx context.Context, svc service.Service) (<-chan error, error) {
			if err := reg.Add("echo", svc); err != nil {
				return nil, err
			}
			done := reg.ServeBackground(ctx)
			synctest.Wait() // run 1 fails for good
			if st := reg.Stats(ctx)[0]; st.State != supervisor.StateFailed {
				return done, fmt.Errorf("state %v before Restart, want failed", st.State)
			}
			return done, reg.Restart(ctx, "echo")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				gate := make(chan struct{})
				release := sync.OnceFunc(func() { close(gate) })
				b, reg := gatedRegistry("echo", tc.holdAt, gate)
				e := newEcho()
				e.serve = func(ctx context.Context, sc *service.Context, run int) error {
					if run == tc.failRun {
						return supervisor.NoRestart(errors.New("bad config"))
					}
					return readyServe(ctx, sc, run)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done, err := tc.start(reg, ctx, e)
				if err != nil {
					release()
					cancel()
					if done != nil {
						<-done
					}
					t.Fatal(err)
				}
				defer func() {
					release() // also after a failure, so the unit can stop
					cancel()
					if err := <-done; err != nil {
						t.Errorf("Serve = %v", err)
					}
				}()

				type result struct {
					g   greeting
					err error
				}
				got := make(chan result, 1)
				go func() {
					g, err := bus.Request[greeting](ctx, b, bus.Cluster(0), bus.Service("echo"), "greet", struct{ Name string }{"early"})
					got <- result{g, err}
				}()
				synctest.Wait() // the command is queued (or has already failed)
				select {
				case r := <-got:
					t.Fatalf("command finished before the service started: %+v, %v", r.g, r.err)
				default:
				}
				release()
				r := <-got
				if r.err != nil || r.g.Hello != "early" || r.g.Run != tc.holdAt {
					t.Errorf("command = %+v, %v; want it answered by run %d", r.g, r.err, tc.holdAt)
				}
			})
		})
	}
}

// TestQueuedCommandFailsWhenStoppedBeforeFirstRun stops a service whose
// first run has not started while a command waits in its pre-attached
// mailbox: the command must fail with bus.ErrTargetStopped (the mailbox is
// detached), not wait for its deadline.
func TestQueuedCommandFailsWhenStoppedBeforeFirstRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		b, reg := gatedRegistry("echo", 1, gate)
		if err := reg.Add("echo", newEcho()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := reg.ServeBackground(ctx)
		got := make(chan error, 1)
		go func() {
			_, err := bus.Request[greeting](context.Background(), b, bus.Cluster(0), bus.Service("echo"), "greet", nil)
			got <- err
		}()
		synctest.Wait()
		cancel() // the registry stops while the unit is held before its first run
		close(gate)
		if err := <-got; !errors.Is(err, bus.ErrTargetStopped) {
			t.Errorf("queued command = %v, want bus.ErrTargetStopped", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
}
