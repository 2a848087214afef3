package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

type mailboxConfig struct {
	capacity   int
	evalTarget any
}

// MailboxOption configures one mailbox in [Bus.Attach].
type MailboxOption func(*mailboxConfig)

// WithCapacity sets how many messages this mailbox holds (at least 1),
// overriding the bus's [WithMailboxSize].
func WithCapacity(n int) MailboxOption {
	return func(c *mailboxConfig) { c.capacity = max(n, 1) }
}

// WithEvalTarget sets the value that [Eval] and [EvalFunc] functions receive
// as their target, for example the *cluster.Cluster that owns the mailbox.
// A function whose target type v does not have gets a [*TypeError] instead
// of running. Without it, a function taking an interface type receives nil
// and any other gets a [*TypeError].
func WithEvalTarget(v any) MailboxOption {
	return func(c *mailboxConfig) { c.evalTarget = v }
}

// MailboxStats counts what happened to a mailbox's messages.
type MailboxStats struct {
	Delivered uint64 // messages put into the mailbox
	Handled   uint64 // messages whose handler (or eval) ran
	Panics    uint64 // handled messages whose handler panicked (requests and sends)
	Full      uint64 // messages refused because the mailbox was full
	Skipped   uint64 // requests dropped unrun because the requester had gone
	Stopped   uint64 // messages refused or dropped because the mailbox was detached
	Pending   int    // messages waiting now
	Capacity  int    // the mailbox's capacity
}

// Mailbox is the bounded queue of one attached target. It is created by
// [Bus.Attach] and drained by its owner through [Mailbox.Serve]; the bus never
// starts a goroutine per message. The zero Mailbox is not usable. A Mailbox
// is safe for concurrent use and must not be copied.
type Mailbox struct {
	bus        *Bus
	addr       Address
	h          Handler
	evalTarget any
	queue      chan *delivery // bounded by the capacity; see the package doc
	done       chan struct{}  // closed by Detach

	// mu orders enqueues against Detach: senders hold it shared while they
	// enqueue, Detach takes it exclusively to set stopped, after which no
	// message can enter the queue and the drain catches every earlier one.
	mu         sync.RWMutex
	stopped    bool
	detachOnce sync.Once
	serving    atomic.Bool

	delivered, handled, panics, full, skipped, stoppedN atomic.Uint64
}

func newMailbox(b *Bus, addr Address, h Handler, mc mailboxConfig) *Mailbox {
	return &Mailbox{
		bus:        b,
		addr:       addr,
		h:          h,
		evalTarget: mc.evalTarget,
		queue:      make(chan *delivery, mc.capacity),
		done:       make(chan struct{}),
	}
}

// Address returns the address the mailbox is attached to.
func (m *Mailbox) Address() Address { return m.addr }

// Stats returns the mailbox's counters. It is cheap and safe to call at any time.
func (m *Mailbox) Stats() MailboxStats {
	return MailboxStats{
		Delivered: m.delivered.Load(),
		Handled:   m.handled.Load(),
		Panics:    m.panics.Load(),
		Full:      m.full.Load(),
		Skipped:   m.skipped.Load(),
		Stopped:   m.stoppedN.Load(),
		Pending:   len(m.queue),
		Capacity:  cap(m.queue),
	}
}

// Serve handles the mailbox's messages one at a time, in arrival order, on
// the calling goroutine, until ctx ends (it returns ctx.Err()) or the mailbox
// is detached (it returns nil). It follows suture's Serve contract: it starts
// no goroutines and may be called again after it returns, for example by a
// supervisor restarting the target. Only one Serve may run at a time; a
// concurrent call fails at once with [ErrAlreadyServing].
//
// Returning because ctx ended does not detach the mailbox: messages keep
// arriving and wait for the next Serve. Call [Mailbox.Detach] when the target
// stops, so that requesters fail fast with [ErrTargetStopped].
//
// A handler (or eval function) that panics does not stop Serve: the panic
// is recovered on Serve's goroutine, counted in Stats().Panics, and Serve
// goes on with the next message. A requester gets a [*HandlerError] with
// the panic value in Msg and the stack in Stack, matching [ErrHandlerPanic];
// for a fire-and-forget message the panic is logged once, at error level,
// with the target, the topic and the stack. A handler's panic therefore
// never reaches the owner's supervisor: the target is not restarted.
func (m *Mailbox) Serve(ctx context.Context) error {
	if !m.serving.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: %s", ErrAlreadyServing, m.addr)
	}
	defer m.serving.Store(false)
	// Handlers see which mailbox they run on, so that a request they make
	// to their own target runs inline instead of deadlocking.
	ctx = context.WithValue(ctx, servingKey{}, m)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.done:
			return nil
		case msg := <-m.queue:
			select {
			case <-m.done:
				m.reject(msg)
				return nil
			default:
			}
			m.handle(ctx, msg)
		}
	}
}

// Detach marks the target as stopped: requests waiting in the mailbox fail at
// once with [ErrTargetStopped], fire-and-forget messages in it are dropped
// (counted in Stats().Stopped), later messages fail with ErrTargetStopped, and
// a running [Mailbox.Serve] returns once its current handler finishes. The
// address stays known to the bus, so broadcasts report it as stopped, and
// [Bus.Attach] may attach a new mailbox to it (a restart). Detach is
// idempotent and safe to call from any goroutine, including a handler.
func (m *Mailbox) Detach() {
	m.bus.local.detached(m)
	m.detach()
}

func (m *Mailbox) detach() {
	m.detachOnce.Do(func() {
		close(m.done)
		// Senders blocked waiting for room see done and leave; then no
		// sender can enqueue once stopped is set.
		m.mu.Lock()
		m.stopped = true
		m.mu.Unlock()
		n := 0
		for {
			select {
			case msg := <-m.queue:
				m.reject(msg)
				n++
			default:
				m.bus.log.Debug("bus: detached", m.addr.logAttr(), slog.Int("rejected", n))
				return
			}
		}
	})
}

func (m *Mailbox) reject(msg *delivery) {
	m.stoppedN.Add(1)
	if msg.reply != nil {
		msg.reply <- reply{err: fmt.Errorf("%w: %s", ErrTargetStopped, m.addr)}
	}
}

// errFullTry is returned by enqueue in deliverTry mode; it never leaves the package.
var errFullTry = errors.New("bus: mailbox full (will wait)")

// enqueue puts msg into the mailbox. See the package doc for the full policy.
func (m *Mailbox) enqueue(ctx context.Context, msg *delivery, mode deliveryMode) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.stopped {
		m.stoppedN.Add(1)
		return fmt.Errorf("%w: %s", ErrTargetStopped, m.addr)
	}
	select {
	case m.queue <- msg:
		m.delivered.Add(1)
		return nil
	default:
	}
	switch mode {
	case deliverTry:
		return errFullTry
	case deliverNow:
		m.full.Add(1)
		return fmt.Errorf("%w: %s", ErrMailboxFull, m.addr)
	}
	select {
	case m.queue <- msg:
		m.delivered.Add(1)
		return nil
	case <-m.done:
		m.stoppedN.Add(1)
		return fmt.Errorf("%w: %s", ErrTargetStopped, m.addr)
	case <-ctx.Done():
		m.full.Add(1)
		return fmt.Errorf("%w: %s: %w", ErrMailboxFull, m.addr, ctx.Err())
	}
}

// servingKey is the context key under which Serve records its mailbox.
type servingKey struct{}

// selfServing returns the mailbox for to if ctx belongs to a handler running
// on that mailbox's Serve goroutine, else nil.
func selfServing(ctx context.Context, to Address) *Mailbox {
	if m, _ := ctx.Value(servingKey{}).(*Mailbox); m != nil && m.addr == to {
		return m
	}
	return nil
}

// handleInline runs a request that a handler of m made to m itself, on the
// calling (Serve) goroutine, as a nested call: queueing it would deadlock,
// since the only goroutine that drains m is waiting for the reply. The reply
// is in msg.reply when it returns, unless the request was skipped.
func (m *Mailbox) handleInline(ctx context.Context, msg *delivery) {
	select {
	case <-m.done:
		m.reject(msg)
		return
	default:
	}
	m.delivered.Add(1)
	m.handle(ctx, msg)
}

// handle runs one message on the Serve goroutine.
func (m *Mailbox) handle(serveCtx context.Context, msg *delivery) {
	hctx := serveCtx
	if msg.reply != nil {
		if msg.ctx.Err() != nil {
			// The requester has gone; nobody reads the reply.
			m.skipped.Add(1)
			return
		}
		hc := &msg.hctx
		hc.Context, hc.serve = msg.ctx, serveCtx
		defer hc.finish()
		hctx = hc
	}
	m.handled.Add(1)
	v, err := m.call(hctx, msg)
	if msg.reply != nil {
		msg.reply <- reply{value: v, err: err}
		return
	}
	if err == nil {
		return
	}
	attrs := []any{m.addr.logAttr(), slog.String("from", msg.From.String()), slog.String("topic", msg.Topic)}
	// This handler's own panic, not an error wrapping another target's.
	if he, _ := err.(*HandlerError); he != nil && len(he.Stack) > 0 {
		m.bus.log.Error("bus: message handler panicked",
			append(attrs, slog.String("panic", he.Msg), slog.String("stack", string(he.Stack)))...)
		return
	}
	m.bus.log.Warn("bus: message handler failed", append(attrs, slog.Any("error", err))...)
}

// call runs msg's eval or the mailbox's handler and returns its reply, or
// a *HandlerError: the handler's error, or its panic recovered here, on
// the handler's goroutine, so that the stack names the panicking function.
func (m *Mailbox) call(ctx context.Context, msg *delivery) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			m.panics.Add(1)
			perr, _ := r.(error) // nil unless the panic value is an error
			v, err = nil, &HandlerError{
				Target: m.addr, Topic: msg.Topic,
				Msg: fmt.Sprintf("panic: %v", r), Stack: debug.Stack(), Err: perr,
			}
		}
	}()
	switch {
	case msg.eval != nil:
		v, err = msg.eval(ctx, m.evalTarget)
	case m.h != nil:
		v, err = m.h.HandleMessage(ctx, &msg.Message)
	default:
		err = fmt.Errorf("%w: %q (no handler)", ErrUnknownTopic, msg.Topic)
	}
	if err != nil {
		return v, &HandlerError{Target: m.addr, Topic: msg.Topic, Msg: err.Error(), Err: err}
	}
	return v, nil
}
