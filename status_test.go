package megane

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/status"
)

// gatedWorker's Launch waits until gate is closed, so its cluster stays
// not ready until the test says.
type gatedWorker struct {
	tallyWorker
	gate <-chan struct{}
}

func (w *gatedWorker) Launch(ctx context.Context, c *cluster.Cluster) error {
	select {
	case <-w.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return w.tallyWorker.Launch(ctx, c)
}

// probe sends a request to h and returns the status code and the body.
func probe(t *testing.T, h http.Handler, method, path, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestStatusProbes: /healthz and /readyz answer 503 before Run, /healthz
// 200 while Run starts, /readyz 200 only once every cluster is ready, and
// both 503 again after Run.
func TestStatusProbes(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	tl := newTally()
	gate := make(chan struct{})
	m, err := New(fake.Token(), append(baseOpts(fake, tl),
		WithWorker(func() cluster.Worker { return &gatedWorker{tallyWorker: tallyWorker{t: tl}, gate: gate} }),
		WithShards(2), WithClusters(2))...)
	if err != nil {
		t.Fatal(err)
	}
	h := m.StatusHandler()
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := probe(t, h, "GET", p, ""); code != http.StatusServiceUnavailable {
			t.Errorf("%s before Run: %d %s, want 503", p, code, body)
		}
	}
	stop, _ := run(t, m)
	// Both clusters spawned; their workers' Launch waits on the gate.
	tl.waitFor(t, "both clusters spawned", func(tl *tally) bool { return tl.count(cluster.EventSpawned, -1) == 2 })
	if code, body := probe(t, h, "GET", "/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz while starting: %d %s, want 200", code, body)
	}
	if code, body := probe(t, h, "GET", "/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before ready: %d %s, want 503", code, body)
	}
	close(gate)
	waitAllReady(t, tl)
	testutil.Eventually(t, testTimeout, "/readyz 200", func() bool {
		code, _ := probe(t, h, "GET", "/readyz", "")
		return code == http.StatusOK
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := probe(t, h, "GET", p, ""); code != http.StatusServiceUnavailable {
			t.Errorf("%s after Run: %d %s, want 503", p, code, body)
		}
	}
}

// TestStatusRestartAction: a restart action without the token changes
// nothing; with it the cluster restarts (seen in the Manager's events and
// in /status.json's event list); an unknown cluster is a 404.
func TestStatusRestartAction(t *testing.T) {
	t.Parallel()
	const token = "admin-token-for-test"
	fake := newFake(t, 2)
	tl := newTally()
	m, err := New(fake.Token(), append(baseOpts(fake, tl),
		WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }), WithShards(2), WithClusters(2))...)
	if err != nil {
		t.Fatal(err)
	}
	var logs testutil.LogBuffer
	h := m.StatusHandler(status.WithToken(token), status.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	run(t, m)
	waitAllReady(t, tl)

	for _, tc := range []struct {
		token string
		code  int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}} {
		if code, body := probe(t, h, "POST", "/clusters/1/restart?kind=resume", tc.token); code != tc.code {
			t.Errorf("restart with token %q: %d %s, want %d", tc.token, code, body, tc.code)
		}
	}
	if code, body := probe(t, h, "POST", "/clusters/7/restart?kind=resume", token); code != http.StatusNotFound {
		t.Errorf("restart of cluster 7: %d %s, want 404", code, body)
	}
	tl.mu.Lock()
	n := tl.count(cluster.EventRestarted, -1)
	tl.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d restarts without the right token", n)
	}

	if code, body := probe(t, h, "POST", "/clusters/1/restart?kind=resume", token); code != http.StatusOK {
		t.Fatalf("restart with the token: %d %s", code, body)
	}
	tl.waitFor(t, "cluster 1 restarted", func(tl *tally) bool {
		for _, e := range tl.events {
			if e.Kind == cluster.EventRestarted && e.Cluster == 1 && e.Restart == cluster.RestartResume {
				return true
			}
		}
		return false
	})
	if tl.count(cluster.EventRestarted, 0) != 0 {
		t.Error("cluster 0 restarted too")
	}
	_, body := probe(t, h, "GET", "/status.json", "")
	var rep struct {
		Events []struct {
			Kind    string `json:"kind"`
			Cluster int    `json:"cluster"`
			Restart string `json:"restart"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range rep.Events {
		found = found || (e.Kind == "cluster_restarted" && e.Cluster == 1 && e.Restart == "resume")
		if e.Kind == "stats_updated" {
			t.Error("the event list holds stats_updated")
		}
	}
	if !found {
		t.Errorf("/status.json's events lack the restart: %+v", rep.Events)
	}
	if len(logs.Lines("status action done", "action=restart", "cluster=1", "kind=resume")) != 1 {
		t.Errorf("the action was not logged once: %s", logs.String())
	}
}

// TestWithStatusAddr: Run serves the surface on loopback while it runs
// and shuts it down when it returns; a non-loopback host is refused.
func TestWithStatusAddr(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	var logs testutil.LogBuffer
	opts := append(baseOpts(fake, tl), WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }),
		WithShards(1), WithClusters(1), WithStatusAddr(":0"), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	m, err := New(fake.Token(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	lines := logs.Lines("status page serving")
	if len(lines) != 1 {
		t.Fatalf("no serving log line: %s", logs.String())
	}
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(lines[0])
	if url == "" {
		t.Fatalf("not on 127.0.0.1: %s", lines[0])
	}
	testutil.Eventually(t, testTimeout, "/readyz 200 over TCP", func() bool {
		res, err := http.Get(url + "readyz")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Get(url + "healthz"); err == nil {
		_ = res.Body.Close()
		t.Error("the status server still answers after Run returned")
	}
	http.DefaultClient.CloseIdleConnections()

	m2, err := New(fake.Token(), append(baseOpts(fake, newTally()), WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }),
		WithStatusAddr("0.0.0.0:0"))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Run(context.Background()); !errors.Is(err, status.ErrNotLoopback) {
		t.Errorf("Run with a non-loopback status address: %v, want ErrNotLoopback", err)
	}
}

// TestEventRing keeps the last 100 lifecycle events in order, without the
// stats updates.
func TestEventRing(t *testing.T) {
	t.Parallel()
	var r eventRing
	if got := r.list(); len(got) != 0 {
		t.Fatalf("empty ring: %v", got)
	}
	for i := range 250 {
		r.add(cluster.Event{Kind: cluster.EventShardReady, Shard: i})
		r.add(cluster.Event{Kind: cluster.EventStatsUpdated})
		if i == 41 {
			got := r.list()
			if len(got) != 42 || got[0].Shard != 0 || got[41].Shard != 41 {
				t.Fatalf("after 42: %d events, first %d", len(got), got[0].Shard)
			}
		}
	}
	got := r.list()
	if len(got) != eventRingSize {
		t.Fatalf("%d events, want %d", len(got), eventRingSize)
	}
	for i, e := range got {
		if e.Kind != cluster.EventShardReady || e.Shard != 150+i {
			t.Fatalf("event %d: %v shard %d, want shard %d", i, e.Kind, e.Shard, 150+i)
		}
	}
}

// TestStatusQueue: the report's identify queue is the running queue's own
// state: the shards waiting in it and its next slot, not only the budget.
func TestStatusQueue(t *testing.T) {
	t.Parallel()
	m := &Manager{}
	if q := m.queueStatus(); q.Remaining != -1 || q.Waiting != 0 {
		t.Fatalf("outside Run: %+v, want Remaining -1 and nothing waiting", q)
	}
	q := shard.NewQueue(shard.WithIdentifyWindow(time.Hour))
	defer q.Close()
	q.SetLimit(1, 1000, 990, time.Hour)
	m.st.queue.Store(q)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := q.Wait(ctx, 0); err != nil { // the bucket's one identify of the window
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- q.Wait(ctx, 1) }()
	testutil.Eventually(t, 10*time.Second, "shard 1 waiting in the queue", func() bool {
		return m.queueStatus().Waiting == 1
	})
	got := m.queueStatus()
	if got.NextSlot.IsZero() || got.Remaining != 989 || got.ResetAt.IsZero() {
		t.Fatalf("queue status %+v: want the next slot, 989 session starts left and the reset", got)
	}
	cancel()
	if err := <-waited; err == nil {
		t.Fatal("the waiting shard was granted an identify inside the window")
	}
}
