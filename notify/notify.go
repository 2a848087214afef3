// Package notify posts a bot's lifecycle events to a Discord channel
// through a webhook: a cluster that crashed or restarted, a supervisor
// that gave up (the restart cap), a re-shard that started, completed or
// failed, an identify budget running low, and a bot token that Discord
// rejected.
//
// A [Notifier] takes events with [Notifier.Notify], which never blocks,
// and posts them from [Notifier.Serve]: the events of one window (default
// 2 s) go out as one message of up to ten embeds, at most one message per
// window, honouring Discord's 429 answers. Give it to a Manager with
// megane.WithNotifier, whose Run serves it; or call Notify and Serve
// yourself.
//
// The webhook URL holds the webhook's token, a secret: no log line, error
// or printed value of this package shows it, only the webhook's ID.
package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/cluster"
)

// ErrInvalidWebhookURL is returned by [New] for a URL that is not a
// webhook's: http or https, with a path ending in
// /webhooks/{webhook.id}/{webhook.token}. The error never holds the URL.
var ErrInvalidWebhookURL = errors.New("notify: invalid webhook URL")

const (
	// defaultWindow is how long the Notifier gathers events into one
	// message, and the least time between two messages.
	defaultWindow = 2 * time.Second
	// defaultQueueSize is how many events wait for Serve at most.
	defaultQueueSize = 100
	// maxAttempts bounds the tries of one message: a 429, a 5xx or a
	// transport error is tried again, up to this many times in all.
	maxAttempts = 5
	// firstBackoff and maxBackoff bound the wait before another try after
	// a 5xx or a transport error: it doubles from firstBackoff.
	firstBackoff = time.Second
	maxBackoff   = 30 * time.Second
	// flushTimeout bounds the posting of what is left once Serve's
	// context ends.
	flushTimeout = 5 * time.Second
)

// Notifier posts lifecycle events to a Discord webhook. Build it with
// [New]. Notify may be called from any goroutine; Serve runs the posting
// and must run once at a time. A Notifier must not be copied.
//
// Its queue is bounded (WithQueueSize): when it is full, Notify drops the
// oldest event to make room and counts it ([Notifier.Dropped]); the next
// message says how many were dropped, and the drop is logged. A message
// that Discord refuses (a 4xx other than 429), or that still fails after
// 5 tries, is given up, logged and counted ([Notifier.Failed]).
type Notifier struct {
	cfg      config
	endpoint string // the webhook URL with ?wait=false: secret
	redacted string // the same with the token replaced: what logs show
	token    string // the webhook's token: secret
	id       snowflake.ID

	in      chan cluster.Event
	mu      sync.Mutex // serializes Notify's drop of the oldest event
	dropped atomic.Uint64
	failed  atomic.Uint64
}

// config is a Notifier's configuration.
type config struct {
	window    time.Duration
	queueSize int
	client    *http.Client
	log       *slog.Logger
}

func defaultConfig() config {
	return config{
		window:    defaultWindow,
		queueSize: defaultQueueSize,
		client:    &http.Client{Timeout: 10 * time.Second},
		log:       slog.New(slog.DiscardHandler),
	}
}

// Option configures a Notifier.
type Option func(*config)

// WithWindow sets how long events are gathered into one message, which is
// also the least time between two messages. It must be positive. Default
// 2 s.
func WithWindow(d time.Duration) Option { return func(c *config) { c.window = d } }

// WithQueueSize sets how many events may wait for Serve; it must be at
// least 1. Default 100.
func WithQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithHTTPClient sets the HTTP client of the posts. Default: a client with
// a 10 s timeout. A nil client keeps the default.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc != nil {
			c.client = hc
		}
	}
}

// WithLogger sets the logger. Default: none. A nil logger keeps it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// New returns a Notifier that posts to webhookURL, Discord's
// https://discord.com/api/webhooks/{webhook.id}/{webhook.token} (any base
// works, such as a fake Discord's /api/v10). It returns
// ErrInvalidWebhookURL for a URL it cannot use, and an error for a bad
// option value. It does no I/O.
func New(webhookURL string, opts ...Option) (*Notifier, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.window <= 0 {
		return nil, errors.New("notify: WithWindow must be positive")
	}
	if cfg.queueSize < 1 {
		return nil, errors.New("notify: WithQueueSize must be at least 1")
	}
	u, id, token, err := parseWebhook(webhookURL)
	if err != nil {
		return nil, err
	}
	n := &Notifier{cfg: cfg, id: id, token: token, in: make(chan cluster.Event, cfg.queueSize)}
	q := u.Query()
	q.Set("wait", "false")
	u.RawQuery = q.Encode()
	n.endpoint = u.String()
	dir, _, _ := strings.Cut(u.Path, "/webhooks/")
	n.redacted = (&url.URL{Scheme: u.Scheme, Host: u.Host}).String() + dir + "/webhooks/" + id.String() + "/REDACTED"
	n.cfg.log = cfg.log.With(slog.String("service", "notify"), slog.String("webhook", id.String()))
	return n, nil
}

// parseWebhook checks a webhook URL and returns it with its webhook's ID
// and token.
func parseWebhook(raw string) (*url.URL, snowflake.ID, string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, 0, "", ErrInvalidWebhookURL
	}
	_, rest, ok := strings.Cut(u.Path, "/webhooks/")
	id, token, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
	wid, err := snowflake.Parse(id)
	if !ok || err != nil || token == "" || strings.Contains(token, "/") {
		return nil, 0, "", fmt.Errorf("%w: the path must end in /webhooks/{id}/{token}", ErrInvalidWebhookURL)
	}
	return u, wid, token, nil
}

// String describes the Notifier by its webhook's ID. Printing a
// *Notifier with fmt or slog shows only this, never the webhook's token.
func (n *Notifier) String() string { return "notify.Notifier(webhook " + n.id.String() + ")" }

// GoString implements fmt.GoStringer for %#v, with the same redaction as
// String.
func (n *Notifier) GoString() string { return n.String() }

// Dropped returns how many events the full queue dropped.
func (n *Notifier) Dropped() uint64 { return n.dropped.Load() }

// Failed returns how many events were given up: their message was refused
// by Discord or still failed after its last try.
func (n *Notifier) Failed() uint64 { return n.failed.Load() }

// Notify queues e if it is one of the events the Notifier posts (see the
// package doc) and drops it otherwise. It never blocks: when the queue is
// full, the oldest event makes room. It may be called from any goroutine,
// whether Serve runs or not. Its cost is a type switch, and a channel send
// for the events it keeps.
func (n *Notifier) Notify(e cluster.Event) {
	if !posted(e) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for {
		select {
		case n.in <- e:
			return
		default:
		}
		select {
		case <-n.in:
			n.dropped.Add(1)
		default:
		}
	}
}
