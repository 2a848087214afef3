package discordtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

type sessionStartLimit struct {
	Total          int   `json:"total"`
	Remaining      int   `json:"remaining"`
	ResetAfter     int64 `json:"reset_after"`
	MaxConcurrency int   `json:"max_concurrency"`
}

type gatewayBot struct {
	URL               string            `json:"url"`
	Shards            int               `json:"shards"`
	SessionStartLimit sessionStartLimit `json:"session_start_limit"`
}

type restError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func serveNotFound(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusNotFound, restError{Message: "404: Not Found", Code: 0})
}

// authorized reports whether the request carries "Bot <token>".
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bot ")
	return ok && tok == s.token
}

// serveREST serves the few REST endpoints a bot needs to start and to
// answer: GET /gateway (no auth, as on Discord), GET /gateway/bot,
// GET /users/@me and POST /channels/{channel.id}/messages (these need
// "Authorization: Bot <token>", else 401; see messages.go), and the
// webhook execute endpoint POST /webhooks/{id}/{token} (no bot token, as
// on Discord; see webhooks.go). Anything else
// is a 404 with Discord's JSON error body. FailGatewayBot replaces the
// answer to GET /gateway/bot.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v10"), "/")
	if rest, ok := strings.CutPrefix(path, "/channels/"); ok {
		s.serveChannel(w, r, rest)
		return
	}
	if rest, ok := strings.CutPrefix(path, "/webhooks/"); ok {
		s.serveWebhook(w, r, rest)
		return
	}
	if r.Method != http.MethodGet {
		serveNotFound(w, r)
		return
	}
	switch path {
	case "/gateway":
		writeJSON(w, http.StatusOK, map[string]string{"url": s.GatewayURL()})
	case "/gateway/bot", "/users/@me":
		if path == "/gateway/bot" {
			s.ctr.gatewayBotRequests.Add(1)
		}
		if !s.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, restError{Message: "401: Unauthorized", Code: 0})
			return
		}
		if path == "/users/@me" {
			writeJSON(w, http.StatusOK, s.selfUser())
			return
		}
		if status, body, ok := s.gbFault.take(); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
		remaining, reset := s.gate.limit()
		writeJSON(w, http.StatusOK, gatewayBot{
			URL:    s.GatewayURL(),
			Shards: s.recommendedShards(),
			SessionStartLimit: sessionStartLimit{
				Total:          s.cfg.sessionTotal,
				Remaining:      remaining,
				ResetAfter:     reset.Milliseconds(),
				MaxConcurrency: s.cfg.maxConcurrency,
			},
		})
	default:
		serveNotFound(w, r)
	}
}

// gatewayBotFault is the state of FailGatewayBot. The zero value is no
// fault.
type gatewayBotFault struct {
	mu     sync.Mutex
	left   int // answers still to fault; < 0: every one
	status int
	body   string
}

// take reports whether this answer is faulted, and with what, counting it.
func (f *gatewayBotFault) take() (status int, body string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == 0 {
		return 0, "", false
	}
	if f.left > 0 {
		f.left--
	}
	return f.status, f.body, true
}

// FailGatewayBot makes the next n answers to an authorized GET /gateway/bot
// (every answer from now on when n < 0) the HTTP status with body, written
// as is with Content-Type application/json, in place of the real answer;
// n = 0 ends the fault (status and body are then ignored). After n faulted
// answers the real answer returns.
// It tests a client's handling of a bad answer: a 500, a 429 whose body
// carries retry_after, as Discord's does
// ({"message":"You are being rate limited.","retry_after":0.05,"global":false}),
// a body that is not JSON, or a 200 with an unusable field
// ({"url":"","shards":1,...}). No other header is set (no Retry-After, no
// rate-limit headers). A request without the right token gets its 401
// first, and does not use up a faulted answer. Counters.GatewayBotRequests
// counts every request. With n != 0, status must be 200 to 599, else
// FailGatewayBot changes nothing and returns an *OptionError. Safe for
// concurrent use.
func (s *Server) FailGatewayBot(n, status int, body string) error {
	if n != 0 && (status < 200 || status > 599) {
		return &OptionError{Option: "FailGatewayBot", Reason: "status must be 200 to 599"}
	}
	f := &s.gbFault
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left, f.status, f.body = n, status, body
	return nil
}

type selfUser struct {
	jsonUser
	Verified    bool    `json:"verified"`
	MFAEnabled  bool    `json:"mfa_enabled"`
	Flags       int     `json:"flags"`
	Banner      *string `json:"banner"`
	AccentColor *int    `json:"accent_color"`
	Locale      string  `json:"locale"`
}

func (s *Server) selfUser() selfUser {
	return selfUser{jsonUser: s.world.botUser(), Verified: true, Locale: "en-US"}
}
