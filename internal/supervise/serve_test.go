package supervise

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/supervisor"
)

func TestCancelStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// state is where the unit is when the context is cancelled.
		state supervisor.State
		run   RunnerFunc
		want  []transition
	}{
		{"while running", supervisor.StateRunning, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			[]transition{{supervisor.StateIdle, supervisor.StateStarting, 1}, {supervisor.StateStarting, supervisor.StateRunning, 1}, {supervisor.StateRunning, supervisor.StateStopping, 1}, {supervisor.StateStopping, supervisor.StateStopped, 1}}},
		{"while ready", supervisor.StateReady, func(ctx context.Context) error { MarkHealthy(ctx); <-ctx.Done(); return errBoom },
			[]transition{{supervisor.StateIdle, supervisor.StateStarting, 1}, {supervisor.StateStarting, supervisor.StateRunning, 1}, {supervisor.StateRunning, supervisor.StateReady, 1}, {supervisor.StateReady, supervisor.StateStopping, 1}, {supervisor.StateStopping, supervisor.StateStopped, 1}}},
		{"while panicking on the way out", supervisor.StateRunning, func(ctx context.Context) error { <-ctx.Done(); panic("late") },
			[]transition{{supervisor.StateIdle, supervisor.StateStarting, 1}, {supervisor.StateStarting, supervisor.StateRunning, 1}, {supervisor.StateRunning, supervisor.StateStopping, 1}, {supervisor.StateStopping, supervisor.StateStopped, 1}}},
		{"in backoff", supervisor.StateBackoff, func(context.Context) error { return errBoom },
			[]transition{{supervisor.StateIdle, supervisor.StateStarting, 1}, {supervisor.StateStarting, supervisor.StateRunning, 1}, {supervisor.StateRunning, supervisor.StateBackoff, 1}, {supervisor.StateBackoff, supervisor.StateStopped, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				var rec recorder
				u := New("cancel", tt.run, WithPolicy(supervisor.Policy{MinBackoff: time.Hour}), WithEventHook(rec.hook), quiet())
				errc := u.ServeBackground(ctx)
				synctest.Wait()
				if got := u.State(); got != tt.state {
					t.Fatalf("state = %v, want %v", got, tt.state)
				}
				cancel()
				if err := <-errc; err != nil {
					t.Fatalf("Serve = %v, want nil", err)
				}
				if _, open := <-errc; open {
					t.Error("result channel not closed")
				}
				select {
				case <-u.Done():
				default:
					t.Error("Done not closed after Serve returned")
				}
				if u.State() != supervisor.StateStopped {
					t.Errorf("state = %v, want stopped", u.State())
				}
				assertTransitions(t, rec.transitions(), tt.want)
			})
		})
	}
}

func TestServeWithDoneContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		called := false
		var rec recorder
		u := New("done", RunnerFunc(func(context.Context) error { called = true; return nil }), WithEventHook(rec.hook), quiet())
		if err := <-u.ServeBackground(ctx); err != nil {
			t.Fatalf("Serve = %v", err)
		}
		if called {
			t.Error("runner called with a done context")
		}
		assertTransitions(t, rec.transitions(), []transition{{supervisor.StateIdle, supervisor.StateStopped, 0}})
	})
}

func TestServeOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		u := New("once", &blockingRunner{}, quiet())
		errc := u.ServeBackground(ctx)
		if err := u.Serve(ctx); !errors.Is(err, ErrAlreadyServed) {
			t.Errorf("second Serve = %v, want ErrAlreadyServed", err)
		}
		if err := <-u.ServeBackground(ctx); !errors.Is(err, ErrAlreadyServed) {
			t.Errorf("second ServeBackground = %v, want ErrAlreadyServed", err)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve = %v", err)
		}
		if err := u.Serve(t.Context()); !errors.Is(err, ErrAlreadyServed) {
			t.Errorf("Serve after stop = %v, want ErrAlreadyServed", err)
		}
	})
}

// TestEventsInOrder follows one unit through every kind of transition and
// checks the events, their order, attempts, errors and times.
func TestEventsInOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		restarted := make(chan struct{})
		calls := 0
		r := RunnerFunc(func(ctx context.Context) error {
			calls++
			switch calls {
			case 1: // healthy, then crash
				MarkHealthy(ctx)
				time.Sleep(time.Second)
				return errBoom
			case 2: // panic at once
				panic("two")
			case 3: // wait for an explicit restart
				close(restarted)
				<-ctx.Done()
				return ctx.Err()
			default: // finish normally
				return nil
			}
		})
		var rec recorder
		pol := supervisor.Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Minute, Multiplier: 2}
		u := New("events", r, WithPolicy(pol), WithEventHook(rec.hook), quiet())
		errc := u.ServeBackground(ctx)
		<-restarted
		synctest.Wait()
		if err := u.Restart(ctx); err != nil {
			t.Fatalf("Restart = %v", err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("Serve = %v", err)
		}
		want := []transition{
			{supervisor.StateIdle, supervisor.StateStarting, 1}, {supervisor.StateStarting, supervisor.StateRunning, 1}, {supervisor.StateRunning, supervisor.StateReady, 1}, {supervisor.StateReady, supervisor.StateBackoff, 1},
			{supervisor.StateBackoff, supervisor.StateStarting, 2}, {supervisor.StateStarting, supervisor.StateRunning, 2}, {supervisor.StateRunning, supervisor.StateBackoff, 2},
			{supervisor.StateBackoff, supervisor.StateStarting, 3}, {supervisor.StateStarting, supervisor.StateRunning, 3}, {supervisor.StateRunning, supervisor.StateRestarting, 3},
			{supervisor.StateRestarting, supervisor.StateStarting, 4}, {supervisor.StateStarting, supervisor.StateRunning, 4}, {supervisor.StateRunning, supervisor.StateStopped, 4},
		}
		assertTransitions(t, rec.transitions(), want)
		events := rec.all()
		for i, e := range events {
			if e.Name != "events" {
				t.Errorf("event %d name = %q", i, e.Name)
			}
			if i > 0 && e.At.Before(events[i-1].At) {
				t.Errorf("event %d at %v is before event %d", i, e.At, i-1)
			}
			if i > 0 && e.From != events[i-1].To {
				t.Errorf("event %d starts from %v, previous ended in %v", i, e.From, events[i-1].To)
			}
		}
		if !errors.Is(events[3].Err, errBoom) || events[3].Panic != nil || events[3].Delay != 100*time.Millisecond {
			t.Errorf("first crash event = %+v", events[3])
		}
		// The healthy first attempt reset the streak before it crashed, so
		// the immediate panic is the second crash in a row.
		if events[6].Panic == nil || events[6].Panic.Value != "two" || events[6].Delay != 200*time.Millisecond {
			t.Errorf("panic event = %+v", events[6])
		}
		if events[9].Err != nil || events[12].Err != nil {
			t.Errorf("restart/stop events carry errors: %+v, %+v", events[9], events[12])
		}
		if st := u.Status(); st.Crashes != 2 || st.Restarts != 3 || st.State != supervisor.StateStopped {
			t.Errorf("status = %+v", st)
		}
	})
}

func TestMarkHealthyOutsideUnit(t *testing.T) {
	t.Parallel()
	if MarkHealthy(context.Background()) {
		t.Error("MarkHealthy on a plain context = true, want false")
	}
}

func TestNewNilRunnerPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New(nil) did not panic")
		}
	}()
	New("nil", nil)
}

func TestZeroPolicyAndAccessors(t *testing.T) {
	t.Parallel()
	u := New("acc", &blockingRunner{}, WithPolicy(supervisor.Policy{}), WithLogger(nil), WithEventHook(nil))
	if u.Name() != "acc" {
		t.Errorf("Name = %q", u.Name())
	}
	want := supervisor.DefaultPolicy()
	want.Jitter = 0
	if u.Policy() != want {
		t.Errorf("Policy = %+v, want %+v", u.Policy(), want)
	}
	if st := u.Status(); st.State != supervisor.StateIdle || st.Attempt != 0 || st.Restarts != 0 || st.LastError != nil || st.Since.IsZero() {
		t.Errorf("initial status = %+v", st)
	}
}

func TestMultipleHooksRunInOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var order []string // hooks run on the supervisor goroutine only
		first := func(e supervisor.Event) { order = append(order, "first:"+e.To.String()) }
		second := func(e supervisor.Event) { order = append(order, "second:"+e.To.String()) }
		u := New("hooks", RunnerFunc(func(context.Context) error { return nil }),
			WithEventHook(first), WithEventHook(nil), WithEventHook(second), quiet())
		if err := u.Serve(t.Context()); err != nil {
			t.Fatalf("Serve = %v", err)
		}
		want := []string{
			"first:starting", "second:starting", "first:running", "second:running",
			"first:stopped", "second:stopped",
		}
		if len(order) != len(want) {
			t.Fatalf("hooks ran %q, want %q", order, want)
		}
		for i := range want {
			if order[i] != want[i] {
				t.Fatalf("hooks ran %q, want %q", order, want)
			}
		}
	})
}

// Event.Err documents "the crash ... nil otherwise": an attempt that returns
// ctx.Err() (or any error) because its context ended is not a crash, so the
// transition into Stopped must not carry that error. A panic on the way out
// is still reported, in Panic and Err. Before the fix, the Stopped event of
// every ordinary shutdown carried context.Canceled.
func TestStoppedEventCarriesNoError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		run       RunnerFunc
		wantPanic bool
	}{
		{"returns ctx.Err", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, false},
		{"returns another error", func(ctx context.Context) error { <-ctx.Done(); return errBoom }, false},
		{"panics on the way out", func(ctx context.Context) error { <-ctx.Done(); panic("late") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				var rec recorder
				u := New("stop", tt.run, WithEventHook(rec.hook), quiet())
				errc := u.ServeBackground(ctx)
				cancel()
				if err := <-errc; err != nil {
					t.Fatalf("Serve = %v, want nil", err)
				}
				events := rec.all()
				last := events[len(events)-1]
				if last.To != supervisor.StateStopped {
					t.Fatalf("last event = %+v, want a transition into Stopped", last)
				}
				if tt.wantPanic {
					if last.Panic == nil || last.Err != last.Panic {
						t.Errorf("stop event = %+v, want the PanicError in Panic and Err", last)
					}
					return
				}
				if last.Err != nil || last.Panic != nil {
					t.Errorf("stop event carries Err %v, Panic %v; want none", last.Err, last.Panic)
				}
			})
		})
	}
}
