package supervise

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// blockingRunner runs until its context ends. It counts its attempts and
// marks itself healthy if healthy is set.
type blockingRunner struct {
	mu      sync.Mutex
	calls   int
	healthy bool
}

func (b *blockingRunner) Run(ctx context.Context) error {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	if b.healthy {
		MarkHealthy(ctx)
	}
	<-ctx.Done()
	return ctx.Err()
}

func (b *blockingRunner) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

func TestRestartWhileRunning(t *testing.T) {
	t.Parallel()
	for _, healthy := range []bool{false, true} {
		name := map[bool]string{false: "running", true: "ready"}[healthy]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				r := &blockingRunner{healthy: healthy}
				var rec recorder
				u := New("restart", r, WithEventHook(rec.hook), quiet())
				errc := u.ServeBackground(ctx)
				synctest.Wait()
				wantState := map[bool]supervisor.State{false: supervisor.StateRunning, true: supervisor.StateReady}[healthy]
				if got := u.State(); got != wantState {
					t.Fatalf("state before Restart = %v, want %v", got, wantState)
				}
				start := time.Now()
				if err := u.Restart(ctx); err != nil {
					t.Fatalf("Restart = %v", err)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("Restart took %v of virtual time, want no backoff", d)
				}
				synctest.Wait()
				if r.count() != 2 {
					t.Errorf("%d attempts, want 2", r.count())
				}
				st := u.Status()
				if st.State != wantState || st.Restarts != 1 || st.Crashes != 0 || st.LastError != nil || st.Attempt != 2 {
					t.Errorf("status after Restart = %+v", st)
				}
				cancel()
				if err := <-errc; err != nil {
					t.Errorf("Serve = %v", err)
				}
				want := []transition{{supervisor.StateIdle, supervisor.StateStarting, 1}, {supervisor.StateStarting, supervisor.StateRunning, 1}}
				if healthy {
					want = append(want, transition{supervisor.StateRunning, supervisor.StateReady, 1})
				}
				want = append(want, transition{wantState, supervisor.StateRestarting, 1}, transition{supervisor.StateRestarting, supervisor.StateStarting, 2}, transition{supervisor.StateStarting, supervisor.StateRunning, 2})
				if healthy {
					want = append(want, transition{supervisor.StateRunning, supervisor.StateReady, 2})
				}
				want = append(want, transition{wantState, supervisor.StateStopping, 2}, transition{supervisor.StateStopping, supervisor.StateStopped, 2})
				assertTransitions(t, rec.transitions(), want)
			})
		})
	}
}

func TestRestartDuringBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		r := RunnerFunc(func(ctx context.Context) error {
			calls++
			if calls == 1 {
				return errBoom
			}
			<-ctx.Done()
			return nil
		})
		u := New("backoff", r, WithPolicy(supervisor.Policy{MinBackoff: time.Hour}), quiet())
		errc := u.ServeBackground(ctx)
		synctest.Wait()
		if u.State() != supervisor.StateBackoff {
			t.Fatalf("state = %v, want backoff", u.State())
		}
		start := time.Now()
		if err := u.Restart(ctx); err != nil {
			t.Fatalf("Restart = %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Restart waited %v, want the backoff cut short", d)
		}
		if st := u.Status(); st.State != supervisor.StateRunning || st.Crashes != 1 || st.Restarts != 1 || !errors.Is(st.LastError, errBoom) {
			t.Errorf("status = %+v", st)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
}

func TestRestartConcurrentCallsShare(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		r := &blockingRunner{}
		u := New("many", r, quiet())
		errc := u.ServeBackground(ctx)
		const callers = 8
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() { errs <- u.Restart(ctx) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Restart = %v", err)
			}
		}
		if n := r.count(); n < 2 || n > callers+1 {
			t.Errorf("%d attempts, want between 2 and %d", n, callers+1)
		}
		if st := u.Status(); st.Crashes != 0 || st.Restarts != r.count()-1 {
			t.Errorf("status = %+v after %d attempts", st, r.count())
		}
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
}

func TestRestartWhenNotServing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prepare brings u into the situation under test.
		prepare func(t *testing.T, u *Unit)
		want    error
	}{
		{"after Serve returned", func(t *testing.T, u *Unit) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := u.Serve(ctx); err != nil {
				t.Fatalf("Serve = %v", err)
			}
		}, ErrStopped},
		{"before Serve", func(*testing.T, *Unit) {}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				u := New("idle", &blockingRunner{}, quiet())
				tt.prepare(t, u)
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				if err := u.Restart(ctx); !errors.Is(err, tt.want) {
					t.Errorf("Restart = %v, want %v", err, tt.want)
				}
			})
		})
	}
}

// TestRestartAnsweredWhenStopping checks that a Restart waiting for a slow
// runner learns that the unit stopped instead.
func TestRestartAnsweredWhenStopping(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		r := RunnerFunc(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Minute) // a slow shutdown, in virtual time
			return nil
		})
		logs := newLogCapture(slog.LevelWarn)
		u := New("slow", r, WithLogger(slog.New(logs)), WithStopWarning(5*time.Second))
		errc := u.ServeBackground(ctx)
		restartErr := make(chan error, 1)
		go func() { restartErr <- u.Restart(context.Background()) }()
		synctest.Wait()
		if u.State() != supervisor.StateRestarting {
			t.Fatalf("state = %v, want restarting", u.State())
		}
		cancel()
		synctest.Wait()
		if u.State() != supervisor.StateStopping {
			t.Fatalf("state = %v, want stopping", u.State())
		}
		// A Restart that arrives while stopping is refused at once.
		if err := u.Restart(context.Background()); !errors.Is(err, ErrStopped) {
			t.Errorf("Restart while stopping = %v, want ErrStopped", err)
		}
		if err := <-restartErr; !errors.Is(err, ErrStopped) {
			t.Errorf("pending Restart = %v, want ErrStopped", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Serve = %v", err)
		}
		if !slices.Contains(logs.messages(), "runner has not returned after its context was cancelled") {
			t.Errorf("no stop warning logged; logs: %q", logs.messages())
		}
	})
}

// TestRestartContextEnds checks that Restart gives up with ctx.Err() when
// its context ends while the runner is slow to stop, and that the restart
// still happens afterwards.
func TestRestartContextEnds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		r := RunnerFunc(func(ctx context.Context) error {
			calls++
			<-ctx.Done()
			time.Sleep(time.Minute) // a slow shutdown, in virtual time
			return nil
		})
		u := New("slow", r, quiet())
		errc := u.ServeBackground(ctx)
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		defer rcancel()
		if err := u.Restart(rctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Restart = %v, want DeadlineExceeded", err)
		}
		if u.State() != supervisor.StateRestarting {
			t.Errorf("state = %v, want restarting", u.State())
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := u.Status(); st.State != supervisor.StateRunning || st.Restarts != 1 || calls != 2 {
			t.Errorf("status = %+v after %d calls, want the restart done", st, calls)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
}
