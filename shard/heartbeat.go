package shard

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// heartbeat beats on c until ctx ends or the connection is judged a
// zombie. The first beat goes out after interval × jitter, then one every
// interval. Before each beat after the first it checks that the previous
// beat was acknowledged; a missing ACK kills the connection with code 4000
// (the session stays resumable) — unless the read loop stalled since that
// beat, in which case the ACK may be unread and no judgement is made.
func (s *Shard) heartbeat(ctx context.Context, c *conn, interval time.Duration, done chan<- struct{}) {
	defer close(done)
	j := s.cfg.jitter()
	if j < 0 || j >= 1 {
		j = 0
	}
	timer := time.NewTimer(time.Duration(float64(interval) * j))
	defer timer.Stop()
	var stallMark uint64
	for beats := 0; ; beats++ {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if beats > 0 && !c.acked.Load() {
			if c.stalled.Load() || c.stalls.Load() != stallMark {
				s.log.Debug("heartbeat ACK not read yet; read loop is stalled, not judging")
			} else {
				s.zombies.Add(1)
				s.log.Warn("heartbeat not acknowledged; zombie connection, resuming", slog.Duration("interval", interval))
				c.kill(4000, ErrZombie)
				return
			}
		}
		stallMark = c.stalls.Load()
		if err := s.sendHeartbeat(c, false); err != nil {
			s.log.Warn("heartbeat write failed", slog.Any("err", err))
			c.kill(4000, err)
			return
		}
		timer.Reset(interval)
	}
}

// sendHeartbeat writes one heartbeat with the last accepted sequence number
// (null before any).
//
// A periodic beat (requested false) clears the ACK flag before writing, so
// an ACK read while the write is still returning counts for this beat.
// An answer to the gateway's op 1 (requested true) leaves the flag alone:
// its ACK may legitimately still be on its way when the next periodic beat
// is due, and no ACK the heartbeat goroutine waits for has been missed. Its
// ACK, when it comes, still sets the flag. Latency keeps measuring the
// oldest unacknowledged beat.
func (s *Shard) sendHeartbeat(c *conn, requested bool) error {
	now := int64(time.Since(s.epoch))
	if requested {
		c.beatSentAt.CompareAndSwap(0, now)
	} else {
		c.acked.Store(false)
		c.beatSentAt.Store(now)
	}
	var d any
	if seq := s.seq.Load(); seq != 0 {
		d = seq
	}
	if _, err := s.sendInternal(c, int(gateway.OpcodeHeartbeat), d); err != nil {
		return fmt.Errorf("shard: heartbeat: %w", err)
	}
	s.beats.Add(1)
	return nil
}
