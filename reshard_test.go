package megane

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// genTally counts what workers received per shard set (generation).
type genTally struct {
	*tally
	launched map[int]int         // generation → workers launched
	allReady map[int]int         // generation → AllClustersReady calls
	msgs     map[[2]int]int      // {generation, shard} → MESSAGE_CREATE
	guilds   map[int]map[int]int // generation → shard → GUILD_CREATE seen by workers
}

func newGenTally() *genTally {
	return &genTally{tally: newTally(), launched: map[int]int{}, allReady: map[int]int{}, msgs: map[[2]int]int{}, guilds: map[int]map[int]int{}}
}

// genWorker records into a genTally under its cluster's generation.
type genWorker struct {
	t   *genTally
	gen int
}

func (w *genWorker) AllClustersReady(context.Context) {
	w.t.mu.Lock()
	w.t.allReady[w.gen]++
	w.t.notify()
	w.t.mu.Unlock()
}

func (w *genWorker) Launch(_ context.Context, c *cluster.Cluster) error {
	gen := c.Generation()
	w.gen = gen
	w.t.mu.Lock()
	w.t.launched[gen]++
	w.t.notify()
	w.t.mu.Unlock()
	c.AddEventListeners(bot.NewListenerFunc(func(e bot.Event) {
		if mc, ok := e.(*events.MessageCreate); ok {
			w.t.mu.Lock()
			w.t.msgs[[2]int{gen, mc.ShardID()}]++
			w.t.notify()
			w.t.mu.Unlock()
		}
	}))
	return nil
}

// kinds returns the events of the given kind.
func (t *genTally) kinds(kind cluster.EventKind) []cluster.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []cluster.Event
	for _, e := range t.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// waitMsgs waits until the workers of gen got at least n messages on each
// of shards.
func (t *genTally) waitMsgs(tb testing.TB, gen, n int, shards ...int) {
	tb.Helper()
	t.waitFor(tb, "messages of the new set", func(*tally) bool {
		for _, s := range shards {
			if t.msgs[[2]int{gen, s}] < n {
				return false
			}
		}
		return true
	})
}

// reshardManager builds a Manager of genWorkers against fake.
func reshardManager(t *testing.T, fake *discordtest.Server, gt *genTally, opts ...Option) *Manager {
	t.Helper()
	// baseOpts gives the queue the fake's identify window: the tests
	// assert that the fake saw no bucket breach over both shard sets.
	m, err := New(fake.Token(), append(append(baseOpts(fake, gt.tally),
		WithWorker(func() cluster.Worker { return &genWorker{t: gt} })), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pollUntil is the last-resort wait for a figure of the fake that has no
// change notification, bounded by the test timeout.
func pollUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// checkRouting checks ShardCount, ShardOf and ClusterOf against the fake's
// guild split for count shards, and that each guild is in the cache of
// the cluster that owns it.
func checkRouting(t *testing.T, m *Manager, fake *discordtest.Server, count int) {
	t.Helper()
	if got := m.ShardCount(); got != count {
		t.Fatalf("ShardCount() = %d, want %d", got, count)
	}
	for s := range count {
		for _, g := range fake.GuildIDs(s, count) {
			if got, ok := m.ShardOf(g); !ok || got != s || got != shard.ShardOf(g, count) {
				t.Fatalf("ShardOf(%v) = %d, want %d", g, got, s)
			}
			cid, ok := m.ClusterOf(g)
			if !ok {
				t.Fatalf("ClusterOf(%v): no cluster", g)
			}
			c, err := m.Cluster(cid)
			if err != nil || !slices.Contains(c.ShardIDs(), s) || c.ShardCount() != count {
				t.Fatalf("ClusterOf(%v) = %d (err %v), which does not run shard %d of %d", g, cid, err, s, count)
			}
			if _, ok := c.Client().Caches.Guild(g); !ok {
				t.Fatalf("guild %v is not in cluster %d's cache", g, cid)
			}
		}
	}
}

func TestReshardExplicit(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	gt := newGenTally()
	var (
		m          *Manager
		duringMu   sync.Mutex
		duringErrs []error
	)
	// The event handler runs on the re-shard's goroutine while it holds
	// the re-shard, so these calls see one in progress, deterministically.
	onEvent := func(e cluster.Event) {
		if e.Kind == cluster.EventReshardStarted {
			duringMu.Lock()
			duringErrs = append(duringErrs,
				m.Reshard(context.Background(), 8),
				m.Restart(context.Background(), 0, cluster.RestartFull),
				m.RestartAll(context.Background(), cluster.RestartFull),
				m.RollingRestart(context.Background(), cluster.RestartFull))
			duringMu.Unlock()
		}
	}
	m = reshardManager(t, fake, gt, WithClusters(2), WithEventHandler(func(e cluster.Event) { onEvent(e); gt.event(e) }))
	if err := m.Reshard(context.Background(), 4); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Reshard before Run = %v, want ErrNotRunning", err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, gt.tally)
	old0, _ := m.Cluster(0)
	old1, _ := m.Cluster(1)

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := m.Reshard(ctx, -1); !errors.Is(err, ErrInvalidShardCount) {
		t.Fatalf("Reshard(-1) = %v", err)
	}
	if err := m.Reshard(ctx, 2); err != nil {
		t.Fatalf("Reshard to the same count = %v", err)
	}
	if n := len(gt.kinds(cluster.EventReshardStarted)); n != 0 {
		t.Fatalf("a re-shard to the same count started (%d events)", n)
	}
	if err := m.Reshard(ctx, 4); err != nil {
		t.Fatalf("Reshard(4) = %v", err)
	}

	duringMu.Lock()
	for i, err := range duringErrs {
		if !errors.Is(err, ErrReshardInProgress) {
			t.Errorf("call %d during the re-shard = %v, want ErrReshardInProgress", i, err)
		}
	}
	duringMu.Unlock()
	// The old set is stopped, the new one serves.
	for _, c := range []*cluster.Cluster{old0, old1} {
		select {
		case <-c.Done():
		default:
			t.Fatalf("old cluster %d still runs", c.ID())
		}
	}
	infos := m.Clusters()
	if len(infos) != 2 || !slices.Equal(infos[0].ShardIDs, []int{0, 1}) || !slices.Equal(infos[1].ShardIDs, []int{2, 3}) {
		t.Fatalf("clusters after the re-shard: %+v", infos)
	}
	for _, info := range infos {
		if info.Status != supervisor.StateReady {
			t.Fatalf("cluster %d is %v", info.ID, info.Status)
		}
	}
	checkRouting(t, m, fake, 4)
	for s := range 4 {
		want := 1
		if s < 2 {
			want = 2 // one session of each set
		}
		if n := len(fake.Ledger().Sessions(s)); n != want {
			t.Fatalf("shard %d has %d sessions, want %d", s, n, want)
		}
	}
	pollUntil(t, "the old sessions to close", func() bool { return fake.Counters().ActiveConnections == 4 })

	// The new workers get what the fake sends the new shards.
	if err := fake.Emit(discordtest.AllShards, 3); err != nil {
		t.Fatal(err)
	}
	gt.waitMsgs(t, 1, 3, 0, 1, 2, 3)
	gt.mu.Lock()
	launched := map[int]int{0: gt.launched[0], 1: gt.launched[1]}
	gt.mu.Unlock()
	if launched[0] != 2 || launched[1] != 2 {
		t.Fatalf("workers launched per set: %v, want 2 and 2", launched)
	}
	gt.waitFor(t, "AllClustersReady of both sets", func(*tally) bool { return gt.allReady[0] == 2 && gt.allReady[1] == 2 })

	started, done := gt.kinds(cluster.EventReshardStarted), gt.kinds(cluster.EventReshardCompleted)
	if len(started) != 1 || len(done) != 1 || started[0].OldShards != 2 || started[0].NewShards != 4 ||
		done[0].Generation != 1 || done[0].NewShards != 4 {
		t.Fatalf("re-shard events: started %+v, completed %+v", started, done)
	}
	// Every shard of the new set became ready in standby first, then its
	// clusters went live; the AllClustersReady of the run came once.
	standbyShards := map[int]bool{}
	for _, e := range gt.kinds(cluster.EventShardReady) {
		if e.Generation == 1 {
			if !e.Standby {
				t.Fatalf("shard %d of the new set was READY outside standby", e.Shard)
			}
			standbyShards[e.Shard] = true
		}
	}
	if len(standbyShards) != 4 {
		t.Fatalf("new shards READY in standby: %v", standbyShards)
	}
	if n := len(gt.kinds(cluster.EventAllReady)); n != 1 {
		t.Fatalf("%d AllClustersReady events", n)
	}
	if c := fake.Counters(); c.BucketBreaches != 0 || c.ShardingRequired != 0 {
		t.Fatalf("fake counters: %+v", c)
	}
	// Restarts work again once the re-shard is over.
	if err := m.Restart(ctx, 1, cluster.RestartResume); err != nil {
		t.Fatalf("Restart after the re-shard = %v", err)
	}
	st, err := m.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clusters) != 2 || len(st.Clusters[0].Shards)+len(st.Clusters[1].Shards) != 4 {
		t.Fatalf("stats do not follow the new set: %+v", st.Clusters)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// TestReshardOn4011: a count the fake refuses with close 4011 makes the
// Manager re-shard to what GET /gateway/bot recommends, unless that is
// turned off, or the new count is refused too.
func TestReshardOn4011(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		auto        bool
		recommended int // SetRecommendedShards; 0: derived (ceil(6 guilds / 2) = 3)
		wantShards  int // after the re-shard; 0: Run fails
		wantErrs    []error
	}{
		{name: "auto", auto: true, wantShards: 3},
		{name: "off", auto: false, wantErrs: []error{shard.ErrShardingRequired}},
		// The recommendation is not above 1, so the Manager doubles to 2,
		// which the fake refuses as well (3 guilds a shard).
		{name: "new count refused", auto: true, recommended: 1, wantErrs: []error{shard.ErrShardingRequired, ErrReshardFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1, discordtest.WithGuilds(6), discordtest.WithMaxGuildsPerShard(2))
			fake.SetRecommendedShards(tt.recommended)
			gt := newGenTally()
			m := reshardManager(t, fake, gt, WithShards(1), WithAutoReshard(tt.auto))
			if tt.wantShards == 0 {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				err := m.Run(ctx) // fails on its own
				if ctx.Err() != nil {
					t.Fatal("Run did not fail")
				}
				for _, want := range tt.wantErrs {
					if !errors.Is(err, want) {
						t.Fatalf("Run = %v, want %v", err, want)
					}
				}
				return
			}
			stop, _ := run(t, m)
			waitAllReady(t, gt.tally)
			gt.waitFor(t, "the re-shard", func(t *tally) bool { return t.count(cluster.EventReshardCompleted, -1) == 1 })
			checkRouting(t, m, fake, tt.wantShards)
			if err := fake.Emit(discordtest.AllShards, 2); err != nil {
				t.Fatal(err)
			}
			gt.waitMsgs(t, 1, 2, 0, 1, 2)
			if c := fake.Counters(); c.ShardingRequired == 0 || c.BucketBreaches != 0 {
				t.Fatalf("fake counters: %+v", c)
			}
			done := gt.kinds(cluster.EventReshardCompleted)
			if len(done) != 1 || done[0].OldShards != 1 || done[0].NewShards != tt.wantShards {
				t.Fatalf("completed events: %+v", done)
			}
			if err := stop(); err != nil {
				t.Fatalf("Run = %v", err)
			}
		})
	}
}

// TestReshardCheck: the periodic check re-shards once GET /gateway/bot
// recommends more shards than run.
func TestReshardCheck(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2, discordtest.WithGuilds(12))
	gt := newGenTally()
	m := reshardManager(t, fake, gt, WithClusters(2), WithReshardCheck(2*time.Millisecond))
	stop, _ := run(t, m)
	waitAllReady(t, gt.tally)
	if n := len(gt.kinds(cluster.EventReshardStarted)); n != 0 {
		t.Fatalf("re-sharded without a higher recommendation (%d)", n)
	}
	fake.SetRecommendedShards(3)
	gt.waitFor(t, "the re-shard", func(t *tally) bool { return t.count(cluster.EventReshardCompleted, -1) == 1 })
	checkRouting(t, m, fake, 3)
	if err := fake.Emit(discordtest.AllShards, 1); err != nil {
		t.Fatal(err)
	}
	gt.waitMsgs(t, 1, 1, 0, 1, 2)
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := len(gt.kinds(cluster.EventReshardStarted)); n != 1 {
		t.Fatalf("%d re-shards started, want 1", n)
	}
}

// TestReshardFailureKeepsOldSet: when the new set cannot become ready, it
// is stopped and the old set keeps serving.
func TestReshardFailureKeepsOldSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		count  int
		cancel bool  // cancel Reshard's context as it starts
		want   error // besides ErrReshardFailed
	}{
		// 6 guilds on 1 shard is over the fake's limit of 3: close 4011.
		{name: "new set refused", count: 1, want: shard.ErrShardingRequired},
		{name: "context cancelled", count: 4, cancel: true, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 2, discordtest.WithGuilds(6), discordtest.WithMaxGuildsPerShard(3))
			gt := newGenTally()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m := reshardManager(t, fake, gt, WithClusters(2), WithEventHandler(func(e cluster.Event) {
				if e.Kind == cluster.EventReshardStarted && tt.cancel {
					cancel()
				}
				gt.event(e)
			}))
			stop, _ := run(t, m)
			waitAllReady(t, gt.tally)
			old := m.Clusters()

			err := m.Reshard(ctx, tt.count)
			var rerr *ReshardError
			if !errors.Is(err, ErrReshardFailed) || !errors.Is(err, tt.want) || !errors.As(err, &rerr) ||
				rerr.OldShards != 2 || rerr.NewShards != tt.count {
				t.Fatalf("Reshard = %v, want a ReshardError matching %v", err, tt.want)
			}
			failed := gt.kinds(cluster.EventReshardFailed)
			if len(failed) != 1 || !errors.Is(failed[0].Err, tt.want) || len(gt.kinds(cluster.EventReshardCompleted)) != 0 {
				t.Fatalf("failed events %+v", failed)
			}
			// The old set still serves, with its routing, and takes
			// traffic; a restart is allowed again.
			checkRouting(t, m, fake, 2)
			now := m.Clusters()
			for i := range old {
				if now[i].ID != old[i].ID || !slices.Equal(now[i].ShardIDs, old[i].ShardIDs) || now[i].Restarts != 0 {
					t.Fatalf("cluster %d changed: %+v -> %+v", i, old[i], now[i])
				}
			}
			if err := fake.Emit(0, 2); err != nil {
				t.Fatal(err)
			}
			if err := fake.Emit(1, 2); err != nil {
				t.Fatal(err)
			}
			gt.waitMsgs(t, 0, 2, 0, 1)
			rctx, rcancel := context.WithTimeout(context.Background(), testTimeout)
			defer rcancel()
			if err := m.Restart(rctx, 0, cluster.RestartResume); err != nil {
				t.Fatalf("Restart after a failed re-shard = %v", err)
			}
			if err := stop(); err != nil {
				t.Fatalf("Run = %v", err)
			}
		})
	}
}

// TestReshardCheckFailure: a periodic re-shard that fails leaves the old
// set serving, is not fatal, and its count is not tried again until the
// recommendation changes.
func TestReshardCheckFailure(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	gt := newGenTally()
	m := reshardManager(t, fake, gt, WithClusters(2), WithReshardCheck(time.Millisecond),
		WithReshardTimeout(time.Nanosecond)) // the new set can never be ready in time
	stop, _ := run(t, m)
	waitAllReady(t, gt.tally)
	fake.SetRecommendedShards(3)
	gt.waitFor(t, "the first failure", func(t *tally) bool { return t.count(cluster.EventReshardFailed, -1) == 1 })
	fake.SetRecommendedShards(4)
	gt.waitFor(t, "the second failure", func(t *tally) bool { return t.count(cluster.EventReshardFailed, -1) == 2 })
	failed := gt.kinds(cluster.EventReshardFailed)
	if len(gt.kinds(cluster.EventReshardStarted)) != 2 || failed[0].NewShards != 3 || failed[1].NewShards != 4 ||
		!errors.Is(failed[0].Err, context.DeadlineExceeded) {
		t.Fatalf("failed re-shards %+v; started %d", failed, len(gt.kinds(cluster.EventReshardStarted)))
	}
	checkRouting(t, m, fake, 2)
	if err := fake.Emit(discordtest.AllShards, 1); err != nil {
		t.Fatal(err)
	}
	gt.waitMsgs(t, 0, 1, 0, 1)
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
}
