package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/megane-go/megane/cluster"
)

// maxRetryAfter bounds the wait a 429 may ask for.
const maxRetryAfter = 10 * time.Minute

// post sends batch as one message, trying again after a 429 (waiting what
// it asks), a 5xx or a transport error (with backoff), up to maxAttempts
// tries. It reports sent unless ctx ended first (then the message may be
// posted again by the caller); a message given up on counts as sent, and
// its events as failed.
func (n *Notifier) post(ctx context.Context, batch []cluster.Event, reported *uint64) (sent bool) {
	dropped := n.dropped.Load()
	if dropped > *reported {
		n.cfg.log.Warn("notifier queue full: dropped the oldest events", slog.Uint64("dropped", dropped-*reported),
			slog.Uint64("dropped_total", dropped))
	}
	body, err := json.Marshal(newMessage(batch, dropped-*reported))
	if err != nil { // cannot happen: the message holds only strings and ints
		n.giveUp(batch, "encoding the message failed", slog.String("err", err.Error()))
		return true
	}
	*reported = dropped
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		status, after, err := n.do(ctx, body)
		if err == nil && status/100 == 2 {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		var pause time.Duration
		switch {
		case status == http.StatusTooManyRequests:
			pause = after
		case err != nil || status >= 500:
			pause = backoff
			backoff = min(2*backoff, maxBackoff)
		default:
			n.giveUp(batch, "Discord refused the message", slog.Int("status", status))
			return true
		}
		if attempt == maxAttempts {
			attrs := []slog.Attr{slog.Int("status", status), slog.Int("attempts", attempt)}
			if err != nil {
				attrs = append(attrs, slog.String("err", err.Error()))
			}
			n.giveUp(batch, "posting the message failed; giving up", attrs...)
			return true
		}
		n.cfg.log.Debug("posting the message failed; trying again", slog.Int("status", status),
			slog.Duration("wait", pause), slog.Int("attempt", attempt))
		if !sleep(ctx, pause) {
			return false
		}
	}
}

// giveUp counts and logs a message that will not be posted.
func (n *Notifier) giveUp(batch []cluster.Event, msg string, attrs ...slog.Attr) {
	n.failed.Add(uint64(len(batch)))
	n.cfg.log.LogAttrs(context.Background(), slog.LevelWarn, msg, append(attrs, slog.Int("events", len(batch)))...)
}

// do makes one POST. It returns the status and, for a 429, how long to
// wait: the body's retry_after (seconds), else the Retry-After header,
// else a second. An error never holds the webhook's token.
func (n *Notifier) do(ctx context.Context, body []byte) (status int, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, 0, n.redact(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.cfg.client.Do(req)
	if err != nil {
		return 0, 0, n.redact(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusTooManyRequests {
		return resp.StatusCode, retryAfterOf(resp.Header, b), nil
	}
	return resp.StatusCode, 0, nil
}

// retryAfterOf reads a 429's wait.
func retryAfterOf(h http.Header, body []byte) time.Duration {
	var rl struct {
		RetryAfter float64 `json:"retry_after"`
	}
	secs := 1.0
	if json.Unmarshal(body, &rl) == nil && rl.RetryAfter > 0 {
		secs = rl.RetryAfter
	} else if v, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil && v > 0 {
		secs = v
	}
	return min(time.Duration(secs*float64(time.Second)), maxRetryAfter)
}

// redact replaces the webhook URL in a transport error (a *url.Error
// names it) with its redacted form, and any other mention of it too.
func (n *Notifier) redact(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = &url.Error{Op: ue.Op, URL: n.redacted, Err: ue.Err}
	}
	if msg := err.Error(); strings.Contains(msg, n.endpoint) || strings.Contains(msg, n.token) {
		return errors.New(strings.ReplaceAll(strings.ReplaceAll(msg, n.endpoint, n.redacted), n.token, "REDACTED"))
	}
	return err
}
