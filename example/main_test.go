package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
)

// TestMain checks that no goroutine outlives the tests, except the cleanup
// goroutine of disgo v0.19.6's REST rate limiter, which has no way to stop
// (one per megane.Manager run).
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

// guard bounds every wait of these tests, so a broken bot fails the test
// instead of hanging it. No assertion depends on it.
const guard = 60 * time.Second

// syncBuffer is a buffer safe for concurrent writes and reads.
type syncBuffer = testutil.LogBuffer

// env returns a getenv over a fixed map, so a developer's DISCORD_TOKEN never
// reaches a test.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// botRun is one run of the bot in the background.
type botRun struct {
	stdout, stderr syncBuffer
	ready          chan struct{}            // closed when all clusters are ready
	enough         chan struct{}            // closed when minEvents dispatches were counted
	fake           chan *discordtest.Server // the embedded fake (embedded mode only)
	restarted      chan error               // the first periodic rolling restart's result
	manager        chan *megane.Manager     // the Manager, before Run
	metrics        chan string              // the bound -metrics address
	pong           chan struct{}            // closed after the first "pong" the REST API accepted
	statsReply     chan struct{}            // closed after the first !stats reply with figures the REST API accepted
	cancel         context.CancelFunc
	done           chan error
}

// startBot runs runBot with cfg until stop is called; it closes ready and
// enough as the bot gets there.
func startBot(t *testing.T, cfg config, minEvents uint64) *botRun {
	t.Helper()
	r := &botRun{ready: make(chan struct{}), enough: make(chan struct{}), fake: make(chan *discordtest.Server, 1),
		restarted: make(chan error, 1), manager: make(chan *megane.Manager, 1), metrics: make(chan string, 1),
		pong: make(chan struct{}), statsReply: make(chan struct{}), done: make(chan error, 1)}
	var readyOnce, enoughOnce, pongOnce, statsOnce sync.Once
	h := hooks{
		replied: func(kind replyKind, content string) {
			switch {
			case kind == replyPong:
				pongOnce.Do(func() { close(r.pong) })
			case kind == replyStats && strings.HasPrefix(content, "clusters ready "):
				statsOnce.Do(func() { close(r.statsReply) })
			}
		},
		fake:    func(s *discordtest.Server) { r.fake <- s },
		manager: func(m *megane.Manager) { r.manager <- m },
		metrics: func(addr string) { r.metrics <- addr },
		// After the first rolling restart, hold the restart loop until
		// shutdown, so the summary sees no restart in progress.
		restarted: func(ctx context.Context, err error) {
			r.restarted <- err
			<-ctx.Done()
		},
		allReady: func() { readyOnce.Do(func() { close(r.ready) }) },
		event: func(total uint64) {
			if total >= minEvents {
				enoughOnce.Do(func() { close(r.enough) })
			}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- runBot(ctx, cfg, &r.stdout, &r.stderr, h) }()
	t.Cleanup(func() {
		cancel()
		<-r.done // no goroutine of the bot may outlive the test
	})
	return r
}

// await waits for ch, failing the test if the bot stops or the guard passes.
func (r *botRun) await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case err := <-r.done:
		r.done <- err
		t.Fatalf("bot stopped before %s: %v\nstderr:\n%s", what, err, r.stderr.String())
	case <-time.After(guard):
		t.Fatalf("no %s within %s\nstderr:\n%s", what, guard, r.stderr.String())
	}
}

// stop ends the run and returns runBot's error and the parsed summary.
func (r *botRun) stop(t *testing.T) (summary, error) {
	t.Helper()
	r.cancel()
	err := <-r.done
	r.done <- err // for the cleanup
	return parseSummary(t, r.stdout.String()), err
}

// parseSummary checks that out is exactly one JSON line and decodes it.
func parseSummary(t *testing.T, out string) summary {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Fatalf("stdout is not one line: %q", out)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(lines[0]), &keys); err != nil {
		t.Fatalf("summary is not JSON: %v: %s", err, lines[0])
	}
	for _, k := range []string{"clusters", "clusters_ready", "shards", "shards_ready", "events_received", "restarts"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("summary lacks %q: %s", k, lines[0])
		}
	}
	var s summary
	if err := json.Unmarshal([]byte(lines[0]), &s); err != nil {
		t.Fatalf("decode summary: %v", err)
	}
	return s
}

func mustParse(t *testing.T, args []string, kv map[string]string) config {
	t.Helper()
	var stderr bytes.Buffer
	cfg, err := parseFlags(args, env(kv), &stderr)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v\n%s", args, err, stderr.String())
	}
	return cfg
}

// TestRunEmbeddedFake runs the bot against its embedded fake Discord, as
// `go run ./example -json` does, until every cluster is ready and events
// flow, and checks the JSON summary.
func TestRunEmbeddedFake(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name             string
		args             []string
		shards, clusters int
		guilds           int
	}{
		{"4 shards in 2 clusters", []string{"-shards", "4", "-clusters", "2", "-guilds", "200"}, 4, 2, 200},
		{"3 shards in 3 clusters", []string{"-shards", "3", "-clusters", "3", "-guilds", "90"}, 3, 3, 90},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const minEvents = 200
			args := append([]string{"-json", "-rate", "200", "-progress", "20ms"}, tc.args...)
			cfg := mustParse(t, args, nil)
			if cfg.mode != modeFake {
				t.Fatalf("mode = %q, want %q", cfg.mode, modeFake)
			}
			r := startBot(t, cfg, minEvents)
			token := (<-r.fake).Token()
			r.await(t, r.ready, "all clusters ready")
			r.await(t, r.enough, "events")
			s, err := r.stop(t)
			if err != nil {
				t.Fatalf("runBot: %v", err)
			}
			if s.Mode != modeFake || s.Clusters != tc.clusters || s.ClustersReady != s.Clusters ||
				s.Shards != tc.shards || s.ShardsReady != s.Shards || s.Guilds != tc.guilds {
				t.Errorf("summary = %+v, want %d clusters and %d shards all ready, %d guilds", s, tc.clusters, tc.shards, tc.guilds)
			}
			if s.EventsReceived < minEvents || s.Messages == 0 || s.Messages > s.EventsReceived {
				t.Errorf("events_received = %d, messages = %d; want at least %d events, some of them messages",
					s.EventsReceived, s.Messages, minEvents)
			}
			var perCluster uint64
			for _, c := range s.PerCluster {
				perCluster += c.Events
				if c.Status != "ready" || c.Guilds == 0 {
					t.Errorf("cluster %+v: want ready with guilds", c)
				}
			}
			if len(s.PerCluster) != tc.clusters || perCluster != s.EventsReceived {
				t.Errorf("per_cluster = %+v: want %d clusters adding up to %d events", s.PerCluster, tc.clusters, s.EventsReceived)
			}
			if s.Restarts != 0 || s.Crashes != 0 {
				t.Errorf("restarts = %d, crashes = %d; want none", s.Restarts, s.Crashes)
			}
			for _, out := range []string{r.stdout.String(), r.stderr.String()} {
				if strings.Contains(out, token) {
					t.Error("the token was printed")
				}
			}
			if !strings.Contains(r.stderr.String(), "all clusters ready") {
				t.Errorf("stderr lacks the ready line:\n%s", r.stderr.String())
			}
		})
	}
}

// TestRunAnswersCommands runs the bot against its embedded fake, whose
// traffic carries !ping and !stats: the worker's replies go through disgo's
// REST client to the fake, which records them.
func TestRunAnswersCommands(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, []string{"-json", "-shards", "2", "-clusters", "2", "-guilds", "20", "-rate", "200",
		"-command-every", "4", "-progress", "0"}, nil)
	r := startBot(t, cfg, 1)
	fake := <-r.fake
	r.await(t, r.ready, "all clusters ready")
	r.await(t, r.pong, "a pong")
	r.await(t, r.statsReply, "a !stats reply")
	s, err := r.stop(t)
	if err != nil {
		t.Fatalf("runBot: %v", err)
	}
	if s.Pings == 0 || s.Pongs == 0 || s.StatsCommands == 0 || s.StatsReplies == 0 || s.PingReplyErrors != 0 {
		t.Errorf("summary pings %d pongs %d stats %d/%d reply errors %d; want commands answered without errors",
			s.Pings, s.Pongs, s.StatsCommands, s.StatsReplies, s.PingReplyErrors)
	}
	if s.ServiceErrors == 0 && s.ServicePings < int64(s.Pongs) {
		t.Errorf("the ping counter service counted %d pings, fewer than the %d pongs", s.ServicePings, s.Pongs)
	}
	var pongs, stats int
	for _, p := range fake.Posted() {
		if p.GuildID == 0 || p.ReplyTo == 0 {
			t.Errorf("posted %+v: want a reply in a guild", p)
		}
		switch {
		case p.Content == "pong":
			pongs++
		case strings.HasPrefix(p.Content, "clusters ready "):
			stats++
		}
	}
	if pongs == 0 || stats == 0 {
		t.Errorf("the fake recorded %d pongs and %d !stats replies, want some of each", pongs, stats)
	}
	if posted := fake.Counters().MessagesPosted; posted < int64(s.Pongs+s.StatsReplies) {
		t.Errorf("the fake counted %d posted messages, fewer than the %d pongs and %d !stats replies the bot counted",
			posted, s.Pongs, s.StatsReplies)
	}
}

// TestRunRollingRestart runs the bot with -restart-every: a rolling resume
// restart of every cluster keeps every session (no identify spent) and
// every cluster ready.
func TestRunRollingRestart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind           string
		restarts       int // per cluster; worker-only reloads are not counted
		identifiesMore int // per shard
	}{
		{"resume", 1, 0},
		{"worker", 0, 0},
		{"full", 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			const shards, clusters = 2, 2
			cfg := mustParse(t, []string{"-json", "-shards", "2", "-clusters", "2", "-guilds", "20", "-rate", "100",
				"-progress", "0", "-restart-every", "1ms", "-restart-kind", tc.kind}, nil)
			r := startBot(t, cfg, 1)
			fake := <-r.fake
			r.await(t, r.ready, "all clusters ready")
			identifies := fake.Counters().Identifies
			select {
			case err := <-r.restarted:
				if err != nil {
					t.Fatalf("rolling restart: %v", err)
				}
			case <-time.After(guard):
				t.Fatalf("no rolling restart within %s\nstderr:\n%s", guard, r.stderr.String())
			}
			s, err := r.stop(t)
			if err != nil {
				t.Fatalf("runBot: %v", err)
			}
			if s.ClustersReady != clusters || s.ShardsReady != shards || s.Restarts != tc.restarts*clusters || s.Crashes != 0 {
				t.Errorf("summary = %+v, want all ready after %d restarts\nstderr:\n%s", s, tc.restarts*clusters, r.stderr.String())
			}
			if got := fake.Counters().Identifies - identifies; got != int64(tc.identifiesMore*shards) {
				t.Errorf("the restart spent %d identifies, want %d", got, tc.identifiesMore*shards)
			}
		})
	}
}

// TestRunServicesStatsMetrics checks the phase 2 wiring of a running bot:
// the ping counter service answers over the bus, as the workers ask it; the
// aggregated stats carry the workers' own figures; -metrics serves them.
func TestRunServicesStatsMetrics(t *testing.T) {
	t.Parallel()
	cfg := mustParse(t, []string{"-json", "-shards", "2", "-clusters", "2", "-guilds", "20", "-rate", "100",
		"-progress", "20ms", "-metrics", "127.0.0.1:0", "-command-every", "0"}, nil) // only this test pings
	r := startBot(t, cfg, 20)
	m, addr := <-r.manager, <-r.metrics
	r.await(t, r.ready, "all clusters ready")
	r.await(t, r.enough, "events")

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	be := busBackend{b: m.Bus(), from: bus.Cluster(1)} // what cluster 1's worker uses
	for want := int64(1); want <= 2; want++ {
		if n, err := be.pings(ctx, cmdIncr); n != want || err != nil {
			t.Fatalf("incr = %d, %v; want %d", n, err, want)
		}
	}
	if _, err := m.Stats(ctx); err != nil { // a fresh snapshot, also for the scrape below
		t.Fatal(err)
	}
	snap, err := be.stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Totals.Clusters != 2 || snap.Totals.ClustersReady != 2 || snap.Totals.Guilds != 20 {
		t.Errorf("stats totals = %+v", snap.Totals)
	}
	for _, c := range snap.Clusters {
		if ev, ok := c.Custom["events"]; !ok || ev == uint64(0) {
			t.Errorf("cluster %d custom stats = %v, want its events", c.ID, c.Custom)
		}
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	for _, want := range []string{"megane_clusters_ready 2", `megane_custom{cluster="0",key="events"}`, `megane_service_up{service="pings"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	s, err := r.stop(t)
	if err != nil {
		t.Fatalf("runBot: %v", err)
	}
	if s.Services != 1 || s.ServicesReady != 1 || s.ServicePings != 2 {
		t.Errorf("summary services = %d ready %d pings %d, want 1, 1, 2", s.Services, s.ServicesReady, s.ServicePings)
	}
}

// TestRunExternalAPI points the bot at a fake Discord it did not start
// (-api-url with DISCORD_TOKEN), with the shard count taken from
// GET /gateway/bot.
func TestRunExternalAPI(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t, discordtest.WithShards(2), discordtest.WithGuilds(30), discordtest.WithRate(100),
		discordtest.WithMaxConcurrency(2))
	cfg := mustParse(t, []string{"-api-url", fake.APIURL(), "-json", "-clusters", "1", "-progress", "0"},
		map[string]string{"DISCORD_TOKEN": fake.Token()})
	if cfg.mode != modeAPI || cfg.shards != 0 {
		t.Fatalf("mode = %q shards = %d, want %q and automatic", cfg.mode, cfg.shards, modeAPI)
	}
	r := startBot(t, cfg, 50)
	r.await(t, r.ready, "all clusters ready")
	r.await(t, r.enough, "events")
	s, err := r.stop(t)
	if err != nil {
		t.Fatalf("runBot: %v", err)
	}
	if s.Mode != modeAPI || s.Shards != 2 || s.ShardsReady != 2 || s.Clusters != 1 || s.ClustersReady != 1 ||
		s.Guilds != 30 || s.EventsReceived < 50 {
		t.Errorf("summary = %+v", s)
	}
	if strings.Contains(r.stdout.String()+r.stderr.String(), fake.Token()) {
		t.Error("the token was printed")
	}
}

// TestRunInvalidToken checks that a rejected token stops the bot with
// shard.ErrInvalidToken, still prints the summary, and is never printed.
func TestRunInvalidToken(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t)
	const wrong = "MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong.token"
	cfg := mustParse(t, []string{"-api-url", fake.APIURL(), "-token", wrong, "-json", "-progress", "0"}, nil)
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	err := runBot(ctx, cfg, &stdout, &stderr, hooks{})
	if !errors.Is(err, shard.ErrInvalidToken) {
		t.Fatalf("runBot = %v, want ErrInvalidToken", err)
	}
	s := parseSummary(t, stdout.String())
	if s.ClustersReady != 0 || s.EventsReceived != 0 {
		t.Errorf("summary = %+v, want nothing ready", s)
	}
	for _, out := range []string{err.Error(), stdout.String(), stderr.String()} {
		if strings.Contains(out, wrong) || strings.Contains(out, "wrong.token") {
			t.Errorf("the token was printed: %s", out)
		}
	}
}

// TestParseFlags checks the modes, defaults and refusals of the command line.
func TestParseFlags(t *testing.T) {
	t.Parallel()
	const tok = "MTIzNDU2Nzg5MDEyMzQ1Njc4.env.token"
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		wantErr  error
		mode     string
		shards   int
		token    string
		duration time.Duration
	}{
		{name: "defaults run the embedded fake with 16 shards", mode: modeFake, shards: 16},
		{name: "flags", args: []string{"-shards", "8", "-clusters", "2", "-guilds", "10", "-duration", "3s"},
			mode: modeFake, shards: 8, duration: 3 * time.Second},
		{name: "DISCORD_TOKEN connects to Discord", env: map[string]string{"DISCORD_TOKEN": tok},
			mode: modeDiscord, shards: 0, token: tok},
		{name: "-token wins over DISCORD_TOKEN", args: []string{"-token", "flag"}, env: map[string]string{"DISCORD_TOKEN": tok},
			mode: modeDiscord, token: "flag"},
		{name: "-api-url with DISCORD_TOKEN", args: []string{"-api-url", "http://127.0.0.1:1/api/v10"},
			env: map[string]string{"DISCORD_TOKEN": tok}, mode: modeAPI, token: tok},
		{name: "-api-url without a token", args: []string{"-api-url", "http://127.0.0.1:1/api/v10"}, wantErr: errNoToken},
		{name: "negative shards", args: []string{"-shards", "-1"}, wantErr: errBadFlag},
		{name: "negative clusters", args: []string{"-clusters", "-1"}, wantErr: errBadFlag},
		{name: "negative duration", args: []string{"-duration", "-1s"}, wantErr: errBadFlag},
		{name: "no guilds", args: []string{"-guilds", "0"}, wantErr: errBadFlag},
		{name: "bad rate", args: []string{"-rate", "-2"}, wantErr: errBadFlag},
		{name: "bad max concurrency", args: []string{"-max-concurrency", "0"}, wantErr: errBadFlag},
		{name: "negative progress", args: []string{"-progress", "-1s"}, wantErr: errBadFlag},
		{name: "negative cooldown", args: []string{"-cooldown", "-1s"}, wantErr: errBadFlag},
		{name: "negative command share", args: []string{"-command-every", "-1"}, wantErr: errBadFlag},
		{name: "stray argument", args: []string{"extra"}, wantErr: errBadFlag},
		{name: "bad restart kind", args: []string{"-restart-kind", "soft"}, wantErr: errBadFlag},
		{name: "negative restart interval", args: []string{"-restart-every", "-1s"}, wantErr: errBadFlag},
		{name: "metrics on loopback", args: []string{"-metrics", "127.0.0.1:9090"}, mode: modeFake, shards: 16},
		{name: "metrics on localhost", args: []string{"-metrics", "localhost:0"}, mode: modeFake, shards: 16},
		{name: "metrics on IPv6 loopback", args: []string{"-metrics", "[::1]:9090"}, mode: modeFake, shards: 16},
		{name: "metrics on every interface", args: []string{"-metrics", ":9090"}, wantErr: errBadFlag},
		{name: "metrics on a public address", args: []string{"-metrics", "8.8.8.8:9090"}, wantErr: errBadFlag},
		{name: "metrics without a port", args: []string{"-metrics", "127.0.0.1"}, wantErr: errBadFlag},
		{name: "status on loopback", args: []string{"-status", "127.0.0.1:8080"}, mode: modeFake, shards: 16},
		{name: "status on a public address", args: []string{"-status", "0.0.0.0:8080"}, wantErr: errBadFlag},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			cfg, err := parseFlags(tc.args, env(tc.env), &stderr)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if cfg.mode != tc.mode || cfg.shards != tc.shards || cfg.token != tc.token || cfg.duration != tc.duration {
				t.Errorf("cfg = %v token %q, want mode %s shards %d token %q duration %s",
					cfg, cfg.token, tc.mode, tc.shards, tc.token, tc.duration)
			}
			if tc.token != "" && strings.Contains(cfg.String(), tc.token) {
				t.Errorf("String() prints the token: %s", cfg)
			}
		})
	}
}

// TestRunRejectsBadFlags goes through run, main's entry point: a bad flag
// stops it before anything starts.
func TestRunRejectsBadFlags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want error
	}{
		{[]string{"-shards", "-3"}, errBadFlag},
		{[]string{"-no-such-flag"}, nil}, // the flag package's own error
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("run(%q) = %v, want %v", tc.args, err, tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) wrote to stdout: %q", tc.args, stdout.String())
		}
	}
}
