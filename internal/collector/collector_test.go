package collector

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/megane-go/megane/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// quiet is a logger for tests whose warnings are expected.
var quiet = WithLogger(slog.New(slog.DiscardHandler))

// fakeSource is a mutable ClusterSource and ServiceSource.
type fakeSource struct {
	mu       sync.Mutex
	clusters []stats.ClusterStats
	services []stats.ServiceStats
}

func (f *fakeSource) ClusterStats(context.Context) []stats.ClusterStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stats.ClusterStats(nil), f.clusters...)
}

func (f *fakeSource) ServiceStats(context.Context) []stats.ServiceStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stats.ServiceStats(nil), f.services...)
}

func (f *fakeSource) set(clusters []stats.ClusterStats, services []stats.ServiceStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clusters, f.services = clusters, services
}

func twoClusters() []stats.ClusterStats {
	return []stats.ClusterStats{
		{
			ID: 1, State: "ready", Ready: true, Guilds: 30, Users: 300, Channels: 90, Members: 400, Restarts: 2,
			Custom: map[string]any{"songs": 7, "queue": map[string]any{"len": 3}, "name": "bob"},
			Shards: []stats.ShardStats{
				{ID: 3, Status: "ready", Ready: true, Events: 50, Latency: 40 * time.Millisecond},
				{ID: 2, Status: "resuming", Events: 25},
			},
		},
		{
			ID: 0, State: "ready", Ready: true, Guilds: 10, Users: 100, Channels: 30, Members: 200,
			Shards: []stats.ShardStats{
				{ID: 1, Status: "ready", Ready: true, Events: 10, EventsPerSecond: 1.5},
				{ID: 0, Status: "ready", Ready: true, Events: 15, EventsPerSecond: 2.5},
			},
		},
	}
}

func twoServices() []stats.ServiceStats {
	return []stats.ServiceStats{
		{Name: "twitch", State: "running", Ready: true, Custom: map[string]any{"streams": 4}},
		{Name: "metrics", State: "backoff", Restarts: 3, LastError: "boom"},
	}
}

func TestSnapshotContents(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	src.set(twoClusters(), twoServices())
	c := New(WithClusters(src), WithServices(src))
	snap, err := c.Collect(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	wantTotals := stats.Totals{
		Guilds: 40, Users: 400, Channels: 120, Members: 600,
		Shards: 4, ShardsReady: 3, Events: 100, EventsPerSecond: 4,
		Clusters: 2, ClustersReady: 2, Services: 2, ServicesReady: 1,
	}
	if snap.Totals != wantTotals {
		t.Errorf("totals = %+v, want %+v", snap.Totals, wantTotals)
	}
	if snap.Seq != 1 {
		t.Errorf("seq = %d, want 1", snap.Seq)
	}
	if got := []int{snap.Clusters[0].ID, snap.Clusters[1].ID}; !equal(got, []int{0, 1}) {
		t.Errorf("clusters not sorted: %v", got)
	}
	for _, cl := range snap.Clusters {
		for i := 1; i < len(cl.Shards); i++ {
			if cl.Shards[i-1].ID >= cl.Shards[i].ID {
				t.Errorf("cluster %d shards not sorted", cl.ID)
			}
		}
	}
	if snap.Services[0].Name != "metrics" || snap.Services[1].Name != "twitch" {
		t.Errorf("services not sorted: %+v", snap.Services)
	}
	c1, ok := snap.Cluster(1)
	if !ok || c1.Custom["songs"] != 7 {
		t.Errorf("cluster 1 custom = %v, %v", c1.Custom, ok)
	}
	if _, ok := snap.Cluster(5); ok {
		t.Error("cluster 5 should be absent")
	}
	if s, ok := snap.Service("metrics"); !ok || s.Restarts != 3 || s.LastError != "boom" {
		t.Errorf("service metrics = %+v, %v", s, ok)
	}
	if snap.Manager.Goroutines <= 0 || snap.Manager.HeapAlloc == 0 || snap.Manager.GOMAXPROCS <= 0 || snap.Manager.CPUSource == "" {
		t.Errorf("manager stats look empty: %+v", snap.Manager)
	}
	latest, ok := c.Latest()
	if !ok || latest.Seq != snap.Seq {
		t.Errorf("Latest = %d, %v", latest.Seq, ok)
	}
}

func TestSnapshotJSON(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	src.set(twoClusters(), twoServices())
	snap, err := New(WithClusters(src), WithServices(src)).Collect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"time", "seq", "manager", "clusters", "services", "totals"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	manager := raw["manager"].(map[string]any)
	for _, key := range []string{"uptime_ns", "goroutines", "heap_alloc", "heap_inuse", "gc_pause_total_ns", "num_gc", "cpu_user_ns", "cpu_system_ns"} {
		if _, ok := manager[key]; !ok {
			t.Errorf("manager JSON lacks %q", key)
		}
	}
	shard := raw["clusters"].([]any)[1].(map[string]any)["shards"].([]any)[0].(map[string]any)
	for _, key := range []string{"id", "status", "latency_ns", "events_per_second", "events", "resumes", "reconnects", "identifies", "queue_depth", "dropped"} {
		if _, ok := shard[key]; !ok {
			t.Errorf("shard JSON lacks %q", key)
		}
	}
	var back stats.Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Totals != snap.Totals || len(back.Clusters) != 2 || back.Clusters[1].Custom["songs"] != float64(7) {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestRemovedDropsOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		after        func() ([]stats.ClusterStats, []stats.ServiceStats)
		wantClusters []int
		wantServices []string
	}{
		{
			name: "service removed",
			after: func() ([]stats.ClusterStats, []stats.ServiceStats) {
				return twoClusters(), twoServices()[:1]
			},
			wantClusters: []int{0, 1},
			wantServices: []string{"twitch"},
		},
		{
			name: "cluster removed",
			after: func() ([]stats.ClusterStats, []stats.ServiceStats) {
				return twoClusters()[1:], twoServices()
			},
			wantClusters: []int{0},
			wantServices: []string{"metrics", "twitch"},
		},
		{
			name:         "everything removed",
			after:        func() ([]stats.ClusterStats, []stats.ServiceStats) { return nil, nil },
			wantClusters: nil,
			wantServices: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := &fakeSource{}
			src.set(twoClusters(), twoServices())
			c := New(WithClusters(src), WithServices(src))
			if _, err := c.Collect(t.Context()); err != nil {
				t.Fatal(err)
			}
			src.set(tt.after())
			snap, err := c.Collect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var gotC []int
			for _, cl := range snap.Clusters {
				gotC = append(gotC, cl.ID)
			}
			var gotS []string
			for _, s := range snap.Services {
				gotS = append(gotS, s.Name)
			}
			if !equal(gotC, tt.wantClusters) || !equal(gotS, tt.wantServices) {
				t.Errorf("got clusters %v services %v, want %v %v", gotC, gotS, tt.wantClusters, tt.wantServices)
			}
			if snap.Totals.Services != len(tt.wantServices) || snap.Totals.Clusters != len(tt.wantClusters) {
				t.Errorf("totals still count removed targets: %+v", snap.Totals)
			}
			for key := range c.prevEvents {
				if !contains(tt.wantClusters, key.cluster) {
					t.Errorf("event counter of removed cluster %d kept", key.cluster)
				}
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestDuplicatesDropped(t *testing.T) {
	t.Parallel()
	a := ClusterSourceFunc(func(context.Context) []stats.ClusterStats {
		return []stats.ClusterStats{{ID: 0, Guilds: 1, Shards: []stats.ShardStats{{ID: 0}, {ID: 0}}}}
	})
	b := ClusterSourceFunc(func(context.Context) []stats.ClusterStats { return []stats.ClusterStats{{ID: 0, Guilds: 99}} })
	s := ServiceSourceFunc(func(context.Context) []stats.ServiceStats { return []stats.ServiceStats{{Name: "x"}, {Name: "x"}} })
	snap, err := New(WithClusters(a), WithClusters(b), WithServices(s), quiet).Collect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Clusters) != 1 || snap.Clusters[0].Guilds != 1 || len(snap.Clusters[0].Shards) != 1 || len(snap.Services) != 1 {
		t.Errorf("duplicates kept: %+v %+v", snap.Clusters, snap.Services)
	}
}

func TestEventRates(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		shards := func(events uint64, rate float64) []stats.ClusterStats {
			return []stats.ClusterStats{{ID: 0, Shards: []stats.ShardStats{
				{ID: 0, Events: events},
				{ID: 1, Events: events, EventsPerSecond: rate},
			}}}
		}
		c := New(WithClusters(src))
		steps := []struct {
			events   uint64
			rate     float64 // set by the source for shard 1
			wantAuto float64 // derived for shard 0
		}{
			{events: 100, rate: 9, wantAuto: 0}, // first sighting: unknown
			{events: 300, rate: 9, wantAuto: 100},
			{events: 500, rate: 0, wantAuto: 100},
			{events: 40, rate: 0, wantAuto: 20}, // counter reset (shard restarted)
		}
		for i, st := range steps {
			if i > 0 {
				time.Sleep(2 * time.Second) // virtual time inside the bubble
			}
			src.set(shards(st.events, st.rate), nil)
			snap, err := c.Collect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			sh := snap.Clusters[0].Shards
			if sh[0].EventsPerSecond != st.wantAuto {
				t.Errorf("step %d: derived rate = %v, want %v", i, sh[0].EventsPerSecond, st.wantAuto)
			}
			wantGiven := st.rate
			if st.rate == 0 {
				wantGiven = st.wantAuto
			}
			if sh[1].EventsPerSecond != wantGiven {
				t.Errorf("step %d: source rate = %v, want %v", i, sh[1].EventsPerSecond, wantGiven)
			}
			if snap.Totals.EventsPerSecond != sh[0].EventsPerSecond+sh[1].EventsPerSecond {
				t.Errorf("step %d: total rate %v", i, snap.Totals.EventsPerSecond)
			}
		}
	})
}

func TestCPUSinceLastSnapshot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var user, system time.Duration
		c := New(withStartTime(time.Now().Add(-time.Minute)))
		c.cfg.readCPU = func() cpuTimes { return cpuTimes{user: user, system: system, source: "fake"} }
		c.prevCPU = c.cfg.readCPU()

		time.Sleep(time.Second)
		user, system = 500*time.Millisecond, 250*time.Millisecond
		snap, err := c.Collect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		m := snap.Manager
		if m.CPUUser != 500*time.Millisecond || m.CPUSystem != 250*time.Millisecond || m.CPUPercent != 75 {
			t.Errorf("first: user %v system %v percent %v", m.CPUUser, m.CPUSystem, m.CPUPercent)
		}
		if m.Uptime != time.Minute+time.Second {
			t.Errorf("uptime = %v", m.Uptime)
		}

		time.Sleep(2 * time.Second)
		user = 2500 * time.Millisecond
		snap, err = c.Collect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		m = snap.Manager
		if m.CPUUser != 2*time.Second || m.CPUSystem != 0 || m.CPUPercent != 100 || m.CPUUserTotal != user || m.CPUSystemTotal != system {
			t.Errorf("second: %+v", m)
		}
	})
}

func TestCPUReaders(t *testing.T) {
	t.Parallel()
	readers := []struct {
		name   string
		read   func() cpuTimes
		source string
	}{
		{"platform", readCPU, cpuSourceRusage},
		{"runtime/metrics fallback", cpuFromMetrics, cpuSourceMetrics},
	}
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			before := r.read()
			// Burn some CPU so the counters must move.
			x := 0
			for i := range 50_000_000 {
				x += i % 7
			}
			_ = x
			runtime.GC() // runtime/metrics accounts CPU time at GC cycles
			after := r.read()
			if after.source != r.source {
				t.Errorf("source = %q, want %q", after.source, r.source)
			}
			if after.user+after.system <= before.user+before.system {
				t.Errorf("CPU did not advance: before %+v after %+v", before, after)
			}
		})
	}
}

func TestRunCollectsEveryInterval(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		updates := make(chan stats.Snapshot, 16)
		c := New(
			WithInterval(time.Second),
			WithOnUpdate(func(s stats.Snapshot) { updates <- s }),
			WithOnUpdate(func(stats.Snapshot) { panic("hook bug") }), // recovered, later hooks still run
			quiet,
		)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()

		synctest.Wait()
		if got := len(updates); got != 1 {
			t.Fatalf("after start: %d updates, want 1", got)
		}
		if err := c.Run(ctx); !errors.Is(err, ErrAlreadyRunning) {
			t.Errorf("second Run = %v, want ErrAlreadyRunning", err)
		}
		start := (<-updates).Time
		for want := uint64(2); want <= 4; want++ {
			s := <-updates
			if s.Seq != want || s.Time.Sub(start) != time.Duration(want-1)*time.Second {
				t.Errorf("update seq %d at +%v, want seq %d at +%ds", s.Seq, s.Time.Sub(start), want, want-1)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

func TestCollectContextEnded(t *testing.T) {
	t.Parallel()
	called := false
	c := New(WithOnUpdate(func(stats.Snapshot) { called = true }))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Collect(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Collect = %v, want context.Canceled", err)
	}
	if _, ok := c.Latest(); ok || called {
		t.Error("a failed collection must not produce a snapshot")
	}
}

func TestCollectWaitsForRunningCollection(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		// Only the first collection blocks in the source. (Deciding that by
		// whether the test was already waiting on entered deadlocked when
		// the collecting goroutine got there first.)
		var calls atomic.Int32
		src := ServiceSourceFunc(func(context.Context) []stats.ServiceStats {
			if calls.Add(1) == 1 {
				close(entered)
				<-release
			}
			return nil
		})
		c := New(WithServices(src))
		first := make(chan stats.Snapshot, 1)
		go func() {
			s, _ := c.Collect(t.Context())
			first <- s
		}()
		<-entered
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := c.Collect(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Collect while busy = %v, want DeadlineExceeded", err)
		}
		close(release)
		if s := <-first; s.Seq != 1 {
			t.Errorf("first seq = %d", s.Seq)
		}
		s, err := c.Collect(t.Context())
		if err != nil || s.Seq != 2 {
			t.Errorf("later Collect = %d, %v", s.Seq, err)
		}
	})
}
