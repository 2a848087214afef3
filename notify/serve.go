package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/megane-go/megane/cluster"
)

// Serve posts the queued events until ctx ends. The first event of a
// message opens a window (WithWindow); the message goes out when the
// window ends or ten events are gathered, and never sooner than a window
// after the previous message or than a 429 asked. When ctx ends, Serve
// posts what is still queued, for at most 5 s, then returns nil. It starts
// no goroutine of its own; the goroutine that calls it does all the
// posting. Serve must not run twice at once.
func (n *Notifier) Serve(ctx context.Context) error {
	var next time.Time // no message before this
	var reported uint64
	for {
		var batch []cluster.Event
		select {
		case <-ctx.Done():
			n.flush(ctx, nil, &reported)
			return nil
		case e := <-n.in:
			batch = append(batch, e)
		}
		if !n.gather(ctx, &batch, next) {
			n.flush(ctx, batch, &reported)
			return nil
		}
		if !n.post(ctx, batch, &reported) {
			n.flush(ctx, batch, &reported)
			return nil
		}
		next = time.Now().Add(n.cfg.window)
	}
}

// gather adds queued events to batch until the window from now ends (and
// next has passed) or the batch is full and next has passed. It reports
// false if ctx ended first.
func (n *Notifier) gather(ctx context.Context, batch *[]cluster.Event, next time.Time) bool {
	timer := time.NewTimer(time.Until(later(time.Now().Add(n.cfg.window), next)))
	defer timer.Stop()
	for len(*batch) < maxEmbeds {
		select {
		case e := <-n.in:
			*batch = append(*batch, e)
		case <-timer.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	return sleep(ctx, time.Until(next))
}

// flush posts batch and what is queued, in messages of up to ten events,
// once ctx has ended: under a timeout of its own, with the same retries,
// but without waiting for the window. What cannot be posted in time
// counts as failed.
func (n *Notifier) flush(ctx context.Context, batch []cluster.Event, reported *uint64) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	for {
		for len(batch) < maxEmbeds {
			select {
			case e := <-n.in:
				batch = append(batch, e)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		if !n.post(fctx, batch, reported) {
			left := len(batch) + len(n.in)
			n.failed.Add(uint64(left))
			n.cfg.log.Warn("notifier stopped before posting every event", slog.Int("events", left))
			return
		}
		batch = batch[:0]
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sleep waits d, or until ctx ends (then it reports false).
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
