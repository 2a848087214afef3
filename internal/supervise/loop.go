package supervise

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// loop is the state of one Serve call. Only the goroutine running Serve
// touches it.
type loop struct {
	u   *Unit
	ctx context.Context
	pol supervisor.Policy

	state    supervisor.State
	attempts int // attempts launched
	crashes  int
	streak   int // crashes in a row since the backoff was last reset
	failed   int // attempts in a row that crashed before becoming healthy
	window   crashWindow
	lastErr  error

	cur     *attempt       // the running attempt; nil in Backoff and when final
	backoff *time.Timer    // armed in Backoff
	warn    *time.Timer    // armed while waiting for a cancelled attempt
	waiting []chan<- error // Restart replies answered when the next attempt starts
}

// run is the supervisor's loop. Every case is quick, so commands are always
// accepted promptly.
func (l *loop) run() error {
	defer l.stopTimers()
	if l.ctx.Err() != nil {
		l.finish(supervisor.StateStopped, supervisor.Event{})
		return nil
	}
	l.launch()
	l.u.markLive()
	for {
		var (
			done    <-chan attemptResult
			healthy <-chan struct{}
			backoff <-chan time.Time
			warn    <-chan time.Time
			ctxDone <-chan struct{}
		)
		if l.cur != nil {
			done = l.cur.done
			if l.state == supervisor.StateRunning {
				healthy = l.cur.health.ch
			}
		}
		if l.state == supervisor.StateBackoff {
			backoff = l.backoff.C
		}
		if l.warn != nil {
			warn = l.warn.C
		}
		if l.state != supervisor.StateStopping {
			ctxDone = l.ctx.Done()
		}
		select {
		case <-ctxDone:
			if l.cur == nil {
				l.finish(supervisor.StateStopped, supervisor.Event{Attempt: l.attempts})
				return nil
			}
			l.cur.cancel()
			if l.state != supervisor.StateRestarting {
				l.armStopWarning()
			}
			l.to(supervisor.StateStopping, supervisor.Event{Attempt: l.cur.n})
		case res := <-done:
			if final, err := l.ended(res); final {
				return err
			}
		case <-healthy:
			l.becameHealthy()
		case <-backoff:
			l.launch()
		case <-warn:
			l.warn = nil
			l.u.log.LogAttrs(l.ctx, slog.LevelWarn, "runner has not returned after its context was cancelled",
				slog.Int("attempt", l.cur.n), slog.Duration("waited", l.u.cfg.stopWarning))
		case cmd := <-l.u.control:
			cmd.applyTo(l)
		}
	}
}

// becameHealthy handles MarkHealthy from the current attempt: it enters
// Ready and resets the backoff.
func (l *loop) becameHealthy() {
	l.cur.healthy = true
	l.streak = 0
	l.failed = 0
	l.to(supervisor.StateReady, supervisor.Event{Attempt: l.cur.n})
}

// launch starts the next attempt and answers waiting Restart calls.
func (l *loop) launch() {
	l.attempts++
	l.to(supervisor.StateStarting, supervisor.Event{Attempt: l.attempts})
	l.cur = startAttempt(l.ctx, l.u.runner, l.attempts)
	l.to(supervisor.StateRunning, supervisor.Event{Attempt: l.attempts})
	for _, reply := range l.waiting {
		reply <- nil
	}
	l.waiting = nil
}

// ended handles the end of the current attempt. It reports whether Serve
// must return, and with which error.
func (l *loop) ended(res attemptResult) (final bool, err error) {
	if l.state == supervisor.StateRunning {
		// MarkHealthy may have raced with the return: honour it first, so
		// that the events and the backoff do not depend on select's choice.
		select {
		case <-l.cur.health.ch:
			l.becameHealthy()
		default:
		}
	}
	a := l.cur
	l.cur = nil
	a.cancel()
	l.stopWarning()
	now := time.Now()

	switch l.state {
	case supervisor.StateStopping, supervisor.StateRestarting:
		// The attempt was cancelled on purpose; its result is not a crash.
		l.noteCancelled(a.n, res)
		if l.state == supervisor.StateStopping {
			l.finish(supervisor.StateStopped, stopEvent(a.n, res))
			return true, nil
		}
		l.launch()
		return false, nil
	}

	if l.ctx.Err() != nil {
		// The context ended as the attempt returned: a stop, not a crash.
		l.noteCancelled(a.n, res)
		l.finish(supervisor.StateStopped, stopEvent(a.n, res))
		return true, nil
	}
	if res.err == nil {
		if !l.pol.RestartOnSuccess {
			l.finish(supervisor.StateStopped, supervisor.Event{Attempt: a.n})
			return true, nil
		}
		l.streak = 0
		l.toBackoff(a.n, res, jitteredMin(l.pol))
		return false, nil
	}
	return l.crashed(a, res, now)
}

// crashed is ended's part for an attempt that failed on its own (it
// returned an error or panicked, and was not stopped): a fatal error, too
// many restarts or too many failed starts make Serve return; anything else
// backs off.
func (l *loop) crashed(a *attempt, res attemptResult, now time.Time) (final bool, err error) {
	l.lastErr = res.err
	if l.isFatal(res.err) {
		l.u.log.LogAttrs(l.ctx, slog.LevelError, "runner failed with a fatal error",
			slog.Int("attempt", a.n), slog.Any("err", res.err))
		l.finish(supervisor.StateFailed, supervisor.Event{Attempt: a.n, Err: res.err, Panic: res.panic})
		return true, res.err
	}
	l.crashes++
	if a.healthy || now.Sub(a.start) >= l.pol.MaxBackoff {
		l.streak = 0
	}
	l.streak++
	if res.panic != nil {
		l.logPanic(a.n, res.panic)
	}
	if !a.healthy {
		l.failed++
	}
	n := l.window.add(now, l.pol.Window)
	switch {
	case l.pol.MaxRestarts >= 0 && n > l.pol.MaxRestarts:
		err = fmt.Errorf("%w: unit %q crashed %d times within %v: %w",
			supervisor.ErrTooManyRestarts, l.u.name, n, l.pol.Window, res.err)
	case l.pol.MaxFailedStarts >= 0 && l.failed > l.pol.MaxFailedStarts:
		err = fmt.Errorf("%w: unit %q failed to start %d times in a row: %w",
			supervisor.ErrTooManyRestarts, l.u.name, l.failed, res.err)
	}
	if err != nil {
		l.lastErr = err
		l.u.log.LogAttrs(l.ctx, slog.LevelError, "giving up on runner",
			slog.Int("attempt", a.n), slog.Int("crashes", n), slog.Int("failed_starts", l.failed),
			slog.Any("err", res.err))
		l.finish(supervisor.StateFailed, supervisor.Event{Attempt: a.n, Err: err, Panic: res.panic})
		return true, err
	}
	l.toBackoff(a.n, res, delay(l.pol, l.streak))
	return false, nil
}

// noteCancelled logs how an attempt ended whose context had ended: a panic
// is logged with its stack and kept as the last error; anything it returned
// is logged at debug level, since it is no crash.
func (l *loop) noteCancelled(n int, res attemptResult) {
	switch {
	case res.panic != nil:
		l.lastErr = res.err
		l.logPanic(n, res.panic)
	case res.err != nil:
		l.u.log.LogAttrs(l.ctx, slog.LevelDebug, "cancelled attempt returned",
			slog.Int("attempt", n), slog.Any("err", res.err))
	}
}

// stopEvent is the event of an attempt that ended because the context did.
// What it returned is no crash and stays out of the event (it was logged at
// debug level); a panic on its way out is still reported.
func stopEvent(n int, res attemptResult) supervisor.Event {
	ev := supervisor.Event{Attempt: n}
	if res.panic != nil {
		ev.Err, ev.Panic = res.panic, res.panic
	}
	return ev
}

func (l *loop) isFatal(err error) bool {
	if isFatalErr(err) {
		return true
	}
	return l.u.cfg.fatal != nil && l.u.cfg.fatal(err)
}

// toBackoff arms the backoff timer and enters Backoff.
func (l *loop) toBackoff(n int, res attemptResult, d time.Duration) {
	if l.backoff == nil {
		l.backoff = time.NewTimer(d)
	} else {
		l.backoff.Reset(d)
	}
	if res.err != nil {
		l.u.log.LogAttrs(l.ctx, slog.LevelWarn, "runner crashed; restarting after backoff",
			slog.Int("attempt", n), slog.Duration("delay", d), slog.Any("err", res.err))
	}
	l.to(supervisor.StateBackoff, supervisor.Event{Attempt: n, Err: res.err, Panic: res.panic, Delay: d})
}

// finish enters a final state and fails waiting Restart calls.
func (l *loop) finish(s supervisor.State, ev supervisor.Event) {
	l.to(s, ev)
	for _, reply := range l.waiting {
		reply <- ErrStopped
	}
	l.waiting = nil
}

// to moves to state s, publishes the status, logs, and calls the hook.
func (l *loop) to(s supervisor.State, ev supervisor.Event) {
	now := time.Now()
	ev.Name, ev.From, ev.To, ev.At = l.u.name, l.state, s, now
	l.state = s
	restarts := l.attempts - 1
	if restarts < 0 {
		restarts = 0
	}
	l.u.status.Store(&Status{
		State:     s,
		Attempt:   l.attempts,
		Restarts:  restarts,
		Crashes:   l.crashes,
		LastError: l.lastErr,
		Since:     now,
	})
	l.u.log.LogAttrs(l.ctx, slog.LevelDebug, "unit state",
		slog.String("from", ev.From.String()), slog.String("to", s.String()), slog.Int("attempt", ev.Attempt))
	l.callHook(ev)
}

func (l *loop) callHook(ev supervisor.Event) {
	hook := l.u.cfg.hook
	if hook == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			l.u.log.LogAttrs(l.ctx, slog.LevelError, "event hook panicked",
				slog.Any("panic", v), slog.String("from", ev.From.String()), slog.String("to", ev.To.String()))
		}
	}()
	hook(ev)
}

func (l *loop) logPanic(n int, p *supervisor.PanicError) {
	l.u.log.LogAttrs(l.ctx, slog.LevelError, "runner panicked",
		slog.Int("attempt", n), slog.Any("panic", p.Value), slog.String("stack", string(p.Stack)))
}

func (l *loop) armStopWarning() {
	if d := l.u.cfg.stopWarning; d > 0 && l.warn == nil {
		l.warn = time.NewTimer(d)
	}
}

func (l *loop) stopWarning() {
	if l.warn != nil {
		l.warn.Stop()
		l.warn = nil
	}
}

func (l *loop) stopTimers() {
	l.stopWarning()
	if l.backoff != nil {
		l.backoff.Stop()
	}
}
