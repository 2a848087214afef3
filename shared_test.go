package megane

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
)

// busWorker is a tallyWorker that answers commands on its embedded
// bus.Mux and adds stats: "id" returns its cluster's ID, "ask" sends
// "incr" to the "counter" service and returns its reply, "boom" panics.
// gate, when set, holds Launch.
type busWorker struct {
	tallyWorker
	bus.Mux
	c    *cluster.Cluster
	gate <-chan struct{}
}

func (w *busWorker) Launch(ctx context.Context, c *cluster.Cluster) error {
	w.c = c
	bus.Handle(&w.Mux, "id", w.id)
	bus.Handle(&w.Mux, "ask", w.ask)
	bus.Handle(&w.Mux, "boom", w.boom)
	if w.gate != nil {
		select {
		case <-w.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return w.tallyWorker.Launch(ctx, c)
}

func (w *busWorker) id(context.Context, any) (int, error) { return w.c.ID(), nil }

func (w *busWorker) ask(ctx context.Context, _ any) (int, error) {
	return bus.Request[int](ctx, w.c.Bus(), w.c.Address(), bus.Service("counter"), "incr", nil)
}

func (w *busWorker) boom(context.Context, any) (int, error) { panic("command boom") }

func (w *busWorker) Stats() map[string]any {
	return map[string]any{"cluster": w.c.ID(), "nested": map[string]any{"ok": true}}
}

var (
	_ bus.Handler       = (*busWorker)(nil)
	_ bus.StatsProvider = (*busWorker)(nil)
)

// gatedFactory makes busWorkers; the worker made by call number gateAt
// (1-based, over all clusters) waits for the returned gate.
func gatedFactory(tl *tally, gateAt int) (func() cluster.Worker, chan struct{}) {
	gate := make(chan struct{})
	var mu sync.Mutex
	n := 0
	return func() cluster.Worker {
		mu.Lock()
		defer mu.Unlock()
		n++
		w := &busWorker{tallyWorker: tallyWorker{t: tl}}
		if n == gateAt {
			w.gate = gate
		}
		return w
	}, gate
}

func allCaches() Option { return WithCacheFlags(cache.FlagsAll) }

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestManagerBus: requests to cluster 0, to a missing cluster and by
// guild; eval on all clusters; a request and a broadcast while cluster 1
// restarts (stopped; partial results); worker commands through the bus;
// the Manager's stats over the bus.
func TestManagerBus(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 4)
	tl := newTally()
	factory, gate := gatedFactory(tl, 3) // the third worker is cluster 1's restart
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(2), WithWorker(factory))...)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bus()
	if _, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.GuildOwner(uint64(fake.GuildIDs(0, 4)[0])), "id", nil); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("guild owner before Run: err = %v, want ErrNoTarget", err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)

	requests := []struct {
		name string
		to   bus.Address
		want int
		err  error
	}{
		{"cluster 0", bus.Cluster(0), 0, nil},
		{"cluster 1", bus.Cluster(1), 1, nil},
		{"missing cluster", bus.Cluster(5), 0, bus.ErrNoTarget},
		{"owner of a shard-0 guild", bus.GuildOwner(uint64(fake.GuildIDs(0, 4)[0])), 0, nil},
		{"owner of a shard-3 guild", bus.GuildOwner(uint64(fake.GuildIDs(3, 4)[0])), 1, nil},
	}
	for _, tt := range requests {
		got, err := bus.Request[int](ctxFor(t), b, bus.Manager(), tt.to, "id", nil)
		if !errors.Is(err, tt.err) || (tt.err == nil && got != tt.want) {
			t.Fatalf("%s: got %d, %v; want %d, %v", tt.name, got, err, tt.want, tt.err)
		}
	}

	res, err := bus.Eval(ctxFor(t), b, bus.Manager(), bus.AllClusters(), func(_ context.Context, c *cluster.Cluster) (int, error) {
		return c.ID(), nil
	})
	if err != nil || len(res) != 2 {
		t.Fatalf("eval = %+v, %v", res, err)
	}
	for i, r := range res {
		if r.Err != nil || r.Value != i || r.From != bus.Cluster(i) {
			t.Fatalf("eval result %d = %+v", i, r)
		}
	}

	snap, err := RequestStats(ctxFor(t), b)
	if err != nil || len(snap.Clusters) != 2 {
		t.Fatalf("RequestStats = %+v, %v", snap, err)
	}

	// Restart cluster 1; its new worker waits on the gate meanwhile.
	restarted := make(chan error, 1)
	go func() { restarted <- m.Restart(ctxFor(t), 1, cluster.RestartFull) }()
	tl.waitFor(t, "cluster 1 restarting", func(tl *tally) bool { return tl.count(cluster.EventRestarted, 1) == 1 })
	if _, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Cluster(1), "id", nil); !errors.Is(err, bus.ErrTargetStopped) {
		t.Fatalf("mid-restart: err = %v, want ErrTargetStopped", err)
	}
	results := bus.Broadcast[int](ctxFor(t), b, bus.Manager(), bus.AllClusters(), "id", nil)
	if len(results) != 2 || results[0].Err != nil || results[0].Value != 0 || !errors.Is(results[1].Err, bus.ErrTargetStopped) {
		t.Fatalf("broadcast mid-restart = %+v, want cluster 0's answer and cluster 1 stopped", results)
	}
	// Fetches while cluster 1 is down: cluster 0's data is still found,
	// a miss says that a cluster could not answer, and cluster 1's guilds
	// are unreachable.
	c0, _ := m.Cluster(0)
	g0, _ := c0.Client().Caches.Guild(fake.GuildIDs(0, 4)[0])
	if u, err := cluster.FetchUser(ctxFor(t), m.Bus(), bus.Manager(), g0.OwnerID); err != nil || u.ID != g0.OwnerID {
		t.Fatalf("FetchUser mid-restart = %+v, %v", u, err)
	}
	var nf *cluster.NotFoundError
	if _, err := cluster.FetchUser(ctxFor(t), m.Bus(), bus.Manager(), 99); !errors.As(err, &nf) || !errors.Is(err, bus.ErrTargetStopped) {
		t.Fatalf("FetchUser(unknown) mid-restart: err = %v, want not found with cluster 1 unreachable", err)
	}
	if _, err := cluster.FetchGuild(ctxFor(t), m.Bus(), bus.Manager(), fake.GuildIDs(3, 4)[0]); !errors.Is(err, bus.ErrTargetStopped) {
		t.Fatalf("FetchGuild of cluster 1 mid-restart: err = %v", err)
	}
	close(gate)
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if got, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Cluster(1), "id", nil); err != nil || got != 1 {
		t.Fatalf("after restart: %d, %v", got, err)
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.Request[int](ctxFor(t), b, bus.Manager(), bus.Cluster(0), "id", nil); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("after Run: err = %v, want ErrNoTarget", err)
	}
	if _, err := RequestStats(ctxFor(t), b); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("RequestStats after Run: err = %v", err)
	}
}

// TestManagerFetch: FetchGuild routed to the owner with and without
// members, FetchChannel and FetchUser first hit from another cluster,
// FetchUsers across clusters, not found, and the service-side form.
func TestManagerFetch(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 4)
	tl := newTally()
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(2), WithWorker(workerOf(tl)), allCaches())...)
	if err != nil {
		t.Fatal(err)
	}
	run(t, m)
	waitAllReady(t, tl)
	ctx := ctxFor(t)
	c1, err := m.Cluster(1)
	if err != nil {
		t.Fatal(err)
	}
	gid := fake.GuildIDs(3, 4)[0] // owned by cluster 1
	cached, _ := c1.Client().Caches.Guild(gid)

	plain, err := cluster.FetchGuild(ctx, m.Bus(), bus.Manager(), gid)
	if err != nil || plain.Guild.ID != gid || plain.Members != nil || plain.Messages != nil || len(plain.Channels) != 2 {
		t.Fatalf("FetchGuild = %+v, %v", plain, err)
	}
	full, err := cluster.FetchGuild(ctx, m.Bus(), bus.Address{}, gid, cluster.WithMembers())
	if err != nil || len(full.Members) != 2 {
		t.Fatalf("FetchGuild with members = %+v, %v", full, err)
	}
	data, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var back cluster.FetchedGuild
	if err := json.Unmarshal(data, &back); err != nil || back.Guild.ID != gid || len(back.Members) != 2 || len(back.Channels) != 2 {
		t.Fatalf("JSON round trip = %+v, %v", back, err)
	}

	chID := plain.Channels[1].ID()
	ch, err := cluster.FetchChannel(ctx, m.Bus(), bus.Manager(), chID)
	if err != nil || ch.Channel.ID() != chID || ch.Messages != nil {
		t.Fatalf("FetchChannel = %+v, %v", ch, err)
	}
	owner, err := cluster.FetchUser(ctx, m.Bus(), bus.Manager(), cached.OwnerID)
	if err != nil || owner.ID != cached.OwnerID {
		t.Fatalf("FetchUser = %+v, %v", owner, err)
	}
	g0 := fake.GuildIDs(0, 4)[0]
	c0, _ := m.Cluster(0)
	cached0, _ := c0.Client().Caches.Guild(g0)
	users, err := cluster.FetchUsers(ctx, m.Bus(), bus.Manager(), cached.OwnerID, cached0.OwnerID, 99)
	if err != nil || len(users) != 2 || users[0].ID != cached.OwnerID || users[1].ID != cached0.OwnerID {
		t.Fatalf("FetchUsers = %+v, %v", users, err)
	}

	var nf *cluster.NotFoundError
	if _, err := cluster.FetchGuild(ctx, m.Bus(), bus.Manager(), 12345<<22); !errors.As(err, &nf) || nf.Kind != "guild" {
		t.Fatalf("unknown guild: %v", err)
	}
	if _, err := cluster.FetchUser(ctx, m.Bus(), bus.Address{}, 99); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := cluster.FetchChannel(ctx, m.Bus(), bus.Address{}, 99); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("unknown channel: %v", err)
	}
	us, err := cluster.FetchUsers(ctx, m.Bus(), bus.Address{}, snowflake.ID(99))
	if err != nil || len(us) != 0 {
		t.Fatalf("FetchUsers(unknown) = %v, %v", us, err)
	}
}
