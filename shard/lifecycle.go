package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
	"github.com/megane-go/megane/internal/wire"
)

// Open connects the shard and returns once its session is ready (READY or
// RESUMED arrived), or with the first fatal error, or with ctx's error (the
// shard is then closed). Afterwards the shard reconnects by itself until
// Close or a fatal error. An IDENTIFY first waits on the identify Queue,
// so Open may take as long as the queue makes it wait; a resume does not.
func (s *Shard) Open(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closing:
		s.mu.Unlock()
		return ErrClosed
	case s.opened:
		s.mu.Unlock()
		return ErrAlreadyOpen
	}
	s.opened = true
	s.mu.Unlock()

	if s.dispatch != nil {
		go s.dispatchLoop()
	}
	go s.run()

	select {
	case err := <-s.firstResult:
		return err
	case <-s.runDone:
		if err := s.Err(); err != nil {
			return err
		}
		return ErrClosed
	case <-ctx.Done():
		closeCtx, cancel := context.WithTimeout(context.Background(), s.cfg.closeTimeout)
		defer cancel()
		s.CloseWithCode(closeCtx, 4000, "open cancelled")
		return ctx.Err()
	}
}

// Close implements gateway.Gateway: it closes the connection with code 1000,
// which ends the session (State becomes zero), and stops the shard. See
// CloseWithCode.
func (s *Shard) Close(ctx context.Context) {
	s.CloseWithCode(ctx, websocket.CloseNormalClosure, "shutting down")
}

// CloseWithCode implements gateway.Gateway: it sends a close frame with code
// and message, stops reconnecting and returns once the shard's goroutines
// have exited (except a handler call that does not return; see below).
// Codes 1000 and 1001 end the session; any other code (for example 4000)
// keeps it resumable, so State can be handed to a new Shard (WithState)
// that resumes without an identify. A message over 123 bytes (the room in
// a close frame) is cut on a rune boundary.
//
// Close waits for the gateway to answer the close frame (at most
// WithCloseTimeout) and then for the handler to be given every queued
// dispatch. If ctx ends first the connection is dropped and the queued
// dispatches are discarded; State then points at the last handled one, so
// a resume replays the rest. A handler call already in progress cannot be
// interrupted: the dispatch goroutine exits as soon as it returns.
//
// Do not call Close from the handler or the event hook (they run on the
// shard's own goroutines, which Close waits for); use a new goroutine.
// Close is safe to call more than once and concurrently.
func (s *Shard) CloseWithCode(ctx context.Context, code int, message string) {
	s.mu.Lock()
	if !s.opened {
		s.closing = true
		s.status = gateway.StatusDisconnected
		if s.err == nil {
			s.err = ErrClosed
		}
		s.mu.Unlock()
		s.cancel()
		s.stopOnce.Do(func() { close(s.done) })
		return
	}
	first := !s.closing
	if first {
		s.closing = true
		s.closeCode = code
	}
	c := s.conn
	s.mu.Unlock()

	if first {
		s.log.Debug("closing shard", slog.Int("code", code))
		if c != nil {
			c.closeGracefully(code, message, s.cfg.closeTimeout)
		}
		s.cancel()
	}

	select {
	case <-s.runDone:
	case <-ctx.Done():
		if c != nil {
			c.drop()
		}
		<-s.runDone
	}
	select {
	case <-s.dispatchDone:
	case <-ctx.Done():
		s.abandon.Store(true)
		s.seq.Store(s.handledSeq.Load())
	}

	s.mu.Lock()
	if code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway {
		s.sessionID, s.resumeURL = "", ""
		s.seq.Store(0)
	}
	s.status = gateway.StatusDisconnected
	if s.err == nil {
		s.err = ErrClosed
	}
	s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.done) })
}

// check reports the options that no dial could work with: a gateway proxy
// URL that is not a WebSocket one, or a compression Discord would refuse.
func (c *config) check() error {
	if p := c.proxy; p != "" {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return fmt.Errorf("%w: gateway proxy %q: want ws:// or wss://HOST", ErrInvalidGatewayURL, p)
		}
	}
	if err := wire.CheckCompression(c.compression); err != nil {
		return fmt.Errorf("%w %q: want gateway.CompressionNone, CompressionZlibStream or CompressionZstdStream",
			ErrUnsupportedCompression, string(c.compression))
	}
	return nil
}

// run owns the connection loop: connect, classify why the connection ended,
// wait, reconnect. It exits when the shard's context ends or on a fatal
// error, and then closes the dispatch queue.
func (s *Shard) run() {
	defer close(s.runDone)
	if s.dispatch != nil {
		defer close(s.dispatch)
	}

	if err := s.cfg.check(); err != nil {
		s.fail(err) // not worth a dial: no retry helps
		return
	}
	attempt := 0
	everReady := false // a connection of this shard got READY or RESUMED
	for connections := 0; ; connections++ {
		if connections > 0 {
			s.reconnects.Add(1)
		}
		healthy, err := s.connect()
		everReady = everReady || healthy
		if s.stopping() {
			if s.Err() == nil {
				s.emit(Disconnected{ShardID: s.shardID, Err: ErrClosed})
			}
			return
		}
		s.setStatus(gateway.StatusDisconnected)
		s.emit(Disconnected{ShardID: s.shardID, Err: err})

		var wait time.Duration
		var closeErr *CloseError
		var invalid *InvalidSessionError
		switch {
		case errors.As(err, &closeErr) && closeErr.Fatal():
			s.fail(closeErr)
			return
		case errors.Is(err, ErrQueueClosed):
			// The process is shutting its identify queue down: retrying
			// could never identify.
			s.fail(err)
			return
		case errors.Is(err, ErrReadyTimeout) && !everReady:
			// A start that never got going: Open reports it, and whoever
			// opened the shard decides on a retry.
			s.fail(err)
			return
		case errors.As(err, &closeErr) && closeErr.reidentify():
			s.log.Warn("session invalidated by close code; identifying again", slog.Int("code", closeErr.Code))
			s.clearSession()
		case errors.As(err, &invalid) && !invalid.Resumable:
			s.log.Warn("invalid session; identifying again")
			s.clearSession()
			wait = s.cfg.invalidWaitMin + time.Duration(rand.Int64N(int64(s.cfg.invalidWaitMax-s.cfg.invalidWaitMin)+1))
		default:
			s.log.Info("connection ended; reconnecting", slog.Any("err", err))
		}
		if healthy {
			attempt = 0
		}
		if wait == 0 {
			wait = s.backoff(attempt)
		}
		attempt++
		s.emit(Reconnecting{ShardID: s.shardID, Attempt: attempt, Delay: wait, Resume: s.State().Resumable()})
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// stopping reports whether the shard was told to stop: its context ended,
// or CloseWithCode has begun. The latter comes first (Close sends its close
// frame before it cancels the context), and the connection it ends must
// not be taken for one to re-establish.
func (s *Shard) stopping() bool {
	if s.ctx.Err() != nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// backoff returns the wait before reconnect attempt n (0 = right after a
// healthy session: no wait): min·2^(n-1) capped at max, jittered in [d/2, d].
func (s *Shard) backoff(n int) time.Duration {
	if n == 0 {
		return 0
	}
	d := s.cfg.backoffMin
	for i := 1; i < n && d < s.cfg.backoffMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.backoffMax)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

func (s *Shard) clearSession() {
	s.mu.Lock()
	s.sessionID, s.resumeURL = "", ""
	s.mu.Unlock()
	s.seq.Store(0)
}

// fail stops the shard for good with err.
func (s *Shard) fail(err error) {
	s.log.Error("shard stopped", slog.Any("err", err))
	s.mu.Lock()
	s.status = gateway.StatusDisconnected
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.report(err)
	s.emit(Fatal{ShardID: s.shardID, Err: err})
	s.cancel()
	s.stopOnce.Do(func() { close(s.done) })
}

// report hands Open its result once: nil on the first READY/RESUMED, or the
// fatal error.
func (s *Shard) report(err error) {
	s.firstOnce.Do(func() { s.firstResult <- err })
}
