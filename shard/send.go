package shard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// sendLimiter is a sliding-window limit on frames written per connection:
// at most limit per window, of which reserved are only for internal frames
// (heartbeats, IDENTIFY, RESUME).
type sendLimiter struct {
	limit    int
	window   time.Duration
	reserved int

	mu    sync.Mutex
	sends []time.Time // send times within the window, oldest first
}

func newSendLimiter(limit int, window time.Duration, reserved int) *sendLimiter {
	return &sendLimiter{limit: limit, window: window, reserved: reserved}
}

// reset forgets past sends; Discord's limit is per connection.
func (l *sendLimiter) reset() {
	l.mu.Lock()
	l.sends = l.sends[:0]
	l.mu.Unlock()
}

// reserve takes a slot now, or says when to try again.
func (l *sendLimiter) reserve(internal bool) (ok bool, retryAt time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	cut := 0
	for cut < len(l.sends) && now.Sub(l.sends[cut]) >= l.window {
		cut++
	}
	if cut > 0 {
		l.sends = append(l.sends[:0], l.sends[cut:]...)
	}
	capacity := l.limit
	if !internal {
		capacity -= l.reserved
	}
	if len(l.sends) < capacity {
		l.sends = append(l.sends, now)
		return true, time.Time{}
	}
	return false, l.sends[len(l.sends)-capacity].Add(l.window)
}

// wait blocks until a slot is free or ctx ends.
func (l *sendLimiter) wait(ctx context.Context, internal bool) error {
	for {
		ok, retryAt := l.reserve(internal)
		if ok {
			return nil
		}
		t := time.NewTimer(time.Until(retryAt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", ErrRateLimited, ctx.Err())
		case <-t.C:
		}
	}
}

// sendInternal writes a heartbeat, IDENTIFY or RESUME on c. It may use the
// reserved slots of the send limit and waits at most the write timeout.
// written reports whether the write began: false means no byte of the
// frame can have reached the peer; true with an error means it may have.
func (s *Shard) sendInternal(c *conn, op int, d any) (written bool, err error) {
	payload, err := marshalFrame(op, d)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.writeTimeout)
	defer cancel()
	if err := s.limiter.wait(ctx, true); err != nil {
		return false, err
	}
	return true, c.write(payload)
}

// Send implements gateway.Gateway: it writes one frame with op and data
// (for example a presence update or a guild members request). It returns
// ErrNotReady unless the session is ready, ErrPayloadTooLarge for a frame
// over 4096 bytes (nothing is sent), and an error matching ErrRateLimited
// if ctx ends while it waits for the send limit. A user Send never takes
// the slots reserved for heartbeats. Safe for concurrent use.
func (s *Shard) Send(ctx context.Context, op gateway.Opcode, data gateway.MessageData) error {
	payload, err := marshalFrame(int(op), data)
	if err != nil {
		return err
	}
	if len(payload) > MaxPayloadSize {
		return fmt.Errorf("%w: op %d is %d bytes", ErrPayloadTooLarge, int(op), len(payload))
	}
	s.mu.Lock()
	c, status, closing := s.conn, s.status, s.closing
	s.mu.Unlock()
	if closing {
		return ErrClosed
	}
	if c == nil || status != gateway.StatusReady {
		return ErrNotReady
	}
	if err := s.limiter.wait(ctx, false); err != nil {
		return err
	}
	return c.write(payload)
}
