package supervise

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// Unit supervises one [Runner]: it runs it, recovers its panics, restarts it
// per its [supervisor.Policy], and reports every transition as a
// [supervisor.Event].
//
// Create a Unit with [New]; the zero value is not usable. A Unit must not be
// copied. All methods are safe for concurrent use. A Unit is served at most
// once: after [Unit.Serve] returns, make a new Unit to run again.
//
// Commands such as [Unit.Restart] reach the supervisor goroutine over an
// unbuffered channel that it reads in every state, so the hand-off waits at
// most for the current transition (and event hook) to finish. Each command
// carries a reply channel of capacity 1, so the supervisor never blocks on a
// caller. Queries ([Unit.Status] and friends) read a snapshot the supervisor
// publishes at every transition; they never block and work before Serve and
// after it returned.
type Unit struct {
	name   string
	runner Runner
	cfg    config
	log    *slog.Logger

	control  chan command  // unbuffered: the supervisor receives in every state
	live     chan struct{} // closed once the first attempt runs, or Serve ends
	liveOnce sync.Once
	done     chan struct{} // closed when Serve returns
	served   atomic.Bool
	status   atomic.Pointer[Status] // written only by the supervisor goroutine
}

// New returns a unit that will supervise r under the given name. The name
// appears in events and log lines. New panics if r is nil.
func New(name string, r Runner, opts ...Option) *Unit {
	if r == nil {
		panic("supervise: New called with a nil Runner")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	cfg.policy = normalized(cfg.policy)
	u := &Unit{
		name:    name,
		runner:  r,
		cfg:     cfg,
		log:     cfg.logger.With(slog.String("unit", name)),
		control: make(chan command),
		live:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	u.status.Store(&Status{State: supervisor.StateIdle, Since: time.Now()})
	return u
}

// Name returns the name given to New.
func (u *Unit) Name() string { return u.name }

// Policy returns the unit's policy with its defaults filled in.
func (u *Unit) Policy() supervisor.Policy { return u.cfg.policy }

// Serve runs the unit and blocks until it has stopped and its runner's
// goroutine has returned. It returns:
//
//   - nil when ctx ends, or when the runner returns nil and the policy does
//     not restart on success;
//   - an error wrapping [supervisor.ErrTooManyRestarts] and the last crash
//     when the restart cap is exceeded;
//   - the runner's error itself when it is fatal (wraps
//     [supervisor.ErrNoRestart] or matches [WithFatal]);
//   - [ErrAlreadyServed] when the unit is, or was, served already.
//
// The calling goroutine becomes the unit's supervisor: it owns all state and
// runs the event hook.
func (u *Unit) Serve(ctx context.Context) error {
	if !u.served.CompareAndSwap(false, true) {
		return ErrAlreadyServed
	}
	defer close(u.done)
	defer u.markLive()
	l := &loop{u: u, ctx: ctx, pol: u.cfg.policy, state: supervisor.StateIdle}
	return l.run()
}

// ServeBackground runs [Unit.Serve] on a new goroutine. It returns once the
// first attempt is running (or Serve has already ended, for example because
// ctx was done), together with a channel that receives Serve's result and is
// then closed. The channel has capacity 1, so nobody has to read it.
func (u *Unit) ServeBackground(ctx context.Context) <-chan error {
	errc := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		errc <- u.Serve(ctx)
		close(errc)
	}()
	select {
	case <-u.live:
	case <-exited:
	}
	return errc
}

// Restart asks for an immediate restart: the current attempt's context is
// cancelled, the unit waits for the runner to return, and starts it again
// at once, without backoff and without counting a crash. If the unit is in
// backoff, the wait is cut short. Restart calls that arrive while a restart
// is under way share it.
//
// Restart returns nil once the new attempt has started; [ErrStopped] if the
// unit has stopped or stops first; ctx.Err() if ctx ends first (the restart
// may still happen). Before Serve is called, Restart waits for it. Restart
// must not be called from the event hook.
func (u *Unit) Restart(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case u.control <- restartCmd{reply: reply}:
	case <-u.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-u.done:
		select {
		case err := <-reply:
			return err
		default:
			return ErrStopped
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status returns a consistent snapshot of the unit. It never blocks and
// costs one atomic load.
func (u *Unit) Status() Status { return *u.status.Load() }

// State returns the unit's current state.
func (u *Unit) State() supervisor.State { return u.status.Load().State }

// Restarts returns how many attempts were started after the first, for any
// reason.
func (u *Unit) Restarts() int { return u.status.Load().Restarts }

// LastError returns the most recent crash or fatal error, or nil.
func (u *Unit) LastError() error { return u.status.Load().LastError }

// Done returns a channel that is closed when Serve has returned.
func (u *Unit) Done() <-chan struct{} { return u.done }

func (u *Unit) markLive() { u.liveOnce.Do(func() { close(u.live) }) }
