package discordtest

import (
	"encoding/json"
	"net/http"
	"strings"
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
// "Authorization: Bot <token>", else 401; see messages.go). Anything else
// is a 404 with Discord's JSON error body.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v10"), "/")
	if rest, ok := strings.CutPrefix(path, "/channels/"); ok {
		s.serveChannel(w, r, rest)
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
		if !s.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, restError{Message: "401: Unauthorized", Code: 0})
			return
		}
		if path == "/users/@me" {
			writeJSON(w, http.StatusOK, s.selfUser())
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
