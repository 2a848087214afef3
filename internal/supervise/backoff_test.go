package supervise

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// TestCrashBackoffGrows checks, in virtual time, that a crashing runner is
// restarted after delays that double from MinBackoff up to MaxBackoff, within
// the jitter bounds.
func TestCrashBackoffGrows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		jitter float64
		max    time.Duration
		panics bool
	}{
		{"panic without jitter", 0, time.Hour, true},
		{"error without jitter", 0, time.Hour, false},
		{"panic with 10% jitter", 0.1, time.Hour, true},
		{"error with 50% jitter", 0.5, time.Hour, false},
		{"capped", 0, 400 * time.Millisecond, true},
		{"capped with jitter", 0.2, 400 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				const attempts = 8
				const minBackoff = 100 * time.Millisecond
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				// Attempts run one after another, ordered by the supervisor,
				// so starts needs no lock.
				var starts []time.Time
				r := RunnerFunc(func(ctx context.Context) error {
					starts = append(starts, time.Now())
					if len(starts) == attempts {
						cancel()
						<-ctx.Done()
						return ctx.Err()
					}
					if tt.panics {
						panic("boom")
					}
					return errBoom
				})
				var rec recorder
				pol := supervisor.Policy{MinBackoff: minBackoff, MaxBackoff: tt.max, Multiplier: 2, Jitter: tt.jitter, MaxRestarts: -1, MaxFailedStarts: -1}
				u := New("grow", r, WithPolicy(pol), WithEventHook(rec.hook), quiet())
				if err := u.Serve(ctx); err != nil {
					t.Fatalf("Serve = %v, want nil", err)
				}
				if len(starts) != attempts {
					t.Fatalf("%d attempts, want %d", len(starts), attempts)
				}
				for i := 1; i < len(starts); i++ {
					gap := starts[i].Sub(starts[i-1])
					want := min(minBackoff<<(i-1), tt.max)
					lo := time.Duration(float64(want)*(1-tt.jitter)) - 1
					hi := min(time.Duration(float64(want)*(1+tt.jitter))+1, tt.max)
					if tt.jitter == 0 {
						lo, hi = want, want
					}
					if gap < lo || gap > hi {
						t.Errorf("gap before attempt %d = %v, want in [%v, %v]", i+1, gap, lo, hi)
					}
				}
				// Every crash is reported with its delay, and panics with
				// their PanicError.
				var crashes int
				for _, e := range rec.all() {
					if e.To != supervisor.StateBackoff {
						continue
					}
					crashes++
					if e.Delay != starts[e.Attempt].Sub(starts[e.Attempt-1]) {
						t.Errorf("event delay %v for attempt %d does not match the gap", e.Delay, e.Attempt)
					}
					if tt.panics != (e.Panic != nil) {
						t.Errorf("attempt %d: Panic = %v, want panic %v", e.Attempt, e.Panic, tt.panics)
					}
					if e.Panic != nil && e.Err != e.Panic {
						t.Errorf("attempt %d: Err %v is not the PanicError", e.Attempt, e.Err)
					}
					if !tt.panics && !errors.Is(e.Err, errBoom) {
						t.Errorf("attempt %d: Err = %v, want errBoom", e.Attempt, e.Err)
					}
				}
				if crashes != attempts-1 {
					t.Errorf("%d backoff events, want %d", crashes, attempts-1)
				}
				st := u.Status()
				if st.State != supervisor.StateStopped || st.Crashes != attempts-1 || st.Restarts != attempts-1 || st.Attempt != attempts {
					t.Errorf("status = %+v", st)
				}
			})
		})
	}
}

// TestBackoffReset checks that a healthy attempt, or one that ran longer
// than MaxBackoff, resets the backoff to MinBackoff.
func TestBackoffReset(t *testing.T) {
	t.Parallel()
	const minB, maxB = 100 * time.Millisecond, 10 * time.Second
	tests := []struct {
		name string
		// fourth is what the fourth attempt does before it crashes.
		fourth func(ctx context.Context)
		want   time.Duration // delay after the fourth crash
	}{
		{"healthy", func(ctx context.Context) { MarkHealthy(ctx) }, minB},
		{"long run", func(context.Context) { time.Sleep(maxB) }, minB},
		{"short run keeps growing", func(context.Context) { time.Sleep(maxB / 2) }, 8 * minB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				n := 0
				r := RunnerFunc(func(ctx context.Context) error {
					n++
					switch n {
					case 4:
						tt.fourth(ctx)
					case 5:
						cancel()
						<-ctx.Done()
						return nil
					}
					return errBoom
				})
				var rec recorder
				pol := supervisor.Policy{MinBackoff: minB, MaxBackoff: maxB, Multiplier: 2, MaxRestarts: -1, MaxFailedStarts: -1}
				if err := New("reset", r, WithPolicy(pol), WithEventHook(rec.hook), quiet()).Serve(ctx); err != nil {
					t.Fatalf("Serve = %v", err)
				}
				var delays []time.Duration
				for _, e := range rec.all() {
					if e.To == supervisor.StateBackoff {
						delays = append(delays, e.Delay)
					}
				}
				want := []time.Duration{minB, 2 * minB, 4 * minB, tt.want}
				if len(delays) != len(want) {
					t.Fatalf("delays = %v, want %v", delays, want)
				}
				for i := range want {
					if delays[i] != want[i] {
						t.Errorf("delays = %v, want %v", delays, want)
						break
					}
				}
			})
		})
	}
}

func TestRestartOnSuccess(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var starts []time.Time
		r := RunnerFunc(func(ctx context.Context) error {
			starts = append(starts, time.Now())
			if len(starts) == 4 {
				cancel()
				<-ctx.Done()
			}
			return nil
		})
		pol := supervisor.Policy{MinBackoff: time.Second, RestartOnSuccess: true}
		u := New("again", r, WithPolicy(pol), quiet())
		if err := u.Serve(ctx); err != nil {
			t.Fatalf("Serve = %v", err)
		}
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap != time.Second {
				t.Errorf("gap before attempt %d = %v, want MinBackoff", i+1, gap)
			}
		}
		if st := u.Status(); st.Crashes != 0 || st.Restarts != 3 || st.LastError != nil || st.State != supervisor.StateStopped {
			t.Errorf("status = %+v, want 3 restarts, no crash, stopped", st)
		}
	})
}

func TestSuccessStops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		u := New("once", RunnerFunc(func(context.Context) error { calls++; return nil }), quiet())
		if err := u.Serve(t.Context()); err != nil {
			t.Fatalf("Serve = %v", err)
		}
		if calls != 1 || u.State() != supervisor.StateStopped || u.Restarts() != 0 || u.LastError() != nil {
			t.Errorf("calls %d, status %+v", calls, u.Status())
		}
	})
}
