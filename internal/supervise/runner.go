package supervise

import (
	"context"
	"sync"
)

// Runner is the work a [Unit] supervises. Run is one attempt; see the
// package documentation for what its result means. Run is called from a
// goroutine of the unit, never twice at the same time for one unit.
type Runner interface {
	Run(ctx context.Context) error
}

// RunnerFunc adapts a function to a [Runner].
type RunnerFunc func(ctx context.Context) error

// Run calls f(ctx).
func (f RunnerFunc) Run(ctx context.Context) error { return f(ctx) }

// healthKey is the context key of an attempt's health signal.
type healthKey struct{}

// healthSignal is how one attempt tells its supervisor it is healthy. The
// channel has room for the one signal ever sent, so MarkHealthy never blocks.
type healthSignal struct {
	once sync.Once
	ch   chan struct{} // capacity 1; receives at most one value
}

func newHealthSignal() *healthSignal {
	return &healthSignal{ch: make(chan struct{}, 1)}
}

func (h *healthSignal) mark() {
	h.once.Do(func() { h.ch <- struct{}{} })
}

// MarkHealthy tells the unit running the current attempt that the attempt is
// ready: the unit moves from [supervisor.StateRunning] to
// [supervisor.StateReady] and its backoff is reset.
// ctx must be the context passed to [Runner.Run], or one derived from it.
//
// MarkHealthy never blocks, is safe for concurrent use, and is idempotent:
// calls after the first, and calls after the attempt ended, do nothing. It
// reports whether ctx belongs to a supervised attempt.
func MarkHealthy(ctx context.Context) bool {
	h, ok := ctx.Value(healthKey{}).(*healthSignal)
	if !ok {
		return false
	}
	h.mark()
	return true
}
