package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/supervisor"
)

func TestTooManyRestarts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		pol          supervisor.Policy
		panics       bool
		wantAttempts int
	}{
		{"cap of three", supervisor.Policy{MaxRestarts: 3}, false, 4},
		{"cap of three with panics", supervisor.Policy{MaxRestarts: 3}, true, 4},
		{"default cap", supervisor.Policy{}, false, 6},
		{"cap of one", supervisor.Policy{MaxRestarts: 1, MinBackoff: time.Second}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				r := RunnerFunc(func(context.Context) error {
					calls++
					if tt.panics {
						panic(errBoom)
					}
					return errBoom
				})
				var rec recorder
				u := New("capped", r, WithPolicy(tt.pol), WithEventHook(rec.hook), quiet())
				err := u.Serve(t.Context())
				if !errors.Is(err, supervisor.ErrTooManyRestarts) {
					t.Fatalf("Serve = %v, want ErrTooManyRestarts", err)
				}
				if !errors.Is(err, errBoom) {
					t.Errorf("Serve = %v, want it to wrap the last crash", err)
				}
				var pe *supervisor.PanicError
				if got := errors.As(err, &pe); got != tt.panics {
					t.Errorf("errors.As(PanicError) = %v, want %v", got, tt.panics)
				}
				if calls != tt.wantAttempts {
					t.Errorf("%d attempts, want %d", calls, tt.wantAttempts)
				}
				st := u.Status()
				if st.State != supervisor.StateFailed || st.Crashes != tt.wantAttempts || st.Restarts != tt.wantAttempts-1 || st.LastError != err {
					t.Errorf("status = %+v", st)
				}
				events := rec.all()
				last := events[len(events)-1]
				if last.To != supervisor.StateFailed || last.Err != err || last.Attempt != tt.wantAttempts {
					t.Errorf("last event = %+v, want Failed with the returned error", last)
				}
			})
		})
	}
}

// TestRestartWindowSlides checks that crashes older than Window no longer
// count toward the cap.
func TestRestartWindowSlides(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		calls := 0
		r := RunnerFunc(func(ctx context.Context) error {
			calls++
			if calls == 10 {
				cancel()
				<-ctx.Done()
				return ctx.Err()
			}
			time.Sleep(600 * time.Millisecond) // simulated work, in virtual time
			return errBoom
		})
		// One crash every 700ms; at most two fit in a one-second window.
		pol := supervisor.Policy{MinBackoff: 100 * time.Millisecond, Multiplier: 1, MaxRestarts: 2, Window: time.Second, MaxFailedStarts: -1}
		u := New("slide", r, WithPolicy(pol), quiet())
		if err := u.Serve(ctx); err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
		if calls != 10 || u.Status().Crashes != 9 {
			t.Errorf("calls %d, status %+v", calls, u.Status())
		}
	})
}

func TestFatalStopsAtOnce(t *testing.T) {
	t.Parallel()
	wrapped := fmt.Errorf("identify: %w", supervisor.ErrNoRestart)
	tests := []struct {
		name    string
		run     func() error
		opts    []Option
		wantIs  []error
		isPanic bool
	}{
		{"Fatal helper", func() error { return supervisor.NoRestart(errBoom) }, nil, []error{supervisor.ErrNoRestart, errBoom}, false},
		{"Fatal(nil)", func() error { return supervisor.NoRestart(nil) }, nil, []error{supervisor.ErrNoRestart}, false},
		{"wrapped sentinel", func() error { return wrapped }, nil, []error{supervisor.ErrNoRestart}, false},
		{"predicate", func() error { return errBoom },
			[]Option{WithFatal(func(err error) bool { return errors.Is(err, errBoom) })}, []error{errBoom}, false},
		{"predicate on panic", func() error { panic("bad state") },
			[]Option{WithFatal(func(err error) bool { var pe *supervisor.PanicError; return errors.As(err, &pe) })}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				r := RunnerFunc(func(context.Context) error { calls++; return tt.run() })
				var rec recorder
				opts := append([]Option{WithEventHook(rec.hook), quiet()}, tt.opts...)
				u := New("fatal", r, opts...)
				start := time.Now()
				err := u.Serve(t.Context())
				if err == nil {
					t.Fatal("Serve = nil, want the fatal error")
				}
				for _, target := range tt.wantIs {
					if !errors.Is(err, target) {
						t.Errorf("Serve = %v, want errors.Is %v", err, target)
					}
				}
				if errors.Is(err, supervisor.ErrTooManyRestarts) {
					t.Errorf("Serve = %v, must not be ErrTooManyRestarts", err)
				}
				var pe *supervisor.PanicError
				if errors.As(err, &pe) != tt.isPanic {
					t.Errorf("Serve = %v, panic %v", err, tt.isPanic)
				}
				if calls != 1 || time.Since(start) != 0 {
					t.Errorf("%d attempts over %v, want one at once", calls, time.Since(start))
				}
				if st := u.Status(); st.State != supervisor.StateFailed || st.Crashes != 0 || st.LastError != err {
					t.Errorf("status = %+v", st)
				}
				want := []transition{{supervisor.StateIdle, supervisor.StateStarting, 1}, {supervisor.StateStarting, supervisor.StateRunning, 1}, {supervisor.StateRunning, supervisor.StateFailed, 1}}
				assertTransitions(t, rec.transitions(), want)
				if ev := rec.all()[2]; ev.Err != err || (ev.Panic != nil) != tt.isPanic {
					t.Errorf("failed event = %+v", ev)
				}
			})
		})
	}
}

// panickingRunner panics; its name must appear in the recovered stack.
func panickingRunner(ctx context.Context) error {
	var counts []int
	i, _ := ctx.Value(indexKey{}).(int)
	counts[i]++ // index out of range: a runtime error panic
	return nil
}

type indexKey struct{}

func TestPanicError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		run       RunnerFunc
		wantMsg   string
		wantStack string
		unwrapIs  error
	}{
		{"runtime error", panickingRunner, "supervise: panic: runtime error: index out of range [0] with length 0", "panickingRunner", nil},
		{"error value", func(context.Context) error { panic(errBoom) }, "supervise: panic: boom", "TestPanicError", errBoom},
		{"string value", func(context.Context) error { panic("bad\nstate") }, "supervise: panic: bad\nstate", "TestPanicError", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				u := New("panic", tt.run, WithFatal(func(error) bool { return true }), quiet())
				err := u.Serve(t.Context())
				var pe *supervisor.PanicError
				if !errors.As(err, &pe) {
					t.Fatalf("Serve = %v, want a *PanicError", err)
				}
				if pe.Error() != tt.wantMsg {
					t.Errorf("Error() = %q, want %q", pe.Error(), tt.wantMsg)
				}
				if bytes.Contains([]byte(pe.Error()), []byte("goroutine")) {
					t.Errorf("Error() includes the stack: %q", pe.Error())
				}
				if !bytes.Contains(pe.Stack, []byte(tt.wantStack)) {
					t.Errorf("stack does not name %s:\n%s", tt.wantStack, pe.Stack)
				}
				if tt.unwrapIs != nil && !errors.Is(err, tt.unwrapIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.unwrapIs)
				}
				if tt.unwrapIs == nil {
					if _, isErr := pe.Value.(error); !isErr && pe.Unwrap() != nil {
						t.Errorf("Unwrap() = %v, want nil for a non-error value", pe.Unwrap())
					}
				}
			})
		})
	}
	var rt runtime.Error
	pe := &supervisor.PanicError{Value: fmt.Errorf("wrapped: %w", errBoom)}
	if !errors.Is(pe, errBoom) || errors.As(pe, &rt) {
		t.Errorf("PanicError unwrap chain wrong: %v", pe)
	}
}

func TestGoexitIsACrash(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		r := RunnerFunc(func(context.Context) error { calls++; runtime.Goexit(); return nil })
		u := New("goexit", r, WithPolicy(supervisor.Policy{MaxRestarts: 2}), quiet())
		err := u.Serve(t.Context())
		if !errors.Is(err, ErrGoexit) || !errors.Is(err, supervisor.ErrTooManyRestarts) {
			t.Fatalf("Serve = %v, want ErrTooManyRestarts wrapping ErrGoexit", err)
		}
		if calls != 3 {
			t.Errorf("%d attempts, want 3", calls)
		}
	})
}

func TestHookPanicIsRecovered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := newLogCapture(0)
		hook := func(supervisor.Event) { panic("hook") }
		calls := 0
		r := RunnerFunc(func(context.Context) error {
			calls++
			if calls < 3 {
				return errBoom
			}
			return nil
		})
		u := New("hook", r, WithEventHook(hook), WithLogger(slog.New(logs)))
		if err := u.Serve(t.Context()); err != nil {
			t.Fatalf("Serve = %v", err)
		}
		if calls != 3 {
			t.Errorf("%d attempts, want 3", calls)
		}
		n := 0
		for _, m := range logs.messages() {
			if strings.Contains(m, "event hook panicked") {
				n++
			}
		}
		// idle→starting→running, then twice running→backoff→starting→running,
		// then running→stopped: 9 transitions.
		if n != 9 {
			t.Errorf("%d hook panics logged, want 9", n)
		}
	})
}

func assertTransitions(t *testing.T, got, want []transition) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("transitions:\n got %v\nwant %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("transition %d = %v, want %v\n got %v\nwant %v", i, got[i], want[i], got, want)
		}
	}
}

// TestTooManyFailedStarts: attempts that crash before they become healthy
// are capped however far apart they are. Each start here fails after two
// minutes, so the one-minute window never holds more than one crash, and
// without the cap the unit retried forever.
func TestTooManyFailedStarts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		r := RunnerFunc(func(ctx context.Context) error {
			calls++
			if calls == 2 {
				MarkHealthy(ctx) // one good start resets the count
			}
			time.Sleep(2 * time.Minute)
			return errBoom
		})
		pol := supervisor.Policy{MinBackoff: time.Millisecond, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 3}
		u := New("slow-start", r, WithPolicy(pol), quiet())
		err := u.Serve(t.Context())
		if !errors.Is(err, supervisor.ErrTooManyRestarts) || !errors.Is(err, errBoom) {
			t.Fatalf("Serve = %v, want ErrTooManyRestarts wrapping the last crash", err)
		}
		// 1 fails, 2 was healthy, then 3, 4, 5 and 6 fail: the fourth in a
		// row is over the cap of 3.
		if calls != 6 {
			t.Fatalf("%d attempts, want 6", calls)
		}
	})
}
