package discordtest

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
)

// noKeepAlive is an HTTP client that leaves no idle connection behind, so
// goleak stays clean.
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func TestREST(t *testing.T) {
	t.Parallel()
	s := New(t, WithShards(7), WithMaxConcurrency(16), WithSessionStartLimit(1000, 990, time.Hour))
	cases := []struct {
		name, method, path, auth string
		status                   int
		check                    func(t *testing.T, body []byte)
	}{
		{"gateway bot", "GET", "/api/v10/gateway/bot", "Bot " + s.Token(), 200, func(t *testing.T, b []byte) {
			var gb discord.GatewayBot
			if err := json.Unmarshal(b, &gb); err != nil {
				t.Fatal(err)
			}
			l := gb.SessionStartLimit
			if gb.URL != s.GatewayURL() || gb.Shards != 7 || l.Total != 1000 || l.Remaining != 990 || l.MaxConcurrency != 16 || l.ResetAfter <= 0 {
				t.Errorf("gateway/bot %s", b)
			}
		}},
		{"gateway bot trailing slash", "GET", "/api/v10/gateway/bot/", "Bot " + s.Token(), 200, nil},
		{"gateway needs no auth", "GET", "/api/v10/gateway", "", 200, func(t *testing.T, b []byte) {
			var g discord.Gateway
			if err := json.Unmarshal(b, &g); err != nil || g.URL != s.GatewayURL() {
				t.Errorf("gateway %s (%v)", b, err)
			}
		}},
		{"users @me", "GET", "/api/v10/users/@me", "Bot " + s.Token(), 200, func(t *testing.T, b []byte) {
			var u discord.OAuth2User
			if err := json.Unmarshal(b, &u); err != nil || u.ID != s.ApplicationID() || !u.Bot {
				t.Errorf("users/@me %s (%v)", b, err)
			}
		}},
		{"missing auth", "GET", "/api/v10/gateway/bot", "", 401, unauthorized},
		{"wrong token", "GET", "/api/v10/users/@me", "Bot nope", 401, unauthorized},
		{"token without Bot prefix", "GET", "/api/v10/gateway/bot", s.Token(), 401, unauthorized},
		{"unknown api route", "GET", "/api/v10/applications/1/commands", "Bot " + s.Token(), 404, notFound},
		{"unknown channel route", "GET", "/api/v10/channels/1/pins", "Bot " + s.Token(), 404, notFound},
		{"wrong method", "POST", "/api/v10/gateway/bot", "Bot " + s.Token(), 404, notFound},
		{"outside the api", "GET", "/favicon.ico", "", 404, notFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, s.URL()+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := noKeepAlive.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func unauthorized(t *testing.T, b []byte) {
	t.Helper()
	if string(b) != "{\"message\":\"401: Unauthorized\",\"code\":0}\n" {
		t.Errorf("body %q", b)
	}
}

func notFound(t *testing.T, b []byte) {
	t.Helper()
	if string(b) != "{\"message\":\"404: Not Found\",\"code\":0}\n" {
		t.Errorf("body %q", b)
	}
}

// TestDisgoRESTClient checks that disgo's own REST client works against
// the fake with nothing but rest.WithURL (plus options that keep goleak
// clean: no idle connections, no rate limiter cleanup goroutine).
func TestDisgoRESTClient(t *testing.T) {
	t.Parallel()
	s := New(t, WithShards(3))
	newClient := func(token string) rest.Rest {
		return rest.New(rest.NewClient(token,
			rest.WithURL(s.APIURL()),
			rest.WithHTTPClient(noKeepAlive),
			rest.WithRateLimiter(rest.NewNoopRateLimiter())))
	}
	gb, err := newClient(s.Token()).GetGatewayBot()
	if err != nil {
		t.Fatal(err)
	}
	if gb.Shards != 3 || gb.URL != s.GatewayURL() || gb.SessionStartLimit.MaxConcurrency != 1 {
		t.Errorf("GetGatewayBot %+v", gb)
	}
	_, err = newClient("bad.token").GetGatewayBot()
	var re *rest.Error
	if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode != 401 {
		t.Errorf("bad token: %v, want a 401 rest.Error", err)
	}
}

// TestFailGatewayBot faults GET /gateway/bot for two answers, then lets
// the real answer through; the 401 of a wrong token comes first and uses
// up no faulted answer.
func TestFailGatewayBot(t *testing.T) {
	t.Parallel()
	s := New(t, WithShards(2))
	get := func(token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.APIURL()+"/gateway/bot", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bot "+token)
		resp, err := noKeepAlive.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			t.Errorf("Retry-After %q set", ra)
		}
		return resp.StatusCode, string(body)
	}
	const limited = `{"message":"You are being rate limited.","retry_after":0.05,"global":false}`
	if err := s.FailGatewayBot(2, http.StatusTooManyRequests, limited); err != nil {
		t.Fatal(err)
	}
	if status, _ := get("wrong"); status != http.StatusUnauthorized {
		t.Fatalf("wrong token: status %d, want 401", status)
	}
	for i := range 2 {
		if status, body := get(s.Token()); status != http.StatusTooManyRequests || body != limited {
			t.Fatalf("answer %d: %d %q, want the fault", i, status, body)
		}
	}
	status, body := get(s.Token())
	var gb discord.GatewayBot
	if err := json.Unmarshal([]byte(body), &gb); status != http.StatusOK || err != nil || gb.Shards != 2 || gb.URL != s.GatewayURL() {
		t.Fatalf("after the fault: %d %q (%v)", status, body, err)
	}

	// n < 0 faults every answer until n = 0 ends it.
	if err := s.FailGatewayBot(-1, http.StatusOK, `{"url":"","shards":1}`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if status, body := get(s.Token()); status != http.StatusOK || body != `{"url":"","shards":1}` {
			t.Fatalf("n < 0: %d %q", status, body)
		}
	}
	if err := s.FailGatewayBot(0, 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, body := get(s.Token()); !strings.Contains(body, s.GatewayURL()) {
		t.Fatalf("after n = 0: %q", body)
	}
	if n := s.Counters().GatewayBotRequests; n != 8 {
		t.Errorf("GatewayBotRequests = %d, want 8", n)
	}

	for _, bad := range []int{0, 199, 600} {
		var oe *OptionError
		if err := s.FailGatewayBot(1, bad, ""); !errors.As(err, &oe) || oe.Option != "FailGatewayBot" || !errors.Is(err, ErrInvalidOption) {
			t.Errorf("status %d: err %v", bad, err)
		}
	}
	if status, _ := get(s.Token()); status != http.StatusOK {
		t.Errorf("a rejected FailGatewayBot changed the answer: %d", status)
	}
}

// TestDefaultAddressIsLoopback: without WithAddr the fake listens on
// loopback only, never on every interface.
func TestDefaultAddressIsLoopback(t *testing.T) {
	t.Parallel()
	s := New(t)
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		t.Fatalf("the fake listens on %s, want a loopback address", s.URL())
	}
	if !strings.HasPrefix(s.GatewayURL(), "ws://"+u.Host+"/") {
		t.Fatalf("gateway URL %s is not on %s", s.GatewayURL(), u.Host)
	}
}
