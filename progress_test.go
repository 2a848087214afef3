package megane

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
)

func TestStartupETA(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const iv = 5*time.Second + 300*time.Millisecond // Discord's window and the default margin
	unlimited := func(mc int) shard.QueueStatus {
		return shard.QueueStatus{NextSlot: now, MaxConcurrency: mc, Interval: iv, Remaining: -1}
	}
	budget := func(mc, remaining, total, reserve int, reset time.Duration) shard.QueueStatus {
		return shard.QueueStatus{NextSlot: now, MaxConcurrency: mc, Interval: iv, Remaining: remaining,
			Total: total, Reserve: reserve, ResetAt: now.Add(reset)}
	}
	later := unlimited(1)
	later.NextSlot = now.Add(2 * time.Second)
	past := unlimited(4)
	past.NextSlot = now.Add(-time.Minute)
	tests := []struct {
		name   string
		q      shard.QueueStatus
		shards int
		want   time.Duration
	}{
		{"none left", unlimited(1), 0, 0},
		{"one shard", unlimited(1), 1, 0},
		{"64 shards, max_concurrency 1", unlimited(1), 64, 63 * iv},
		{"64 shards, max_concurrency 16", unlimited(16), 64, 3 * iv},
		{"65 shards, max_concurrency 16", unlimited(16), 65, 4 * iv},
		{"the next slot 2 s away", later, 3, 2*time.Second + 2*iv},
		{"a next slot in the past counts as now", past, 8, iv},
		{"a 0 interval", shard.QueueStatus{MaxConcurrency: 1, Remaining: -1}, 64, 0},
		{"the budget covers them", budget(1, 1000, 1000, 0, time.Hour), 64, 63 * iv},
		{"the budget covers them above the reserve", budget(4, 11, 1000, 3, time.Hour), 8, iv},
		{"exhausted: all after the reset", budget(1, 0, 1000, 0, time.Hour), 10, time.Hour + 9*iv},
		{"exhausted down to the reserve", budget(2, 5, 1000, 5, 30*time.Minute), 4, 30*time.Minute + iv},
		{"4 before the reset, 6 after it", budget(1, 4, 1000, 0, time.Hour), 10, time.Hour + 5*iv},
		{"a reset before the budget's part is done", budget(1, 4, 1000, 0, 5*time.Second), 6, 4*iv + iv},
		{"more than one refill", budget(1, 0, 5, 0, time.Hour), 12, time.Hour + 48*time.Hour + iv},
		{"a refill no larger than the reserve", budget(1, 0, 2, 2, time.Hour), 1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := startupETA(tt.q, tt.shards, now); got != tt.want {
				t.Fatalf("startupETA(%+v, %d) = %v, want %v", tt.q, tt.shards, got, tt.want)
			}
		})
	}
}

// fakeReporter is a shard.Queue that reports a fixed status.
type fakeReporter struct {
	shard.LocalQueue
	st shard.QueueStatus
}

func (f *fakeReporter) Status() shard.QueueStatus { return f.st }

// progressLog records the progress events a startup's loop sends.
type progressLog struct {
	mu     sync.Mutex
	events []cluster.Event
}

func (l *progressLog) emit(e cluster.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// take returns the events since the last take.
func (l *progressLog) take() []cluster.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// TestStartupProgressLoop drives the progress loop through a start, its
// end, a quick start that sends nothing, and a failed re-shard.
func TestStartupProgressLoop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const every = 5 * time.Second
		q := &fakeReporter{st: shard.QueueStatus{Waiting: 3, MaxConcurrency: 1, Interval: time.Second, Remaining: 900}}
		var s startup
		s.setQueue(q)
		var log progressLog
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s.begin(0, 4)
		done := make(chan struct{})
		go func() { defer close(done); s.run(ctx, every, log.emit) }()
		ready := func(gen int, ids ...int) {
			for _, id := range ids {
				s.observe(cluster.Event{Kind: cluster.EventShardReady, Cluster: 0, Shard: id, Generation: gen})
			}
		}
		// expect checks the events since the last check: their generation,
		// ready count and ETA, in order.
		expect := func(step string, want ...cluster.StartupProgress) {
			t.Helper()
			synctest.Wait()
			got := log.take()
			if len(got) != len(want) {
				t.Fatalf("%s: %d events %+v, want %d", step, len(got), got, len(want))
			}
			for i, e := range got {
				if e.Kind != cluster.EventStartupProgress || e.Cluster != -1 || e.Progress != want[i] {
					t.Fatalf("%s: event %d = %v %+v, want %+v", step, i, e.Kind, e.Progress, want[i])
				}
			}
		}

		expect("at the start")
		time.Sleep(every)
		// 4 shards not ready: 4 identifies, 1 s apart.
		expect("after one interval", cluster.StartupProgress{Ready: 0, Total: 4, Waiting: 3, Remaining: 900, ETA: 3 * time.Second})
		ready(0, 0, 1)
		s.observe(cluster.Event{Kind: cluster.EventShardDisconnected, Shard: 1, Generation: 0})
		time.Sleep(every)
		expect("after two", cluster.StartupProgress{Ready: 1, Total: 4, Waiting: 3, Remaining: 900, ETA: 2 * time.Second})
		ready(0, 1, 2, 3)
		expect("once all are ready", cluster.StartupProgress{Ready: 4, Total: 4, Waiting: 3, Remaining: 900})
		time.Sleep(10 * every)
		expect("after the start")

		// A re-shard's set that is ready within the interval sends nothing;
		// shards seen ready before its start count.
		ready(1, 0)
		s.observe(cluster.Event{Kind: cluster.EventReshardStarted, Generation: 1, NewShards: 2})
		ready(1, 1)
		ready(0, 2) // the old set's events are left out
		time.Sleep(10 * every)
		expect("a quick re-shard")

		// A re-shard that fails ends its progress with what was ready.
		s.observe(cluster.Event{Kind: cluster.EventReshardStarted, Generation: 2, NewShards: 8})
		ready(2, 5)
		time.Sleep(every)
		expect("a slow re-shard", cluster.StartupProgress{Ready: 1, Total: 8, Waiting: 3, Remaining: 900, ETA: 6 * time.Second})
		s.observe(cluster.Event{Kind: cluster.EventReshardFailed, Generation: 2})
		expect("its failure", cluster.StartupProgress{Ready: 1, Total: 8, Waiting: 3, Remaining: 900, ETA: 6 * time.Second})
		time.Sleep(10 * every)
		expect("after the failure")
		cancel()
		<-done
	})
}

// TestStartupProgressManager: a Manager starting 64 shards at
// max_concurrency 1 on the fake Discord reports its progress before every
// shard is ready, ends it with every shard ready, and exports the identify
// queue's metrics.
func TestStartupProgressManager(t *testing.T) {
	t.Parallel()
	const shards = 64
	fake := newFake(t, shards, discordtest.WithMaxConcurrency(1), discordtest.WithSessionStartLimit(1000, 1000, time.Hour))
	tl := newTally()
	logs := &syncBuffer{}
	opts := append(baseOpts(fake, tl), WithShards(shards), WithClusters(2), WithStartupProgress(20*time.Millisecond),
		WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }))
	opts = append(opts, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	m, err := New(fake.Token(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.PrometheusCollector())
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	tl.waitFor(t, "the last progress event", func(tl *tally) bool {
		ps := progressIn(tl.events) // waitFor holds tl's lock
		return len(ps) > 0 && ps[len(ps)-1].Progress.Ready == shards
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 1 && mf.GetMetric()[0].GetGauge() != nil {
			found[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	ps := progressEvents(tl)
	if first := ps[0].Progress; first.Total != shards || first.Ready >= shards || first.ETA <= 0 || first.Remaining < 0 {
		t.Fatalf("first progress event %+v: want fewer than %d shards ready, an ETA and a budget", first, shards)
	}
	midway := false
	for _, e := range ps {
		p := e.Progress
		midway = midway || (p.Ready > 0 && p.Ready < shards && p.Waiting > 0 && p.ETA > 0)
	}
	if !midway {
		t.Fatalf("no progress event with some shards ready and some waiting: %+v", ps)
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Progress.Ready < ps[i-1].Progress.Ready || ps[i].Generation != 0 {
			t.Fatalf("progress events %d and %d: %+v then %+v", i-1, i, ps[i-1].Progress, ps[i].Progress)
		}
	}
	if last := ps[len(ps)-1].Progress; last.Ready != shards || last.ETA != 0 {
		t.Fatalf("last progress event %+v, want all %d ready and no ETA", last, shards)
	}
	if !strings.Contains(logs.String(), "event=startup_progress") {
		t.Fatalf("no startup_progress log line in:\n%s", logs.String())
	}
	if d, ok := found["megane_identify_queue_depth"]; !ok || d != 0 {
		t.Errorf("megane_identify_queue_depth = %v (present %v), want 0 once every shard is ready", d, ok)
	}
	if r, ok := found["megane_session_starts_remaining"]; !ok || r > 1000-shards {
		t.Errorf("megane_session_starts_remaining = %v (present %v), want at most %d", r, ok, 1000-shards)
	}
}

// progressEvents returns tl's startup progress events, in order.
func progressEvents(tl *tally) []cluster.Event {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return progressIn(tl.events)
}

// progressIn returns the startup progress events of es.
func progressIn(es []cluster.Event) []cluster.Event {
	var out []cluster.Event
	for _, e := range es {
		if e.Kind == cluster.EventStartupProgress {
			out = append(out, e)
		}
	}
	return out
}
