package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
)

const testToken = "s3cr3t-Webhook-T0ken_value"

// newNotifier returns a Notifier on fake's webhook 42. Its HTTP client
// keeps no idle connection, so that a synctest bubble is left with no
// goroutine of it (a connection's read loop, blocked on the network, would
// also keep the bubble's clock from moving).
func newNotifier(t *testing.T, fake *discordtest.Server, opts ...Option) *Notifier {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	n, err := New(fake.APIURL()+"/webhooks/42/"+testToken, append([]Option{WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// serve runs n.Serve in the bubble and returns its stop, which ends it and
// waits for it.
func serve(n *Notifier) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.Serve(ctx) })
	return func() { cancel(); wg.Wait() }
}

func crash(id int) cluster.Event {
	return cluster.Event{Kind: cluster.EventCrashed, Cluster: id, Shard: -1, Err: errors.New("boom"), Attempt: 1}
}

// embeds decodes a posted message's embeds.
func embeds(t *testing.T, m discordtest.WebhookMessage) []embed {
	t.Helper()
	out := make([]embed, len(m.Embeds))
	for i, raw := range m.Embeds {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// advance moves the bubble's clock by d and waits until every goroutine
// of it is blocked again (a post in flight on the network counts as not
// blocked, so it finishes first).
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// TestBatching checks that the events of one window go out as one
// message, at most ten embeds to a message, and that a second message
// waits a window after the first.
func TestBatching(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		n := newNotifier(t, fake)
		stop := serve(n)
		defer stop()
		for i := range 3 {
			n.Notify(crash(i))
		}
		advance(defaultWindow - time.Millisecond)
		if got := len(fake.WebhookPosted()); got != 0 {
			t.Fatalf("%d messages before the window ended", got)
		}
		advance(2 * time.Millisecond)
		posts := fake.WebhookPosted()
		if len(posts) != 1 || len(posts[0].Embeds) != 3 || posts[0].WebhookID != 42 {
			t.Fatalf("after one window: %+v, want one message of 3 embeds", posts)
		}
		// Twelve at once: ten go out at once (the window since the last
		// message has passed), the other two a window later.
		advance(defaultWindow)
		for i := range 12 {
			n.Notify(crash(i))
		}
		synctest.Wait()
		if posts = fake.WebhookPosted(); len(posts) != 2 || len(posts[1].Embeds) != 10 {
			t.Fatalf("a full batch: %d messages, want the second of 10 embeds at once", len(posts))
		}
		advance(defaultWindow - time.Millisecond)
		if got := len(fake.WebhookPosted()); got != 2 {
			t.Fatalf("%d messages within a window of the last", got)
		}
		advance(2 * time.Millisecond)
		if posts = fake.WebhookPosted(); len(posts) != 3 || len(posts[2].Embeds) != 2 {
			t.Fatalf("the rest: %d messages", len(posts))
		}
		if e := embeds(t, posts[2]); e[1].Title != "Cluster 11 crashed" {
			t.Fatalf("last embed %+v, want cluster 11's crash", e[1])
		}
	})
}

// TestRetryAfter checks that a 429 is tried again after the body's
// retry_after, not sooner, and that the next message waits behind it.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		if err := fake.FailWebhook(2, http.StatusTooManyRequests, 1500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		n := newNotifier(t, fake, WithWindow(time.Second))
		stop := serve(n)
		defer stop()
		n.Notify(crash(0))
		// Tries at 1 s (429), 2.5 s (429) and 4 s.
		advance(4*time.Second - time.Millisecond)
		if got := len(fake.WebhookPosted()); got != 0 {
			t.Fatalf("posted %d before the two 429s' 3 s had passed", got)
		}
		advance(2 * time.Millisecond)
		if got := len(fake.WebhookPosted()); got != 1 {
			t.Fatalf("posted %d after the 429s, want 1", got)
		}
		if err := fake.FailWebhook(1, http.StatusTooManyRequests, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		n.Notify(crash(1))
		advance(time.Second) // the try at 5 s gets a 429 asking for 5 s
		n.Notify(crash(2))   // and waits behind it
		advance(5*time.Second - time.Millisecond)
		if got := len(fake.WebhookPosted()); got != 1 {
			t.Fatalf("posted %d before retry_after passed", got)
		}
		advance(2 * time.Millisecond)
		if got := len(fake.WebhookPosted()); got != 2 {
			t.Fatalf("posted %d once retry_after passed, want 2", got)
		}
		advance(time.Second - 2*time.Millisecond) // then a window
		if got := len(fake.WebhookPosted()); got != 2 {
			t.Fatalf("posted %d within a window of the last message", got)
		}
		advance(2 * time.Millisecond)
		if got := len(fake.WebhookPosted()); got != 3 || n.Failed() != 0 {
			t.Fatalf("posted %d, failed %d; want 3, 0", got, n.Failed())
		}
	})
}

// TestRetryAfterHeader checks the Retry-After header is used when the
// body has no retry_after, and that a 429 without either waits a second.
func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Retry-After", "3")
	cases := []struct {
		h    http.Header
		body string
		want time.Duration
	}{
		{h, `{"retry_after":0.25}`, 250 * time.Millisecond},
		{h, `{"message":"slow down"}`, 3 * time.Second},
		{h, `not json`, 3 * time.Second},
		{http.Header{}, ``, time.Second},
		{http.Header{}, `{"retry_after":1e9}`, maxRetryAfter},
	}
	for _, tc := range cases {
		if got := retryAfterOf(tc.h, []byte(tc.body)); got != tc.want {
			t.Errorf("retryAfterOf(%v, %s) = %v, want %v", tc.h, tc.body, got, tc.want)
		}
	}
}

// TestGiveUp checks that a 5xx is tried with backoff five times in all,
// then given up and counted, and that a 4xx is given up at once.
func TestGiveUp(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		var logs testutil.LogBuffer
		n := newNotifier(t, fake, WithWindow(time.Second), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err := fake.FailWebhook(-1, http.StatusBadGateway, 0); err != nil {
			t.Fatal(err)
		}
		stop := serve(n)
		defer stop()
		n.Notify(crash(0))
		n.Notify(crash(1))
		// Tries at 1, 2, 4, 8 and 16 s.
		advance(16*time.Second - time.Millisecond)
		if n.Failed() != 0 {
			t.Fatal("given up before the fifth try")
		}
		advance(2 * time.Millisecond)
		if n.Failed() != 2 || len(logs.Lines("giving up", "status=502", "attempts=5")) != 1 {
			t.Fatalf("failed %d; logs:\n%s", n.Failed(), logs.String())
		}
		if err := fake.FailWebhook(1, http.StatusNotFound, 0); err != nil {
			t.Fatal(err)
		}
		n.Notify(crash(2))
		advance(time.Second)
		if n.Failed() != 3 || len(logs.Lines("refused", "status=404")) != 1 {
			t.Fatalf("failed %d after a 404; logs:\n%s", n.Failed(), logs.String())
		}
		n.Notify(crash(3))
		advance(time.Second)
		if got := fake.WebhookPosted(); len(got) != 1 || n.Failed() != 3 {
			t.Fatalf("after the faults: %d posted, %d failed", len(got), n.Failed())
		}
	})
}

// TestOverflow checks the bounded queue drops the oldest events, counts
// and logs them, and that the next message says so.
func TestOverflow(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		var logs testutil.LogBuffer
		n := newNotifier(t, fake, WithQueueSize(3), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		for i := range 5 {
			n.Notify(crash(i))
		}
		if n.Dropped() != 2 {
			t.Fatalf("Dropped = %d, want 2", n.Dropped())
		}
		stop := serve(n)
		defer stop()
		advance(defaultWindow)
		posts := fake.WebhookPosted()
		if len(posts) != 1 || !strings.Contains(posts[0].Content, "2 older events dropped") {
			t.Fatalf("posts %+v, want one saying 2 were dropped", posts)
		}
		got := embeds(t, posts[0])
		if len(got) != 3 || got[0].Title != "Cluster 2 crashed" || got[2].Title != "Cluster 4 crashed" {
			t.Fatalf("embeds %+v, want the crashes of clusters 2 to 4", got)
		}
		if len(logs.Lines("dropped the oldest", "dropped=2")) != 1 {
			t.Fatalf("the drop was not logged:\n%s", logs.String())
		}
	})
}

// TestFlushOnStop checks that what is queued when Serve's context ends is
// still posted, without waiting for the window.
func TestFlushOnStop(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	synctest.Test(t, func(t *testing.T) {
		n := newNotifier(t, fake, WithWindow(time.Hour))
		stop := serve(n)
		for i := range 12 {
			n.Notify(crash(i))
		}
		synctest.Wait()
		stop()
		if posts := fake.WebhookPosted(); len(posts) != 2 || len(posts[0].Embeds)+len(posts[1].Embeds) != 12 {
			t.Fatalf("posted %d messages, want all 12 events in 2", len(posts))
		}
	})
}

// TestNotifyNeverBlocks checks Notify returns at once with no Serve and a
// full queue, and ignores the events it does not post.
func TestNotifyNeverBlocks(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	n := newNotifier(t, fake, WithQueueSize(1))
	for i := range 1000 {
		n.Notify(crash(i))
		n.Notify(cluster.Event{Kind: cluster.EventShardReady, Cluster: 0, Shard: i})
	}
	if n.Dropped() != 999 || len(n.in) != 1 {
		t.Fatalf("Dropped = %d, queued %d", n.Dropped(), len(n.in))
	}
}

// TestRedaction checks the webhook's token is in no printed value, error,
// or log line, even when every post fails on the transport.
func TestRedaction(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/api/webhooks/42/" + testToken
	ln.Close() // nothing listens: every post fails to connect
	for _, bad := range []string{"ftp://x/api/webhooks/1/" + testToken, "http://x/api/hooks/1/" + testToken,
		"http://x/api/webhooks/abc/" + testToken, "http://x/api/webhooks/1/", "http://us:" + testToken + "@x/api/webhooks/1/t",
		"http://x/%zz/webhooks/1/" + testToken} {
		if _, err := New(bad); !errors.Is(err, ErrInvalidWebhookURL) || strings.Contains(err.Error(), testToken) {
			t.Errorf("New(%q) = %v, want ErrInvalidWebhookURL without the token", bad, err)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		var logs testutil.LogBuffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		n, err := New(dead, WithHTTPClient(hc), WithLogger(log), WithWindow(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		stop := serve(n)
		defer stop()
		n.Notify(crash(0))
		advance(time.Minute)
		if n.Failed() != 1 || len(logs.Lines("giving up", "connect")) != 1 {
			t.Fatalf("failed %d; logs:\n%s", n.Failed(), logs.String())
		}
		log.Info("printing", "notifier", n)
		printed := fmt.Sprintf("%v %+v %#v %s", n, n, n, n) + logs.String()
		if strings.Contains(printed, testToken) || !strings.Contains(printed, "webhooks/42/REDACTED") {
			t.Fatalf("the token leaked, or the redacted URL is missing:\n%s", printed)
		}
		if err := n.redact(errors.New("at " + dead + "?wait=false")); strings.Contains(err.Error(), testToken) {
			t.Fatalf("redact left the token: %v", err)
		}
	})
}

// TestNewOptions checks New refuses option values it cannot use.
func TestNewOptions(t *testing.T) {
	t.Parallel()
	const url = "https://discord.com/api/webhooks/1/" + testToken
	for _, o := range []Option{WithWindow(0), WithWindow(-time.Second), WithQueueSize(0)} {
		if _, err := New(url, o); err == nil {
			t.Error("New took a bad option value")
		}
	}
	if n, err := New(url, nil, WithHTTPClient(nil), WithLogger(nil)); err != nil || n.cfg.client == nil || n.cfg.log == nil {
		t.Fatalf("New with nil options = %v, %v", n, err)
	}
}
