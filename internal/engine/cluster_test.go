package engine

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

func plainWorker(gen int, rec *recorder) Worker { return &testWorker{gen: gen, rec: rec} }

func TestClusterReadyDeliversAndStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		shards []int
		count  int
	}{
		{"one shard", []int{0}, 1},
		{"two of two", []int{0, 1}, 2},
		{"middle of four", []int{1, 2}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, tt.count)
			h := newHarness(t, fake, tt.shards, tt.count, plainWorker)
			h.start()
			h.waitReady()
			// The status is the supervisor's published state, which may
			// follow the ready channel by a moment.
			testutil.Eventually(t, testTimeout, "Status ready", func() bool { return h.c.Status() == supervisor.StateReady })
			// Every guild of the cluster's shards is in the cache once ready.
			want := 0
			for _, id := range tt.shards {
				want += len(fake.GuildIDs(id, tt.count))
			}
			if got := h.c.Client().Caches.GuildsLen(); got != want {
				t.Fatalf("cached guilds = %d, want %d", got, want)
			}
			for _, id := range tt.shards {
				if err := fake.Emit(id, 5); err != nil {
					t.Fatal(err)
				}
			}
			h.rec.waitFor(t, "messages", func(r *recorder) bool { return r.msgTotal() == 5*len(tt.shards) })
			if err := h.stop(); err != nil {
				t.Fatalf("Serve = %v, want nil", err)
			}
			if got := h.c.Status(); got != supervisor.StateStopped {
				t.Fatalf("Status after stop = %v", got)
			}
			h.rec.mu.Lock()
			defer h.rec.mu.Unlock()
			if h.rec.count(cluster.EventSpawned) != 1 || h.rec.count(cluster.EventReady) != 1 {
				t.Fatalf("events: spawned %d ready %d", h.rec.count(cluster.EventSpawned), h.rec.count(cluster.EventReady))
			}
			if h.rec.count(cluster.EventShardReady) != len(tt.shards) {
				t.Fatalf("shard ready events = %d", h.rec.count(cluster.EventShardReady))
			}
		})
	}
}

func TestClusterFatalIntents(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1, discordtest.WithAllowedIntents(gateway.IntentsNonPrivileged))
	h := newHarness(t, fake, []int{0}, 1, plainWorker,
		WithShardOptions(shard.WithIntents(gateway.IntentGuilds, gateway.IntentGuildMembers)))
	h.start()
	err := h.stopWhenDone()
	if !isErr(err, shard.ErrDisallowedIntents) || !IsFatal(err) {
		t.Fatalf("Serve = %v, want ErrDisallowedIntents", err)
	}
	if n := h.c.Restarts(); n != 0 {
		t.Fatalf("restarts = %d, want 0 (no retry)", n)
	}
	if got := h.c.Status(); got != supervisor.StateFailed {
		t.Fatalf("Status = %v, want failed", got)
	}
	if strings.Contains(err.Error(), fake.Token()) {
		t.Fatal("token in error")
	}
}

// TestClusterFatalShardOptions: a shard option no restart can fix (a
// compression the shard does not support, or a gateway proxy URL that is
// not a WebSocket one), passed through WithShardOptions (which megane.New
// does not check), fails the cluster at once instead of restarting it
// forever.
func TestClusterFatalShardOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opt  shard.Option
		want error
	}{
		{"zlib-payload", shard.WithCompression(gateway.CompressionZlibPayload), shard.ErrUnsupportedCompression},
		{"http proxy", shard.WithGatewayProxy("http://127.0.0.1:1"), shard.ErrInvalidGatewayURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1)
			h := newHarness(t, fake, []int{0}, 1, plainWorker, WithShardOptions(tc.opt))
			h.start()
			err := h.stopWhenDone()
			if !isErr(err, tc.want) || !IsFatal(err) {
				t.Fatalf("Serve = %v, want %v", err, tc.want)
			}
			if n := h.c.Restarts(); n != 0 {
				t.Fatalf("restarts = %d, want 0 (no retry)", n)
			}
		})
	}
}

// stopWhenDone waits for Serve to return on its own.
func (h *harness) stopWhenDone() error {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	select {
	case err := <-h.errc:
		return err
	case <-ctx.Done():
		h.t.Fatal("Serve did not return on its own")
		return nil
	}
}

func TestClusterSelfRestartFromListener(t *testing.T) {
	t.Parallel()
	for _, kind := range []RestartKind{cluster.RestartWorker, cluster.RestartResume, cluster.RestartFull} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1)
			var asked atomic.Bool
			h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
				return &testWorker{gen: gen, rec: rec, onMsg: func(ctx context.Context, c *cluster.Cluster, gen int, e *events.MessageCreate) {
					if gen == 1 && asked.CompareAndSwap(false, true) {
						// Waiting here would wait for itself; Restart of
						// its own cluster only schedules.
						if err := c.RestartCluster(ctx, c.ID(), kind); err != nil {
							t.Errorf("Restart = %v", err)
						}
					}
				}}
			})
			h.start()
			h.waitReady()
			if err := fake.Emit(0, 10); err != nil {
				t.Fatal(err)
			}
			h.rec.waitFor(t, "the restart", func(r *recorder) bool {
				return r.count(cluster.EventRestarted) == 1 && r.count(cluster.EventReady) == 2
			})
			if err := fake.Emit(0, 5); err != nil {
				t.Fatal(err)
			}
			h.rec.waitFor(t, "later messages at gen 2", func(r *recorder) bool { return r.msgs[2] >= 5 })
			if kind != cluster.RestartFull {
				h.waitCovered(0) // nothing lost
			}
			h.rec.mu.Lock()
			var restarted Event
			for _, e := range h.rec.events {
				if e.Kind == cluster.EventRestarted {
					restarted = e
				}
			}
			h.rec.mu.Unlock()
			if restarted.Restart != kind {
				t.Fatalf("restart event kind %v, want %v", restarted.Restart, kind)
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestClusterRestartErrors(t *testing.T) {
	t.Parallel()
	c := New("x", 3, []int{0}, 1, func() Worker { return WorkerFunc(func(context.Context, *cluster.Cluster) error { return nil }) })
	ctx := context.Background()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"invalid kind", c.RestartAndWait(ctx, 0), cluster.ErrInvalidRestartKind},
		{"not serving", c.RestartAndWait(ctx, cluster.RestartFull), ErrNotServing},
		{"self not serving", c.RestartCluster(ctx, 3, cluster.RestartResume), ErrNotServing},
		{"other without restarter", c.RestartCluster(ctx, 1, cluster.RestartFull), ErrNoRestarter},
		{"invalid kind other", c.RestartCluster(ctx, 1, RestartKind(9)), cluster.ErrInvalidRestartKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !isErr(tt.err, tt.want) {
				t.Fatalf("err = %v, want %v", tt.err, tt.want)
			}
		})
	}
}

type fakeRestarter struct {
	id   int
	kind RestartKind
}

func (f *fakeRestarter) Restart(_ context.Context, id int, kind RestartKind) error {
	f.id, f.kind = id, kind
	return nil
}

func TestClusterRestartOtherUsesRestarter(t *testing.T) {
	t.Parallel()
	r := &fakeRestarter{id: -1}
	c := New("x", 0, []int{0}, 2, nil, WithRestarter(r))
	if err := c.RestartCluster(context.Background(), 1, cluster.RestartResume); err != nil {
		t.Fatal(err)
	}
	if r.id != 1 || r.kind != cluster.RestartResume {
		t.Fatalf("restarter got %d %v", r.id, r.kind)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{cluster.RestartFull.String(), "full"},
		{cluster.RestartResume.String(), "resume"},
		{cluster.RestartWorker.String(), "worker"},
		{RestartKind(0).String(), "restart(0)"},
		{supervisor.StateReady.String(), "ready"},
		{supervisor.StateBackoff.String(), "backoff"},
		{supervisor.State(99).String(), "state(99)"},
		{cluster.EventReady.String(), "cluster_ready"},
		{cluster.EventCrashed.String(), "cluster_crashed"},
		{EventKind(0).String(), "event(0)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestClusterServeWithoutWorker(t *testing.T) {
	t.Parallel()
	c := New("x", 0, []int{0}, 1, nil)
	if err := c.Serve(context.Background()); !isErr(err, ErrNoWorker) {
		t.Fatalf("Serve = %v, want ErrNoWorker", err)
	}
	if err := c.Serve(context.Background()); !isErr(err, ErrAlreadyServed) {
		t.Fatalf("second Serve = %v, want ErrAlreadyServed", err)
	}
}

func TestClusterAccessors(t *testing.T) {
	t.Parallel()
	ids := []int{4, 5}
	c := New("x", 2, ids, 8, nil)
	ids[0] = 99
	if c.ID() != 2 || c.ShardCount() != 8 || c.ShardIDs()[0] != 4 {
		t.Fatalf("accessors: %d %d %v", c.ID(), c.ShardCount(), c.ShardIDs())
	}
	if c.Client() != nil || c.Worker() != nil || c.Status() != supervisor.StateIdle {
		t.Fatal("an unserved cluster has a client, worker or status")
	}
	if c.Logger() == nil {
		t.Fatal("nil logger")
	}
}
