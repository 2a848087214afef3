package megane

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

func workerOf(tl *tally) func() cluster.Worker {
	return func() cluster.Worker { return &tallyWorker{t: tl} }
}

func TestSplitAndAllReady(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shards, clusters int
		want             [][]int
	}{
		{1, 1, [][]int{{0}}},
		{4, 2, [][]int{{0, 1}, {2, 3}}},
		{5, 3, [][]int{{0, 1}, {2, 3}, {4}}},
		{3, 5, [][]int{{0}, {1}, {2}}},
		{7, 2, [][]int{{0, 1, 2, 3}, {4, 5, 6}}},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, tt.shards)
			tl := newTally()
			notified := make(chan int, len(tt.want)*2)
			m, err := New(fake.Token(), append(baseOpts(fake, tl),
				WithWorker(func() cluster.Worker { return &tallyWorker{t: tl, allReady: notified} }),
				WithClusters(tt.clusters))...)
			if err != nil {
				t.Fatal(err)
			}
			stop, _ := run(t, m)
			waitAllReady(t, tl)
			infos := m.Clusters()
			if len(infos) != len(tt.want) {
				t.Fatalf("%d clusters, want %d", len(infos), len(tt.want))
			}
			for i, info := range infos {
				if info.ID != i || !slices.Equal(info.ShardIDs, tt.want[i]) || info.Status != supervisor.StateReady {
					t.Fatalf("cluster %d = %+v, want shards %v ready", i, info, tt.want[i])
				}
			}
			for range tt.want {
				<-notified // every worker's AllClustersReady ran
			}
			// Routing by guild agrees with the fake's guild split.
			for s := 0; s < tt.shards; s++ {
				for _, g := range fake.GuildIDs(s, tt.shards) {
					if got, ok := m.ShardOf(g); !ok || got != s {
						t.Fatalf("ShardOf(%v) = %d, want %d", g, got, s)
					}
					cid, ok := m.ClusterOf(g)
					if !ok || !slices.Contains(tt.want[cid], s) {
						t.Fatalf("ClusterOf(%v) = %d, shard %d", g, cid, s)
					}
				}
			}
			if err := stop(); err != nil {
				t.Fatalf("Run = %v", err)
			}
			for s := 0; s < tt.shards; s++ {
				if n := len(fake.Ledger().Sessions(s)); n != 1 {
					t.Fatalf("shard %d has %d sessions, want 1", s, n)
				}
			}
			if m.Clusters() != nil {
				t.Fatal("clusters listed after Run returned")
			}
		})
	}
}

// TestPanicOtherClustersKeepReceiving: cluster 0's first worker panics on
// its third message; it is restarted while cluster 1 keeps receiving.
func TestPanicOtherClustersKeepReceiving(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 4)
	tl := newTally()
	gen := 0
	m, err := New(fake.Token(), append(baseOpts(fake, tl),
		WithClusters(2),
		WithWorker(func() cluster.Worker {
			w := &tallyWorker{t: tl}
			tl.mu.Lock()
			gen++
			if gen <= 2 {
				w.panicAt = 3 // the first worker of each cluster; only cluster 0 gets 3 before the check below
			}
			tl.mu.Unlock()
			return w
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	// Cluster 1 (shards 2, 3) gets 2 messages only, below its panic point.
	for _, s := range []int{2, 3} {
		if err := fake.Emit(s, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := fake.Emit(0, 10); err != nil {
		t.Fatal(err)
	}
	tl.waitFor(t, "cluster 0 crashed and ready again", func(tl *tally) bool {
		return tl.count(cluster.EventCrashed, 0) == 1 && tl.count(cluster.EventReady, 0) == 2
	})
	// While and after cluster 0 restarts, cluster 1 receives.
	tl.waitFor(t, "cluster 1 messages", func(tl *tally) bool { return tl.msgs[1] == 2 })
	// Cluster 0's new worker gets new traffic, and nothing the fake wrote
	// to cluster 0's shards is lost (the crash restart resumes).
	tl.mu.Lock()
	c0 := tl.msgs[0]
	tl.mu.Unlock()
	if err := fake.Emit(1, 4); err != nil {
		t.Fatal(err)
	}
	tl.waitFor(t, "cluster 0 messages after the restart", func(tl *tally) bool { return tl.msgs[0] >= c0+4 })
	for s := 0; s < 2; s++ {
		if n := len(fake.Ledger().Sessions(s)); n != 1 {
			t.Fatalf("shard %d has %d sessions, want 1", s, n)
		}
		last := fake.Ledger().LastSeq(s, fake.Ledger().Sessions(s)[0])
		tl.waitFor(t, "every seq of cluster 0", func(tl *tally) bool {
			for q := 1; q <= last; q++ {
				if !tl.seqs[s][q] {
					return false
				}
			}
			return true
		})
	}
	tl.mu.Lock()
	crashes1 := tl.count(cluster.EventCrashed, 1)
	var crash cluster.Event
	for _, e := range tl.events {
		if e.Kind == cluster.EventCrashed {
			crash = e
		}
	}
	tl.mu.Unlock()
	if crashes1 != 0 {
		t.Fatal("cluster 1 crashed")
	}
	if crash.Panic == nil || !strings.Contains(string(crash.Panic.Stack), "tallyWorker") {
		t.Fatalf("crash event without stack: %+v", crash)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRestartIsolation restarts cluster 0 fully while cluster 1 is sent
// traffic: cluster 1 keeps its sessions and gets every sequence number.
func TestRestartIsolation(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	tl := newTally()
	logs := &syncBuffer{}
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(2), WithWorker(workerOf(tl)),
		WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	if err := fake.Emit(1, 30); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := m.Restart(ctx, 0, cluster.RestartFull); err != nil {
		t.Fatal(err)
	}
	if err := fake.Emit(1, 10); err != nil {
		t.Fatal(err)
	}
	tl.waitFor(t, "cluster 1 messages", func(tl *tally) bool { return tl.msgs[1] == 40 })
	if n := len(fake.Ledger().Sessions(1)); n != 1 {
		t.Fatalf("cluster 1's shard has %d sessions, want 1", n)
	}
	if n := len(fake.Ledger().Sessions(0)); n != 2 {
		t.Fatalf("cluster 0's shard has %d sessions, want 2 (full restart)", n)
	}
	sess := fake.Ledger().Sessions(1)[0]
	last := fake.Ledger().LastSeq(1, sess)
	tl.mu.Lock()
	for s := 1; s <= last; s++ {
		if !tl.seqs[1][s] {
			t.Errorf("cluster 1 missed seq %d", s)
		}
	}
	tl.mu.Unlock()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Debug logs of a whole run with a restart: the token never appears.
	secret := strings.SplitN(fake.Token(), ".", 3)
	if out := logs.String(); out == "" || strings.Contains(out, fake.Token()) || strings.Contains(out, secret[len(secret)-1]) {
		t.Fatalf("the token leaked into the logs (or nothing was logged)")
	}
}

// TestRollingRestartOrder checks that clusters restart one after another,
// each ready before the next restarts, in ID order.
func TestRollingRestartOrder(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 3)
	tl := newTally()
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(3), WithWorker(workerOf(tl)))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	tl.mu.Lock()
	from := len(tl.events)
	tl.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := m.RollingRestart(ctx, cluster.RestartResume); err != nil {
		t.Fatal(err)
	}
	tl.mu.Lock()
	var seq []string
	for _, e := range tl.events[from:] {
		if e.Kind == cluster.EventRestarted || e.Kind == cluster.EventReady {
			seq = append(seq, e.Kind.String()+"/"+string(rune('0'+e.Cluster)))
		}
	}
	tl.mu.Unlock()
	want := []string{
		"cluster_restarted/0", "cluster_ready/0",
		"cluster_restarted/1", "cluster_ready/1",
		"cluster_restarted/2", "cluster_ready/2",
	}
	if !slices.Equal(seq, want) {
		t.Fatalf("events %v, want %v", seq, want)
	}
	if err := m.RestartAll(ctx, cluster.RestartWorker); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRestartErrors(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithWorker(workerOf(tl)))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Restart(ctx, 0, cluster.RestartFull); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Restart before Run = %v", err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	err = m.Restart(ctx, 9, cluster.RestartFull)
	var nc *NoClusterError
	if !errors.Is(err, ErrNoCluster) || !errors.As(err, &nc) || nc.ID != 9 {
		t.Fatalf("Restart(9) = %v", err)
	}
	if err := m.Restart(ctx, 0, 0); !errors.Is(err, cluster.ErrInvalidRestartKind) {
		t.Fatalf("Restart(kind 0) = %v", err)
	}
	if err := m.Run(ctx); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run = %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestFatalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fake   []discordtest.Option
		opts   []Option
		want   error
		status int
	}{
		{name: "wrong token", want: shard.ErrInvalidToken, status: 401},
		{name: "disallowed intents", fake: []discordtest.Option{discordtest.WithAllowedIntents(gateway.IntentsNonPrivileged)},
			opts: []Option{WithIntents(gateway.IntentGuilds, gateway.IntentGuildMembers)}, want: shard.ErrDisallowedIntents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 2, tt.fake...)
			token := fake.Token()
			if tt.status == 401 {
				token = "MTExMTExMTExMTExMTExMTEx.wrong.secret"
			}
			tl := newTally()
			logs := &syncBuffer{}
			opts := append(baseOpts(fake, tl), WithWorker(workerOf(tl)), WithClusters(2),
				WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			m, err := New(token, append(opts, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Run(context.Background())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Run = %v, want %v", err, tt.want)
			}
			var ge *GatewayError
			if tt.status != 0 && (!errors.As(err, &ge) || ge.Status != tt.status) {
				t.Fatalf("Run = %v, want a GatewayError with status %d", err, tt.status)
			}
			if tt.status == 0 && fake.Counters().IntentCloses == 0 {
				t.Fatal("the fake saw no 4014")
			}
			if fake.Counters().Identifies > 0 && tt.status != 0 {
				t.Fatal("identified with a rejected token")
			}
			for _, secret := range []string{token, strings.SplitN(token, ".", 3)[2]} {
				if strings.Contains(logs.String(), secret) || strings.Contains(err.Error(), secret) {
					t.Fatalf("the token leaked into the logs or the error")
				}
			}
			tl.mu.Lock()
			defer tl.mu.Unlock()
			for _, e := range tl.events {
				if e.Err != nil && strings.Contains(e.Err.Error(), token) {
					t.Fatal("the token leaked into an event")
				}
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	w := WithWorker(func() cluster.Worker { return &tallyWorker{} })
	tests := []struct {
		name  string
		token string
		opts  []Option
		want  error
	}{
		{"no worker", "MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b", nil, ErrNoWorker},
		{"empty token", "", []Option{w}, ErrMalformedToken},
		{"not base64", "!!!.a.b", []Option{w}, ErrMalformedToken},
		{"not a snowflake", "aGVsbG8.a.b", []Option{w}, ErrMalformedToken},
		{"ok", "MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b", []Option{w}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.token, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New = %v, want %v", err, tt.want)
			}
			if err != nil && tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatal("token in error")
			}
		})
	}
}

// TestEventsChannelDropsOldest fills a one-slot Events channel.
func TestEventsChannelDropsOldest(t *testing.T) {
	t.Parallel()
	m, err := New("MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b", WithWorker(func() cluster.Worker { return &tallyWorker{} }), WithEventBuffer(1))
	if err != nil {
		t.Fatal(err)
	}
	m.emit(cluster.Event{Kind: cluster.EventSpawned, Cluster: 0})
	m.emit(cluster.Event{Kind: cluster.EventReady, Cluster: 0})
	if got := <-m.Events(); got.Kind != cluster.EventReady {
		t.Fatalf("kept %v, want the newest", got.Kind)
	}
	if m.DroppedEvents() != 1 {
		t.Fatalf("dropped = %d", m.DroppedEvents())
	}
}
