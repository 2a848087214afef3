package discordtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func postWebhook(t *testing.T, s *Server, path, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := noKeepAlive.Post(s.APIURL()+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestWebhookExecute checks that the webhook execute endpoint records a
// valid message and answers 204, and answers Discord's errors otherwise.
func TestWebhookExecute(t *testing.T) {
	t.Parallel()
	s := New(t)
	long := strings.Repeat("x", MaxMessageLength+1)
	elevenEmbeds := "[" + strings.TrimSuffix(strings.Repeat(`{"title":"t"},`, 11), ",") + "]"
	cases := []struct {
		name, path, body string
		status           int
	}{
		{"content and embeds", "/webhooks/42/secret?wait=false", `{"content":"hi","embeds":[{"title":"a"}]}`, 204},
		{"embeds only", "/webhooks/42/secret", `{"embeds":[{"title":"b"}]}`, 204},
		{"empty", "/webhooks/42/secret", `{}`, 400},
		{"too long", "/webhooks/42/secret", `{"content":"` + long + `"}`, 400},
		{"eleven embeds", "/webhooks/42/secret", `{"embeds":` + elevenEmbeds + `}`, 400},
		{"not json", "/webhooks/42/secret", `{`, 400},
		{"no token", "/webhooks/42", `{"content":"x"}`, 404},
		{"bad id", "/webhooks/abc/secret", `{"content":"x"}`, 404},
	}
	for _, tc := range cases {
		resp, b := postWebhook(t, s, tc.path, tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, resp.StatusCode, b, tc.status)
		}
	}
	got := s.WebhookPosted()
	if len(got) != 2 || got[0].WebhookID != 42 || got[0].Content != "hi" || len(got[0].Embeds) != 1 ||
		string(got[0].Embeds[0]) != `{"title":"a"}` || got[1].Content != "" || got[0].Timestamp.IsZero() {
		t.Fatalf("WebhookPosted = %+v", got)
	}
}

// TestFailWebhook checks the 429 (body retry_after in seconds, Retry-After
// header rounded up) and 5xx faults, that they run out after n calls and
// record nothing, and that a bad status is refused.
func TestFailWebhook(t *testing.T) {
	t.Parallel()
	s := New(t)
	if err := s.FailWebhook(1, 200, 0); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("FailWebhook(200) = %v, want ErrInvalidOption", err)
	}
	if err := s.FailWebhook(2, http.StatusTooManyRequests, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, b := postWebhook(t, s, "/webhooks/1/tok", `{"content":"x"}`)
		var rl struct {
			RetryAfter float64 `json:"retry_after"`
			Global     *bool   `json:"global"`
		}
		if err := json.Unmarshal(b, &rl); err != nil || resp.StatusCode != 429 || rl.RetryAfter != 1.5 ||
			rl.Global == nil || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("429 fault: %d %s %v (%v)", resp.StatusCode, b, resp.Header, err)
		}
	}
	if err := s.FailWebhook(1, http.StatusBadGateway, time.Second); err != nil {
		t.Fatal(err)
	}
	if resp, b := postWebhook(t, s, "/webhooks/1/tok", `{"content":"x"}`); resp.StatusCode != 502 || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("502 fault: %d %s", resp.StatusCode, b)
	}
	if len(s.WebhookPosted()) != 0 {
		t.Fatal("a faulted call was recorded")
	}
	if resp, _ := postWebhook(t, s, "/webhooks/1/tok", `{"content":"x"}`); resp.StatusCode != 204 || len(s.WebhookPosted()) != 1 {
		t.Fatalf("after the faults: %d, %d recorded", resp.StatusCode, len(s.WebhookPosted()))
	}
	if err := s.FailWebhook(-1, 500, 0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if resp, _ := postWebhook(t, s, "/webhooks/1/tok", `{"content":"x"}`); resp.StatusCode != 500 {
			t.Fatalf("n < 0: status %d, want 500", resp.StatusCode)
		}
	}
	if err := s.FailWebhook(0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if resp, _ := postWebhook(t, s, "/webhooks/1/tok", `{"content":"x"}`); resp.StatusCode != 204 {
		t.Fatalf("after FailWebhook(0): status %d", resp.StatusCode)
	}
}
