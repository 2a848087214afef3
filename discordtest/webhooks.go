package discordtest

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/snowflake/v2"
)

// maxEmbeds is Discord's limit on the embeds of one message.
const maxEmbeds = 10

// WebhookMessage is one message a client posted with Discord's Execute
// Webhook, POST /api/v10/webhooks/{webhook.id}/{webhook.token}. It is a
// plain value; the webhook's token is not kept.
type WebhookMessage struct {
	WebhookID snowflake.ID
	Content   string
	Embeds    []json.RawMessage // each embed as the client sent it
	Timestamp time.Time         // when the server took it
}

// webhookLog is what the webhook endpoint took (at most PostedLimit
// messages, the most recent) and the state of FailWebhook.
type webhookLog struct {
	mu   sync.Mutex
	msgs []WebhookMessage

	left       int // answers still to fault; < 0: every one
	status     int
	retryAfter time.Duration
}

// WebhookPosted returns the messages posted through the webhook execute
// endpoint (at most [PostedLimit], the most recent), oldest first. A
// faulted answer records nothing. The caller owns the slice. Safe for
// concurrent use.
func (s *Server) WebhookPosted() []WebhookMessage {
	l := &s.webhooks
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]WebhookMessage(nil), l.msgs...)
}

// FailWebhook makes the next n calls of the webhook execute endpoint
// (every call from now on when n < 0) fail with status; n = 0 ends the
// fault. A 429 is answered as Discord answers it: the body
// {"message":"You are being rate limited.","retry_after":S,"global":false}
// with S in seconds (a float) and a Retry-After header in whole seconds
// (rounded up), both from retryAfter. Any other status gets Discord's JSON
// error body and no Retry-After (retryAfter is ignored). A faulted call is
// not recorded. With n != 0, status must be 400 to 599, else FailWebhook
// changes nothing and returns an *OptionError. Safe for concurrent use.
func (s *Server) FailWebhook(n, status int, retryAfter time.Duration) error {
	if n != 0 && (status < 400 || status > 599) {
		return &OptionError{Option: "FailWebhook", Reason: "status must be 400 to 599"}
	}
	l := &s.webhooks
	l.mu.Lock()
	defer l.mu.Unlock()
	l.left, l.status, l.retryAfter = n, status, retryAfter
	return nil
}

// takeFault reports whether this call is faulted, and how, counting it.
func (l *webhookLog) takeFault() (status int, retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left == 0 {
		return 0, 0, false
	}
	if l.left > 0 {
		l.left--
	}
	return l.status, l.retryAfter, true
}

func (l *webhookLog) add(m WebhookMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.msgs) == PostedLimit {
		l.msgs = append(l.msgs[:0], l.msgs[1:]...)
	}
	l.msgs = append(l.msgs, m)
}

// rateLimited is Discord's 429 body.
type rateLimited struct {
	Message    string  `json:"message"`
	RetryAfter float64 `json:"retry_after"`
	Global     bool    `json:"global"`
}

// serveWebhook serves POST /webhooks/{webhook.id}/{webhook.token}: any
// numeric ID with a non-empty token is a webhook (the fake checks no
// secret). A valid message is recorded and answered 204 No Content, as
// Discord answers ?wait=false (?wait=true is answered the same way). An
// empty message, content over 2000 characters or more than 10 embeds is
// a 400, as on Discord.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request, rest string) {
	id, token, _ := strings.Cut(rest, "/")
	webhookID, err := snowflake.Parse(id)
	if err != nil || token == "" || strings.Contains(token, "/") {
		writeJSON(w, http.StatusNotFound, restError{Message: "Unknown Webhook", Code: 10015})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, restError{Message: "405: Method Not Allowed", Code: 0})
		return
	}
	if status, after, ok := s.webhooks.takeFault(); ok {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(after.Seconds()))))
			writeJSON(w, status, rateLimited{Message: "You are being rate limited.", RetryAfter: after.Seconds()})
			return
		}
		writeJSON(w, status, restError{Message: strconv.Itoa(status) + ": " + http.StatusText(status), Code: 0})
		return
	}
	var body struct {
		Content string            `json:"content"`
		Embeds  []json.RawMessage `json:"embeds"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&body); err != nil {
		if _, big := errors.AsType[*http.MaxBytesError](err); big {
			writeJSON(w, http.StatusRequestEntityTooLarge, restError{Message: "Request entity too large", Code: 40005})
			return
		}
		writeJSON(w, http.StatusBadRequest, restError{Message: "The request body contains invalid JSON.", Code: 50109})
		return
	}
	switch {
	case body.Content == "" && len(body.Embeds) == 0:
		writeJSON(w, http.StatusBadRequest, restError{Message: "Cannot send an empty message", Code: 50006})
		return
	case utf8.RuneCountInString(body.Content) > MaxMessageLength, len(body.Embeds) > maxEmbeds:
		writeJSON(w, http.StatusBadRequest, restError{Message: "Invalid Form Body", Code: 50035})
		return
	}
	s.webhooks.add(WebhookMessage{WebhookID: webhookID, Content: body.Content, Embeds: body.Embeds, Timestamp: time.Now().UTC()})
	w.WriteHeader(http.StatusNoContent)
}
