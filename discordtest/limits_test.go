package discordtest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

func getGatewayBot(t *testing.T, s *Server) gatewayBot {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.APIURL()+"/gateway/bot", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+s.Token())
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var gb gatewayBot
	if err := json.NewDecoder(resp.Body).Decode(&gb); err != nil {
		t.Fatal(err)
	}
	return gb
}

// TestIdentifyBuckets: shards in one bucket (shard_id % max_concurrency)
// may identify once per window; a breach is counted and answered op 9.
func TestIdentifyBuckets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		maxConc  int
		breaches int64
	}{
		{"max_concurrency 1: shard 1 shares shard 0's bucket", 1, 1},
		{"max_concurrency 2: separate buckets", 2, 0},
		{"max_concurrency 0 is treated as 1", 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, WithGuilds(4), WithShards(2), WithMaxConcurrency(tc.maxConc), WithIdentifyWindow(time.Hour))
			if gb := getGatewayBot(t, s); gb.SessionStartLimit.MaxConcurrency != tc.maxConc {
				t.Fatalf("max_concurrency reported %d, want %d", gb.SessionStartLimit.MaxConcurrency, tc.maxConc)
			}
			startSession(t, s, [2]int{0, 2}, gateway.CompressionNone)
			c := dial(t, s, gateway.CompressionNone)
			c.hello()
			c.identify(s.Token(), [2]int{1, 2}, 0)
			f := c.mustNext()
			switch {
			case tc.breaches == 1 && (f.Op != opInvalidSession || string(f.D) != "false"):
				t.Fatalf("got op %d d=%s, want op 9 false", f.Op, f.D)
			case tc.breaches == 0 && f.event() != "READY":
				t.Fatalf("got op %d %q, want READY", f.Op, f.event())
			}
			cs := s.Counters()
			if cs.BucketBreaches != tc.breaches || cs.Identifies != 2-tc.breaches {
				t.Errorf("BucketBreaches %d Identifies %d", cs.BucketBreaches, cs.Identifies)
			}
			if cs.SessionStartRemaining != 1000-cs.Identifies {
				t.Errorf("a breach must not spend a session start: remaining %d", cs.SessionStartRemaining)
			}
		})
	}
}

func TestSessionStartLimitRefusal(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1), WithSessionStartLimit(5, 1, time.Hour), WithIdentifyWindow(0))
	startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	c := dial(t, s, gateway.CompressionNone)
	c.hello()
	c.identify(s.Token(), [2]int{0, 1}, 0)
	if f := c.mustNext(); f.Op != opInvalidSession || string(f.D) != "false" {
		t.Fatalf("got op %d d=%s, want op 9 false", f.Op, f.D)
	}
	cs := s.Counters()
	if cs.SessionLimitRefusals != 1 || cs.SessionStartRemaining != 0 || cs.Identifies != 1 {
		t.Errorf("counters %+v", cs)
	}
	gb := getGatewayBot(t, s)
	if l := gb.SessionStartLimit; l.Total != 5 || l.Remaining != 0 || l.ResetAfter <= 0 || l.ResetAfter > time.Hour.Milliseconds() {
		t.Errorf("session_start_limit %+v", l)
	}
}

// TestIdentifyWindowAccessor: the server reports the window it enforces,
// Discord's 5 s unless WithIdentifyWindow sets another, so a bot's queue can
// take it from the fake instead of repeating the number.
func TestIdentifyWindowAccessor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		want time.Duration
	}{
		{"default", nil, 5 * time.Second},
		{"scaled", []Option{WithIdentifyWindow(3 * time.Millisecond)}, 3 * time.Millisecond},
		{"off", []Option{WithIdentifyWindow(0)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := New(t, tc.opts...).IdentifyWindow(); got != tc.want {
				t.Fatalf("IdentifyWindow() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestIdentifyGate drives the gate with an injected clock.
func TestIdentifyGate(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := defaultConfig()
	cfg.maxConcurrency = 2
	cfg.sessionTotal, cfg.sessionRemaining, cfg.sessionResetAfter = 3, 3, time.Minute
	g := newIdentifyGate(&cfg, func() time.Time { return now })
	steps := []struct {
		advance time.Duration
		shard   int
		want    verdict
	}{
		{0, 0, admitted},
		{0, 1, admitted},                 // other bucket
		{time.Second, 2, bucketBreached}, // bucket 0 closed for 5 s
		{4 * time.Second, 2, admitted},   // 5 s after shard 0
		{5 * time.Second, 3, limitExhausted},
		{time.Minute, 3, admitted}, // the limit was reset
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if got := g.admit(st.shard, now); got != st.want {
			t.Fatalf("step %d: shard %d verdict %d, want %d", i, st.shard, got, st.want)
		}
	}
	if rem, reset := g.limit(); rem != 2 || reset != time.Minute {
		t.Errorf("limit = %d, %v", rem, reset)
	}
}
