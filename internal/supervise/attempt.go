package supervise

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// attemptResult is how an attempt ended.
type attemptResult struct {
	err   error                  // nil for a normal return; a *PanicError for a panic
	panic *supervisor.PanicError // set when the runner panicked
}

// attempt is one call of Runner.Run on a goroutine of its own. The
// supervisor goroutine owns every field except done and health, which the
// attempt goroutine writes to exactly once each without blocking.
type attempt struct {
	n       int
	start   time.Time
	cancel  context.CancelFunc
	health  *healthSignal
	done    chan attemptResult // capacity 1; receives exactly one result
	healthy bool               // set by the supervisor when health fired
}

// startAttempt runs r on a new goroutine with a context derived from parent
// and returns once that goroutine is running. The goroutine always ends by
// sending one result on done, whether r returns, panics or calls
// runtime.Goexit.
func startAttempt(parent context.Context, r Runner, n int) *attempt {
	ctx, cancel := context.WithCancel(parent)
	a := &attempt{
		n:      n,
		start:  time.Now(),
		cancel: cancel,
		health: newHealthSignal(),
		done:   make(chan attemptResult, 1),
	}
	ctx = context.WithValue(ctx, healthKey{}, a.health)
	started := make(chan struct{})
	go a.run(ctx, r, started)
	<-started
	return a
}

// run calls r.Run and reports how it ended. The recovery is in the deferred
// function itself so that it also sees runtime.Goexit, which unwinds the
// goroutine without a panic value.
func (a *attempt) run(ctx context.Context, r Runner, started chan<- struct{}) {
	var (
		returned bool
		err      error
	)
	defer func() {
		res := attemptResult{err: err}
		if !returned {
			if v := recover(); v != nil {
				pe := &supervisor.PanicError{Value: v, Stack: debug.Stack()}
				res = attemptResult{err: pe, panic: pe}
			} else {
				res = attemptResult{err: ErrGoexit}
			}
		}
		a.done <- res
	}()
	close(started)
	err = r.Run(ctx)
	returned = true
}
