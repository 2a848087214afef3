package services

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/servicelink"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// run is one run (supervised attempt) of a service: its context, its
// mailbox, and whether it called Ready. It lives from unitRunner.Run's
// start to its return. mu orders Ready, the ready timeout and the run's end,
// which come from Serve, a timer goroutine and Run.
type run struct {
	e      *entry
	ctx    context.Context
	cancel context.CancelCauseFunc
	mb     *bus.Mailbox

	mu       sync.Mutex
	ready    bool
	ended    bool          // end has run: no more Ready
	timedOut bool          // the ready timeout fired: the run is being torn down, no more Ready
	mbDone   chan struct{} // non-nil once the mailbox goroutine started
}

// unitRunner is what one supervise.Unit of a service runs (its
// supervise.Runner). A service gets a new unit, and so a new runner, each
// time it is started (Serve, Add while serving, Restart after it stopped).
type unitRunner struct {
	e *entry
	// first is the mailbox that registryState.start attached for the
	// unit's first run, so that commands sent as soon as the service is
	// started queue instead of failing. start sets it before the unit's
	// goroutine starts; then only the unit's runs touch it, one after
	// another (the first takes it), and once the unit's Serve has returned
	// its goroutine detaches it if no run took it.
	first *bus.Mailbox
}

// Run is one attempt of the service; it implements supervise.Runner. It
// takes the mailbox attached by registryState.start (the first run after a
// start) or attaches a new one (a run after a crash or Restart), arms the
// ready timeout, runs Serve, and on return stops the mailbox goroutine and
// detaches the mailbox.
func (ur *unitRunner) Run(ctx context.Context) error {
	e := ur.e
	rctx, cancel := context.WithCancelCause(ctx)
	mb := ur.first
	ur.first = nil
	if mb == nil {
		var err error
		mb, err = e.reg.bus.Attach(e.addr, e, e.mailboxOptions()...)
		if err != nil {
			cancel(nil)
			return fmt.Errorf("service %q: attach mailbox: %w", e.name, err)
		}
	}
	r := &run{e: e, ctx: rctx, cancel: cancel, mb: mb}
	defer r.end()
	if d := e.cfg.ReadyTimeout; d > 0 {
		t := time.AfterFunc(d, func() { r.timeout(d) })
		defer t.Stop()
	}
	sc := servicelink.NewContext(e.name, e.log, e.reg.bus, e.reg.store, r.markReady).(*service.Context)
	err := e.svc.Serve(rctx, sc)
	if ctx.Err() == nil {
		// The run ended while the unit still wanted it: if we cancelled it
		// (ready timeout, mailbox panic), that is the crash.
		if cause := context.Cause(rctx); cause != nil {
			return cause
		}
	}
	return err
}

// mailboxOptions are the options of every mailbox of the service.
func (e *entry) mailboxOptions() []bus.MailboxOption {
	opts := []bus.MailboxOption{bus.WithEvalTarget(e.svc)}
	if e.cfg.Capacity > 0 {
		opts = append(opts, bus.WithCapacity(e.cfg.Capacity))
	}
	return opts
}

// end stops the run: no more Ready, the mailbox goroutine stops and the
// mailbox is detached (pending requests fail with bus.ErrTargetStopped).
func (r *run) end() {
	r.mu.Lock()
	r.ended = true
	done := r.mbDone
	r.mu.Unlock()
	r.cancel(nil)
	r.mb.Detach()
	if done != nil {
		<-done
	}
}

// markReady implements service.Context.Ready.
func (r *run) markReady() {
	r.mu.Lock()
	if r.ready || r.ended || r.timedOut {
		r.mu.Unlock()
		return
	}
	r.ready = true
	r.mbDone = make(chan struct{})
	go r.serveMailbox(r.mbDone)
	r.mu.Unlock()
	supervise.MarkHealthy(r.ctx)
}

// timeout fires the ready timeout (service.WithReadyTimeout): a run that is not ready yet is cancelled with
// a *service.ReadyTimeoutError as the cause, and a Ready it calls later is ignored
// (it would otherwise reset the backoff of a run that is already a crash).
func (r *run) timeout(d time.Duration) {
	r.mu.Lock()
	fire := !r.ready && !r.ended
	r.timedOut = fire
	r.mu.Unlock()
	if fire {
		err := &service.ReadyTimeoutError{Service: r.e.name, Timeout: d}
		r.e.log.Warn("service not ready in time; restarting", slog.Duration("timeout", d))
		r.cancel(err)
	}
}

// serveMailbox is the run's mailbox goroutine, started by Ready and awaited
// by end. It first delivers AllClustersReady if that is due, then handles
// the mailbox until the run ends. The mailbox recovers a panic in the
// service's HandleMessage, in Stats or in an evaluated function itself (the
// requester gets bus.ErrHandlerPanic and the run goes on); a panic that
// still reaches this goroutine comes from the bus itself, is recovered
// here with its stack, and becomes the run's cancel cause (a crash).
func (r *run) serveMailbox(done chan<- struct{}) {
	defer close(done)
	defer func() {
		if v := recover(); v != nil {
			pe := &supervisor.PanicError{Value: v, Stack: debug.Stack()}
			r.e.log.Error("service panicked handling a message", slog.Any("panic", v), slog.String("stack", string(pe.Stack)))
			r.cancel(pe)
		}
	}()
	if r.e.reg.firstReady(r.e) {
		r.e.callAllReady(r.ctx)
	}
	_ = r.mb.Serve(r.ctx)
}

// HandleMessage implements bus.Handler for the service's mailbox: it passes
// the message to the service's own bus.Handler.
func (e *entry) HandleMessage(ctx context.Context, msg *bus.Message) (any, error) {
	h, ok := e.svc.(bus.Handler)
	if !ok {
		return nil, fmt.Errorf("service %q takes no commands (got %q): %w", e.name, msg.Topic, bus.ErrUnknownTopic)
	}
	return h.HandleMessage(ctx, msg)
}
