package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/supervisor"
)

// A runner that fails twice and then finishes. The unit restarts it after
// each crash and stops when it returns nil.
func ExampleNew() {
	attempts := 0
	flaky := supervise.RunnerFunc(func(ctx context.Context) error {
		attempts++
		if attempts < 3 {
			return fmt.Errorf("attempt %d: connection refused", attempts)
		}
		return nil
	})
	u := supervise.New("flaky", flaky,
		supervise.WithPolicy(supervisor.Policy{MinBackoff: time.Millisecond}),
		supervise.WithLogger(slog.New(slog.DiscardHandler)),
		supervise.WithEventHook(func(e supervisor.Event) {
			if e.To == supervisor.StateBackoff {
				fmt.Printf("crashed: %v (restart in %v)\n", e.Err, e.Delay)
			}
		}))
	err := u.Serve(context.Background())
	fmt.Println("serve:", err, "restarts:", u.Restarts(), "state:", u.State())
	// Output:
	// crashed: attempt 1: connection refused (restart in 1ms)
	// crashed: attempt 2: connection refused (restart in 2ms)
	// serve: <nil> restarts: 2 state: stopped
}

// A fatal error stops the unit at once; a panic is a crash with its stack.
func Example_noRestart() {
	calls := 0
	r := supervise.RunnerFunc(func(ctx context.Context) error {
		calls++
		if calls == 1 {
			panic("nil pointer somewhere")
		}
		return supervisor.NoRestart(errors.New("invalid token"))
	})
	u := supervise.New("fatal", r,
		supervise.WithPolicy(supervisor.Policy{MinBackoff: time.Millisecond}),
		supervise.WithLogger(slog.New(slog.DiscardHandler)),
		supervise.WithEventHook(func(e supervisor.Event) {
			if e.Panic != nil {
				fmt.Println("recovered:", e.Panic, "- stack kept:", len(e.Panic.Stack) > 0)
			}
		}))
	err := u.Serve(context.Background())
	fmt.Println(err, errors.Is(err, supervisor.ErrNoRestart), u.State())
	// Output:
	// recovered: supervise: panic: nil pointer somewhere - stack kept: true
	// supervise: fatal: invalid token true failed
}

// A runner marks itself healthy once ready; Restart replaces the running
// attempt with a fresh one at once.
func ExampleUnit_Restart() {
	ready := make(chan int, 2)
	attempt := 0
	r := supervise.RunnerFunc(func(ctx context.Context) error {
		attempt++
		supervise.MarkHealthy(ctx)
		ready <- attempt
		<-ctx.Done()
		return nil
	})
	u := supervise.New("worker", r, supervise.WithLogger(slog.New(slog.DiscardHandler)))
	ctx, cancel := context.WithCancel(context.Background())
	errc := u.ServeBackground(ctx)
	fmt.Println("attempt", <-ready, "ready")

	if err := u.Restart(ctx); err != nil {
		fmt.Println("restart:", err)
	}
	fmt.Println("attempt", <-ready, "ready; restarts:", u.Restarts())

	cancel()
	fmt.Println("serve:", <-errc, "state:", u.State())
	// Output:
	// attempt 1 ready
	// attempt 2 ready; restarts: 1
	// serve: <nil> state: stopped
}
