package megane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
)

// gatewayBotBody is a GET /gateway/bot answer with the given url and
// shards, and a session start limit of 1000.
func gatewayBotBody(url string, shards int) string {
	return fmt.Sprintf(`{"url":%q,"shards":%d,"session_start_limit":{"total":1000,"remaining":1000,"reset_after":0,"max_concurrency":1}}`, url, shards)
}

// runFor runs m until Run returns on its own, and fails the test if it
// does not within testTimeout (a hang guard; it then stops Run).
func runFor(t *testing.T, m *Manager) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(testTimeout):
		cancel()
		<-done
		t.Fatal("Run did not return on its own")
		return nil
	}
}

// fastRetries makes the GET /gateway/bot retries of a test wait 1 ms
// between tries instead of seconds.
func fastRetries(c *config) { c.gatewayBackoff = time.Millisecond }

// TestGatewayBotUnusableURL: an answer whose url is not a ws:// or wss://
// URL stops Run at once with ErrBadGatewayAnswer. Before, an empty url
// sent the shards to Discord's own gateway (the shard's default URL) with
// the token, retrying forever. Nothing dials anything.
func TestGatewayBotUnusableURL(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"", "http://127.0.0.1:1/gateway", "wss://", "gateway.discord.gg", "ws://%zz", "ws://127.0.0.1:bad/gateway"} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1)
			if err := fake.FailGatewayBot(-1, 200, gatewayBotBody(url, 1)); err != nil {
				t.Fatal(err)
			}
			tl := newTally()
			err := runFor(t, gatewayBotManager(t, fake, tl))
			var ge *GatewayError
			if !errors.Is(err, ErrBadGatewayAnswer) || !errors.As(err, &ge) || ge.Status != 200 {
				t.Fatalf("Run = %v, want a GatewayError matching ErrBadGatewayAnswer", err)
			}
			if want := fmt.Sprintf("url %q", url); !strings.Contains(err.Error(), want) {
				t.Fatalf("Run = %q, does not name %s", err, want)
			}
			if n := fake.Counters().GatewayBotRequests; n != 1 {
				t.Fatalf("%d GET /gateway/bot, want 1 (an unusable answer is not retried)", n)
			}
			if c := fake.Counters(); c.Connections != 0 {
				t.Fatalf("%d gateway connections", c.Connections)
			}
			tl.mu.Lock()
			defer tl.mu.Unlock()
			if n := tl.count(cluster.EventShardConnected, -1) + tl.count(cluster.EventSpawned, -1); n != 0 {
				t.Fatalf("%d shard or cluster events: something started", n)
			}
		})
	}
}

// gatewayBotManager is a Manager against fake whose GET /gateway/bot
// retries wait 1 ms.
func gatewayBotManager(t *testing.T, fake *discordtest.Server, tl *tally, opts ...Option) *Manager {
	t.Helper()
	m, err := New(fake.Token(), append(append(baseOpts(fake, tl), WithWorker(workerOf(tl)), fastRetries), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGatewayBotFaults: what each bad answer of GET /gateway/bot gives.
// A 5xx and a 429 are tried again (3 times at most; a 429 after its
// retry_after, unless that is over a minute), then Run returns a
// *GatewayError with the status; the rest fail at once.
func TestGatewayBotFaults(t *testing.T) {
	t.Parallel()
	const (
		internal = `{"message":"500: Internal Server Error","code":0}`
		limited  = `{"message":"You are being rate limited.","retry_after":0.002,"global":false}`
		banned   = `{"message":"You are being rate limited.","retry_after":3600,"global":true}`
	)
	tests := []struct {
		name     string
		n        int // faulted answers; < 0: all
		status   int
		body     string
		requests int64 // GET /gateway/bot requests the fake saw
		// What Run returns: nil (it got ready), or a GatewayError with
		// wantStatus and, for a 429, wantRetry.
		wantStatus int
		wantRetry  time.Duration
		wantBad    bool // matches ErrBadGatewayAnswer
		wantText   string
	}{
		{name: "500 twice, then ready", n: 2, status: 500, body: internal, requests: 3},
		{name: "500 always", n: -1, status: 500, body: internal, requests: 4, wantStatus: 500, wantText: "HTTP 500: Internal Server Error"},
		{name: "503 always", n: -1, status: 503, body: "", requests: 4, wantStatus: 503},
		{name: "429 once, then ready", n: 1, status: 429, body: limited, requests: 2},
		{name: "429 always", n: -1, status: 429, body: limited, requests: 4, wantStatus: 429, wantRetry: 2 * time.Millisecond, wantText: "rate limited"},
		{name: "429 for an hour", n: -1, status: 429, body: banned, requests: 1, wantStatus: 429, wantRetry: time.Hour, wantText: "retry after 1h0m0s"},
		{name: "garbage", n: -1, status: 200, body: "<html>502 Bad Gateway</html>", requests: 1, wantStatus: 200, wantBad: true, wantText: "not a JSON object"},
		{name: "truncated", n: -1, status: 200, body: `{"url":"ws://127.0.0.1:1/gateway","shards":1,"sess`, requests: 1, wantStatus: 200, wantBad: true},
		{name: "a JSON array", n: -1, status: 200, body: `[1,2]`, requests: 1, wantStatus: 200, wantBad: true},
		{name: "null", n: -1, status: 200, body: `null`, requests: 1, wantStatus: 200, wantBad: true, wantText: `url "": empty`},
		{name: "shards 0", n: -1, status: 200, body: gatewayBotBody("ws://127.0.0.1:1/gateway", 0), requests: 1, wantStatus: 200, wantBad: true, wantText: "shards 0"},
		{name: "shards a string", n: -1, status: 200, body: `{"url":"ws://127.0.0.1:1/gateway","shards":"1"}`, requests: 1, wantStatus: 200, wantBad: true, wantText: "shards"},
		{name: "no session_start_limit", n: -1, status: 200, body: `{"url":"ws://127.0.0.1:1/gateway","shards":1}`, requests: 1, wantStatus: 200, wantBad: true, wantText: "session_start_limit"},
		{name: "404", n: -1, status: 404, body: `{"message":"404: Not Found","code":0}`, requests: 1, wantStatus: 404, wantText: "HTTP 404: Not Found"},
		{name: "403", n: -1, status: 403, body: `{"message":"Forbidden","code":40001}`, requests: 1, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1)
			if err := fake.FailGatewayBot(tt.n, tt.status, tt.body); err != nil {
				t.Fatal(err)
			}
			tl := newTally()
			m := gatewayBotManager(t, fake, tl)
			if tt.wantStatus == 0 {
				stop, _ := run(t, m)
				waitAllReady(t, tl)
				if err := stop(); err != nil {
					t.Fatalf("Run = %v", err)
				}
			} else {
				err := runFor(t, m)
				var ge *GatewayError
				if !errors.As(err, &ge) || ge.Status != tt.wantStatus || ge.RetryAfter != tt.wantRetry {
					t.Fatalf("Run = %v, want a GatewayError with status %d, retry after %s", err, tt.wantStatus, tt.wantRetry)
				}
				if got := errors.Is(err, ErrBadGatewayAnswer); got != tt.wantBad {
					t.Fatalf("Run = %v: errors.Is(ErrBadGatewayAnswer) = %t", err, got)
				}
				if !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), fake.APIURL()+"/gateway/bot") {
					t.Fatalf("Run = %q, want it to name the URL and %q", err, tt.wantText)
				}
				if errors.Is(err, shard.ErrInvalidToken) {
					t.Fatalf("Run = %v matches ErrInvalidToken", err)
				}
				if c := fake.Counters(); c.Connections != 0 {
					t.Fatalf("%d gateway connections after a failed GET /gateway/bot", c.Connections)
				}
			}
			if n := fake.Counters().GatewayBotRequests; n != tt.requests {
				t.Fatalf("%d GET /gateway/bot, want %d", n, tt.requests)
			}
		})
	}
}

// TestGatewayBotMaxConcurrencyZero: max_concurrency 0 means 1 (disgo
// would divide by it); the bot starts.
func TestGatewayBotMaxConcurrencyZero(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2, discordtest.WithMaxConcurrency(0))
	tl := newTally()
	logs := &syncBuffer{}
	m := gatewayBotManager(t, fake, tl, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if c := fake.Counters(); c.Identifies != 2 || c.BucketBreaches != 0 {
		t.Fatalf("identifies %d, bucket breaches %d", c.Identifies, c.BucketBreaches)
	}
	if !strings.Contains(logs.String(), "max_concurrency below 1; using 1") {
		t.Fatal("the clamp was not logged")
	}
}

// TestGatewayBotBaseWithoutAPIVersion: a REST base without /api/v10 gets
// an error naming the URL it tried, with a hint.
func TestGatewayBotBaseWithoutAPIVersion(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	m := gatewayBotManager(t, fake, tl, WithAPIURL(fake.URL()))
	err := runFor(t, m)
	var ge *GatewayError
	if !errors.As(err, &ge) || ge.URL != fake.URL()+"/gateway/bot" || ge.Status < 400 || ge.Status > 499 {
		t.Fatalf("Run = %v, want a 4xx GatewayError for %s/gateway/bot", err, fake.URL())
	}
	if msg := err.Error(); !strings.Contains(msg, fake.URL()+"/gateway/bot") || !strings.Contains(msg, "/api/v10") {
		t.Fatalf("Run = %q, want the URL and the /api/v10 hint", msg)
	}
}

// TestGatewayBotUnreachable: a REST base nobody listens on is tried 4
// times, then Run returns a GatewayError with status 0 naming the URL.
func TestGatewayBotUnreachable(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	logs := &syncBuffer{}
	dead := "http://127.0.0.1:1/api/v10" // port 1: nothing listens
	m := gatewayBotManager(t, fake, tl, WithAPIURL(dead), WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	err := runFor(t, m)
	var ge *GatewayError
	if !errors.As(err, &ge) || ge.Status != 0 || !strings.Contains(err.Error(), dead+"/gateway/bot") {
		t.Fatalf("Run = %v, want a transport GatewayError naming %s", err, dead)
	}
	if n := strings.Count(logs.String(), "GET /gateway/bot failed; trying again"); n != gatewayBotRetries {
		t.Fatalf("%d retries logged, want %d", n, gatewayBotRetries)
	}
}

// TestGatewayBotUnauthorized: a REST 401 stops Run at once, with no retry
// and nothing dialled. Its error says HTTP 401 and claims no close code,
// yet matches ErrInvalidToken as a close 4004 does (TestFatalCloseCodes).
func TestGatewayBotUnauthorized(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	m, err := New("MTExMTExMTExMTExMTExMTEx.wrong.secret", append(baseOpts(fake, tl), WithWorker(workerOf(tl)), fastRetries)...)
	if err != nil {
		t.Fatal(err)
	}
	err = runFor(t, m)
	var ge *GatewayError
	if !errors.Is(err, shard.ErrInvalidToken) || !errors.As(err, &ge) || ge.Status != 401 {
		t.Fatalf("Run = %v, want a 401 GatewayError matching ErrInvalidToken", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "HTTP 401") || strings.Contains(msg, "close") || strings.Contains(msg, "4004") {
		t.Fatalf("Run = %q: want HTTP 401 and no close code", msg)
	}
	if c := fake.Counters(); c.GatewayBotRequests != 1 || c.Connections != 0 {
		t.Fatalf("%d GET /gateway/bot and %d connections, want 1 and 0", c.GatewayBotRequests, c.Connections)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, body string
		want         time.Duration
	}{
		{"", `{"retry_after":0.25}`, 250 * time.Millisecond},
		{"7", `{"retry_after":0.25}`, 250 * time.Millisecond}, // the body's is the precise one
		{"7", `{"message":"slow down"}`, 7 * time.Second},
		{"1.5", "not json", 1500 * time.Millisecond},
		{"", "", 0},
		{"soon", `{"retry_after":-1}`, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Retry-After", tt.header)
		}
		if got := retryAfter(h, []byte(tt.body)); got != tt.want {
			t.Errorf("retryAfter(%q, %q) = %s, want %s", tt.header, tt.body, got, tt.want)
		}
	}
}

func TestGatewayErrorText(t *testing.T) {
	t.Parallel()
	const u = "https://discord.com/api/v10/gateway/bot"
	tests := []struct {
		err     *GatewayError
		want    string
		invalid bool // matches ErrInvalidToken
	}{
		{&GatewayError{URL: u, Status: 401, Err: errRESTUnauthorized}, "megane: GET " + u + ": HTTP 401: the token was rejected", true},
		{&GatewayError{URL: u, Status: 429, RetryAfter: 2 * time.Second, Err: errors.New("rate limited")}, "megane: GET " + u + ": HTTP 429 (retry after 2s): rate limited", false},
		{&GatewayError{URL: u, Err: context.Canceled}, "megane: GET " + u + ": context canceled", false},
		{&GatewayError{URL: u, Status: 403}, "megane: GET " + u + ": HTTP 403", false},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if got := errors.Is(tt.err, shard.ErrInvalidToken); got != tt.invalid {
			t.Errorf("%q: errors.Is(ErrInvalidToken) = %t", tt.err, got)
		}
	}
}
