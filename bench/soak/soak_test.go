package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

// testConfig is a short soak with protocol times scaled down on both
// sides: a 10 ms identify window on the fake and in the bot's queue, a
// 100 ms heartbeat, and an op 9 wait (30 to 40 ms) longer than the window,
// so that a shard identifying again after op 9 never meets its own bucket
// still closed.
func testConfig(log *slog.Logger, kinds ...kind) config {
	return config{
		duration:       3 * time.Second,
		shards:         4,
		clusters:       2,
		seed:           3,
		rate:           50,
		guilds:         8,
		maxConcurrency: 4,
		identifyWindow: 10 * time.Millisecond,
		heartbeat:      100 * time.Millisecond,
		faultsEvery:    150 * time.Millisecond,
		kinds:          kinds,
		latencyMax:     20 * time.Millisecond,
		slowMax:        50 * time.Millisecond,
		watchdog:       time.Minute,
		startTimeout:   30 * time.Second,
		settle:         30 * time.Second,
		opTimeout:      30 * time.Second,
		shardOpts: []shard.Option{
			shard.WithBackoff(time.Millisecond, 10*time.Millisecond),
			shard.WithInvalidSessionWait(30*time.Millisecond, 40*time.Millisecond),
			shard.WithCloseTimeout(500 * time.Millisecond),
		},
		policy:    supervisor.Policy{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRestarts: -1, MaxFailedStarts: -1},
		logger:    log,
		botLogger: log,
	}
}

// TestSoakShort runs a few seconds of traffic with five kinds of faults
// (TCP drops, resume restarts, listener panics, op 9 not resumable,
// maintenance on and off) and
// checks that the report is clean: nothing lost, every tail that is
// missing justified by a fault, every panic reported, no breach, no leak.
func TestSoakShort(t *testing.T) {
	var logs testutil.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	kinds := []kind{kindDrop, kindRestartResume, kindListenerPanic, kindInvalidFresh, kindMaintenance}
	rep, err := run(context.Background(), testConfig(log, kinds...))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	var js bytes.Buffer
	if err := rep.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("report not clean: %v\n%s\nlogs:\n%s", rep.Failures, js.String(), logs.String())
	}
	allowed := 0
	for _, n := range rep.LostAllowed {
		allowed += n
	}
	switch {
	case rep.Sent == 0 || rep.Delivered+allowed != rep.Sent:
		t.Errorf("sent %d, delivered %d, allowed %d: they do not add up", rep.Sent, rep.Delivered, allowed)
	case rep.Duplicates != 0 || rep.Unattributed != 0 || rep.UnknownSess != 0:
		t.Errorf("duplicates %d, unattributed %d, unknown sessions %d", rep.Duplicates, rep.Unattributed, rep.UnknownSess)
	case rep.SessionStarts.Spent != int64(rep.SessionStarts.Minimum):
		t.Errorf("session starts %+v: identifies spent beyond the minimum", rep.SessionStarts)
	}
	for _, k := range kinds {
		if rep.FaultsInjected[k] == 0 {
			t.Errorf("no %s took effect: the run did not exercise it\n%s", k, js.String())
		}
	}
	if p := rep.Panics[kindListenerPanic]; p.Injected == 0 || p.ByEvent != p.Injected {
		t.Errorf("listener panics %+v: each must be reported by a crash event", p)
	}
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"sent", "delivered", "lost", "lost_allowed", "duplicates", "identify_breaches",
		"session_starts", "leaked_goroutines", "heap_growth_bytes", "escaped_panics", "faults_injected",
		"seed", "duration", "shards", "clusters", "rate", "go_version"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("the JSON report has no %q", key)
		}
	}
	var text strings.Builder
	if err := rep.writeText(&text); err != nil || !strings.Contains(text.String(), "result: OK") {
		t.Errorf("summary (err %v):\n%s", err, text.String())
	}
}

// TestPlan: the schedule is reproducible for a seed, within the duration,
// in time order, on valid targets, and every kind comes once per round.
func TestPlan(t *testing.T) {
	t.Parallel()
	all, err := parseKinds("all")
	if err != nil {
		t.Fatal(err)
	}
	spec := planSpec{seed: 9, duration: time.Minute, every: 200 * time.Millisecond, shards: 16, clusters: 4,
		kinds: all, latencyMax: 400 * time.Millisecond, slowMax: 2 * time.Second}
	a, b := plan(spec), plan(spec)
	if !slices.Equal(a, b) {
		t.Fatal("two plans from one seed differ")
	}
	spec.seed = 10
	if slices.Equal(a, plan(spec)) {
		t.Fatal("plans from two seeds are equal")
	}
	if len(a) < len(all) {
		t.Fatalf("%d faults in a minute at one per 200 ms", len(a))
	}
	seen := map[kind]bool{}
	for i, f := range a {
		if i < len(all) {
			if seen[f.Kind] {
				t.Errorf("fault %d: %s twice in the first round", i, f.Kind)
			}
			seen[f.Kind] = true
		}
		ki, _ := info(f.Kind)
		switch {
		case f.At < 0 || f.At >= time.Minute || (i > 0 && f.At < a[i-1].At):
			t.Errorf("fault %d at %v", i, f.At)
		case ki.target == onShard && (f.Shard < 0 || f.Shard >= 16):
			t.Errorf("fault %d on shard %d", i, f.Shard)
		case ki.target == onCluster && (f.Cluster < 0 || f.Cluster >= 4):
			t.Errorf("fault %d on cluster %d", i, f.Cluster)
		case f.Kind == kindLatencyOn && (f.Param < 40*time.Millisecond || f.Param > 400*time.Millisecond):
			t.Errorf("fault %d: latency %v", i, f.Param)
		}
	}
}

func TestParseKinds(t *testing.T) {
	t.Parallel()
	got, err := parseKinds("tcp_drop, zombie,tcp_drop")
	if err != nil || !slices.Equal(got, []kind{kindDrop, kindZombie}) {
		t.Errorf("parseKinds = %v, %v", got, err)
	}
	if _, err := parseKinds("tcp_drop,nope"); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

func TestCLIBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-kinds", "nope"}, {"-clusters", "5", "-shards", "4"}, {"-duration", "0s"}, {"extra"}} {
		var out, errOut bytes.Buffer
		if code := cli(args, &out, &errOut); code != 2 {
			t.Errorf("cli(%q) = %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
}

// TestJudge: each finding alone fails the soak; a clean report passes.
func TestJudge(t *testing.T) {
	t.Parallel()
	clean := func() *report { return &report{Converged: true} }
	cases := []struct {
		name   string
		change func(r *report)
	}{
		{"lost", func(r *report) { r.Lost = 1 }},
		{"identified afresh where it could resume", func(r *report) { r.UnjustifiedEnds = 1 }},
		{"breach", func(r *report) { r.IdentifyBreaches = 1 }},
		{"leak", func(r *report) { r.LeakedGoroutines = 1 }},
		{"escaped panic", func(r *report) { r.EscapedPanics = 1 }},
		{"Run error", func(r *report) { r.RunError = "boom" }},
		{"not converged", func(r *report) { r.Converged = false }},
	}
	r := clean()
	r.LostAllowed, r.Duplicates, r.IgnoredLeaks = map[string]int{"restart_full": 9}, 2, 1
	if r.judge(); !r.OK || len(r.Failures) != 0 {
		t.Fatalf("clean report judged %v", r.Failures)
	}
	for _, tc := range cases {
		r := clean()
		tc.change(r)
		if r.judge(); r.OK || len(r.Failures) != 1 {
			t.Errorf("%s: OK %t, failures %q; want one failure", tc.name, r.OK, r.Failures)
		}
	}
}
