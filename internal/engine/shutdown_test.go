package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
)

// shutdownLog records, for every incarnation, whether Shutdown ran, with
// which context, and whether an event reached the worker after it began.
type shutdownLog struct {
	mu       sync.Mutex
	calls    []int // incarnations whose Shutdown ran, in order
	late     []int // incarnations that got an event after their Shutdown began
	deadline []time.Duration
}

type shutdownWorker struct {
	gen  int
	log  *shutdownLog
	fail error // returned by Shutdown; a panic if it is errPanicShutdown
	done bool
}

var errPanicShutdown = errors.New("panic in Shutdown")

func (w *shutdownWorker) Launch(_ context.Context, c *cluster.Cluster) error {
	c.AddEventListeners(listenerFunc(func(bot.Event) {
		w.log.mu.Lock()
		defer w.log.mu.Unlock()
		if w.done {
			w.log.late = append(w.log.late, w.gen)
		}
	}))
	return nil
}

func (w *shutdownWorker) Shutdown(ctx context.Context) error {
	w.log.mu.Lock()
	w.done = true
	w.log.calls = append(w.log.calls, w.gen)
	if d, ok := ctx.Deadline(); ok {
		w.log.deadline = append(w.log.deadline, time.Until(d))
	} else {
		w.log.deadline = append(w.log.deadline, -1)
	}
	w.log.mu.Unlock()
	if w.fail == errPanicShutdown {
		panic("shutdown bug")
	}
	return w.fail
}

// TestShutdowner: every incarnation's Shutdown runs exactly once when it
// ends, whatever ends it (each restart kind, and the end of Serve), after
// the last event was handed to it, with a context bounded by the
// shutdown timeout. An error or a panic from it is reported as
// cluster.EventError, never as a crash.
func TestShutdowner(t *testing.T) {
	t.Parallel()
	const timeout = 5 * time.Second
	cases := []struct {
		name string
		fail error
	}{
		{"clean", nil},
		{"error", errors.New("flush failed")},
		{"panic", errPanicShutdown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1, discordtest.WithRate(200)) // events while it restarts
			sl := &shutdownLog{}
			h := newHarness(t, fake, []int{0}, 1, func(gen int, _ *recorder) Worker {
				return &shutdownWorker{gen: gen, log: sl, fail: tc.fail}
			}, WithShutdownTimeout(timeout))
			h.start()
			h.waitReady()
			for _, kind := range []RestartKind{cluster.RestartWorker, cluster.RestartResume, cluster.RestartFull} {
				h.restartAndWait(kind)
			}
			if err := h.stop(); err != nil {
				t.Fatalf("Serve = %v", err)
			}
			sl.mu.Lock()
			defer sl.mu.Unlock()
			if want := []int{1, 2, 3, 4}; !slices.Equal(sl.calls, want) {
				t.Fatalf("Shutdown ran for incarnations %v, want %v (once each)", sl.calls, want)
			}
			if len(sl.late) > 0 {
				t.Fatalf("incarnations %v got events after their Shutdown began", sl.late)
			}
			for i, d := range sl.deadline {
				if d <= 0 || d > timeout {
					t.Fatalf("Shutdown %d: context deadline in %v, want within the %v shutdown timeout", i+1, d, timeout)
				}
			}
			h.rec.mu.Lock()
			defer h.rec.mu.Unlock()
			if n := h.rec.count(cluster.EventCrashed); n != 0 {
				t.Fatalf("%d crash events: a failed Shutdown is not a crash", n)
			}
			wantErrors := 0
			if tc.fail != nil {
				wantErrors = 4
			}
			if n := h.rec.count(cluster.EventError); n != wantErrors {
				t.Fatalf("%d error events, want %d", n, wantErrors)
			}
			for _, e := range h.rec.events {
				if e.Kind != cluster.EventError {
					continue
				}
				var pe *PanicError
				if tc.fail == errPanicShutdown && !errors.As(e.Err, &pe) {
					t.Fatalf("error event %v, want the Shutdown panic", e.Err)
				}
				if tc.fail != errPanicShutdown && !errors.Is(e.Err, tc.fail) {
					t.Fatalf("error event %v, want %v", e.Err, tc.fail)
				}
			}
		})
	}
}
