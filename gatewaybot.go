package megane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/megane-go/megane/shard"
)

// ErrBadGatewayAnswer is matched by a *GatewayError for an answer of
// GET /gateway/bot that arrived but cannot be used: a body that is not
// JSON, a url that is not a ws:// or wss:// URL with a host, shards below
// 1, or a session_start_limit whose total is below 1. The error names the
// field. Such an answer is never retried and nothing is dialled: in
// particular an empty url never falls back to Discord's own gateway, so a
// bot pointed at a fake or a proxy (WithAPIURL) talks to no other host.
var ErrBadGatewayAnswer = errors.New("megane: unusable GET /gateway/bot answer")

// errRESTUnauthorized is the cause of a GatewayError for a 401. It says
// only what HTTP said: the close code 4004 is the gateway's way, and
// ErrInvalidToken's text names it.
var errRESTUnauthorized = errors.New("the token was rejected")

// GatewayError is returned by Run (and by the re-shards, which ask again)
// when GET /gateway/bot failed or its answer cannot be used. It never holds
// the token.
//
//   - URL is the URL requested, so a REST base without /api/v10 shows.
//   - Status is the HTTP status, or 0 when no answer came (a transport
//     error, or the context ended).
//   - RetryAfter is a 429's retry_after.
//   - Err is the cause: ErrBadGatewayAnswer (wrapped) for an unusable
//     answer, the transport or context error, or a short text.
//
// A 401 matches ErrInvalidToken (errors.Is), as a close 4004 does, though
// its text says HTTP 401 and no close code.
type GatewayError struct {
	URL        string
	Status     int
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *GatewayError) Error() string {
	var b strings.Builder
	b.WriteString("megane: GET ")
	b.WriteString(e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *GatewayError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidToken and the status is 401.
func (e *GatewayError) Is(target error) bool {
	return target == shard.ErrInvalidToken && e.Status == http.StatusUnauthorized
}

// The bounds of GET /gateway/bot's retries.
const (
	// gatewayBotRetries is how many times a failed GET /gateway/bot is
	// tried again: after a 5xx or a transport error (waiting the backoff,
	// which doubles) or a 429 (waiting its retry_after).
	gatewayBotRetries = 3
	// defaultGatewayBackoff is the first wait after a 5xx or a transport
	// error.
	defaultGatewayBackoff = time.Second
	// maxRetryAfter is the longest retry_after waited for; a longer one
	// (a ban, say) fails at once with RetryAfter set.
	maxRetryAfter = time.Minute
	// maxGatewayBotBody bounds the answer read.
	maxGatewayBotBody = 1 << 20
)

// userAgent is the User-Agent of the Manager's REST requests, in the form
// Discord asks for (disgo's own, which disgo sets only on clients it
// builds itself).
var userAgent = fmt.Sprintf("DiscordBot (%s, %s)", disgo.GitHub, disgo.Version)

// apiBase is the REST base URL: WithAPIURL's, else Discord's.
func (m *Manager) apiBase() string {
	if m.cfg.apiURL != "" {
		return strings.TrimSuffix(m.cfg.apiURL, "/")
	}
	return fmt.Sprintf("%sv%d", rest.API, rest.Version)
}

// gatewayBot fetches and checks GET /gateway/bot, with the HTTP client of
// the Manager's REST client (whose Close drops its idle connections). A
// 5xx or a transport error is tried again up to gatewayBotRetries times
// with a doubling backoff, a 429 after its retry_after (if at most
// maxRetryAfter); anything else fails at once. The request is made here
// rather than through disgo's REST client, which retries a 429 up to ten
// times without waiting unless rate-limit headers say how long, and cannot
// tell an unusable answer from a good one.
func (m *Manager) gatewayBot(ctx context.Context, client rest.Client) (*discord.GatewayBot, error) {
	endpoint := m.apiBase() + "/gateway/bot"
	backoff := m.cfg.gatewayBackoff
	for try := 0; ; try++ {
		gb, err := m.getGatewayBot(ctx, client.HTTPClient(), endpoint)
		if err == nil {
			return gb, nil
		}
		wait, retry := retryWait(err, backoff)
		if !retry || try == gatewayBotRetries || ctx.Err() != nil {
			return nil, err
		}
		m.log.Warn("GET /gateway/bot failed; trying again", slog.String("err", err.Error()),
			slog.Duration("wait", wait), slog.Int("try", try+1))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, &GatewayError{URL: endpoint, Err: ctx.Err()}
		}
		backoff *= 2
	}
}

// retryWait says whether a failed GET /gateway/bot is tried again, and
// after how long.
func retryWait(err error, backoff time.Duration) (time.Duration, bool) {
	var ge *GatewayError
	if !errors.As(err, &ge) || errors.Is(err, ErrBadGatewayAnswer) {
		return 0, false
	}
	switch {
	case ge.Status == http.StatusTooManyRequests:
		if ge.RetryAfter > maxRetryAfter {
			return 0, false
		}
		if ge.RetryAfter > 0 {
			return ge.RetryAfter, true
		}
		return backoff, true
	case ge.Status == 0, ge.Status >= 500:
		return backoff, true
	}
	return 0, false
}

// getGatewayBot makes one GET /gateway/bot. Every error is a
// *GatewayError.
func (m *Manager) getGatewayBot(ctx context.Context, hc *http.Client, endpoint string) (*discord.GatewayBot, error) {
	fail := func(status int, err error) error { return &GatewayError{URL: endpoint, Status: status, Err: err} }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fail(0, err)
	}
	req.Header.Set("Authorization", "Bot "+m.token)
	req.Header.Set("User-Agent", userAgent)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fail(0, ctx.Err())
		}
		// *url.Error repeats the method and URL; its cause is enough.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fail(0, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxGatewayBotBody))
	if err != nil {
		return nil, fail(resp.StatusCode, fmt.Errorf("reading the answer: %w", err))
	}
	switch status := resp.StatusCode; {
	case status == http.StatusUnauthorized:
		return nil, fail(status, errRESTUnauthorized)
	case status == http.StatusTooManyRequests:
		ge := &GatewayError{URL: endpoint, Status: status, RetryAfter: retryAfter(resp.Header, body),
			Err: errors.New("rate limited")}
		return nil, ge
	case status < 200 || status > 299:
		text := http.StatusText(status)
		if text == "" {
			text = "unexpected status"
		}
		if status >= 400 && status < 500 && !strings.Contains(endpoint, "/api/v") {
			text += " (a Discord REST base URL ends in /api/v10)"
		}
		return nil, fail(status, errors.New(text))
	}
	gb, err := parseGatewayBot(body)
	if err != nil {
		return nil, fail(resp.StatusCode, err)
	}
	if gb.SessionStartLimit.MaxConcurrency < 1 {
		// disgo divides by it; Discord means 1.
		m.log.Warn("GET /gateway/bot: max_concurrency below 1; using 1",
			slog.Int("max_concurrency", gb.SessionStartLimit.MaxConcurrency))
		gb.SessionStartLimit.MaxConcurrency = 1
	}
	return gb, nil
}

// retryAfter is a 429's wait: retry_after in the body (seconds, with a
// fraction, as Discord sends it), else the Retry-After header (seconds),
// else 0.
func retryAfter(h http.Header, body []byte) time.Duration {
	var rl struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &rl) == nil && rl.RetryAfter > 0 {
		return time.Duration(rl.RetryAfter * float64(time.Second))
	}
	if s, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return 0
}

// parseGatewayBot decodes and checks an answer of GET /gateway/bot. Every
// error matches ErrBadGatewayAnswer and names the field.
func parseGatewayBot(body []byte) (*discord.GatewayBot, error) {
	var gb discord.GatewayBot
	if err := json.Unmarshal(body, &gb); err != nil {
		return nil, &badAnswerError{"not a JSON object: " + err.Error()}
	}
	if reason := checkGatewayURL(gb.URL); reason != "" {
		return nil, &badAnswerError{"url " + quoteShort(gb.URL) + ": " + reason}
	}
	if gb.Shards < 1 {
		return nil, &badAnswerError{fmt.Sprintf("shards %d: want at least 1", gb.Shards)}
	}
	l := gb.SessionStartLimit
	if l.Total < 1 || l.Remaining < 0 || l.ResetAfter < 0 {
		return nil, &badAnswerError{fmt.Sprintf("session_start_limit {total %d, remaining %d, reset_after %d}: want a total of at least 1 and nothing negative",
			l.Total, l.Remaining, l.ResetAfter)}
	}
	return &gb, nil
}

// badAnswerError is the cause of a GatewayError for an unusable answer:
// it matches ErrBadGatewayAnswer and says what is wrong.
type badAnswerError struct{ what string }

func (e *badAnswerError) Error() string { return "unusable answer: " + e.what }

func (e *badAnswerError) Is(target error) bool { return target == ErrBadGatewayAnswer }

// checkGatewayURL says why raw cannot be dialled, or "" if it can.
func checkGatewayURL(raw string) string {
	if raw == "" {
		return "empty"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "does not parse"
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "not a ws:// or wss:// URL"
	}
	if u.Host == "" {
		return "no host"
	}
	return ""
}

// quoteShort quotes s, cut to 100 bytes: an answer may be anything.
func quoteShort(s string) string {
	if len(s) > 100 {
		return strconv.Quote(s[:100]) + "..."
	}
	return strconv.Quote(s)
}
