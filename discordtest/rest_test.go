package discordtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
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
