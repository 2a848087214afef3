package shardset

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/disgo/sharding"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
)

// TestManagerWithDisgoClient runs a disgo bot.Client over a Set and
// checks that its listeners get GuildReady and MessageCreate.
func TestManagerWithDisgoClient(t *testing.T) {
	t.Parallel()
	const shards = 2
	srv := discordtest.New(t, fakeOpts(discordtest.WithShards(shards), discordtest.WithGuilds(6))...)
	m := New(srv.Token(), []int{0, 1}, shards,
		WithQueue(testQueue()),
		WithLogger(quietLogger()),
		WithShardOptions(shardOpts(srv)...))

	var guildsReady, messages atomic.Int64
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	client, err := disgo.New(srv.Token(),
		bot.WithLogger(quietLogger()),
		bot.WithShardManager(m),
		bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds)),
		bot.WithRestClientConfigOpts(rest.WithURL(srv.APIURL())),
		bot.WithEventListenerFunc(func(*events.GuildReady) { guildsReady.Add(1); poke() }),
		bot.WithEventListenerFunc(func(*events.MessageCreate) { messages.Add(1); poke() }),
	)
	if err != nil {
		t.Fatal(err)
	}
	m.SetHandler(client.EventManager.HandleGatewayEvent)
	if err := client.OpenShardManager(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())

	eventually(t, "GuildReady for every guild", func() bool { return guildsReady.Load() == 6 }, wake)
	if err := srv.Emit(discordtest.AllShards, 10); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every MessageCreate", func() bool { return messages.Load() == 2*10 }, wake)

	for _, id := range srv.GuildIDs(1, shards) {
		g := m.ShardByGuildID(id)
		if g == nil || g.ShardID() != 1 {
			t.Fatalf("ShardByGuildID(%v) = %v, want shard 1", id, g)
		}
		if _, ok := client.Caches.Guild(id); !ok {
			t.Fatalf("guild %v not cached", id)
		}
	}
	var ids []int
	for g := range m.Shards() {
		ids = append(ids, g.ShardID())
	}
	if !slices.Equal(ids, []int{0, 1}) {
		t.Fatalf("Shards() = %v", ids)
	}
	if st := m.Stats(); len(st) != 2 || st[0].Events == 0 || st[1].Events == 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestManagerRestartResumes closes all shards keeping the sessions, then
// starts a new Set from States: no identify is spent.
func TestManagerRestartResumes(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts(discordtest.WithShards(3))...)
	queue := testQueue()
	opts := []Option{
		WithQueue(queue),
		WithLogger(quietLogger()),
		WithShardOptions(shardOpts(srv)...),
	}
	m := New(srv.Token(), []int{0, 1, 2}, 3, opts...)
	m.Open(t.Context())
	if err := m.OpenShard(t.Context(), 1); !errors.Is(err, shard.ErrAlreadyOpen) {
		t.Fatalf("OpenShard on a running shard = %v", err)
	}
	m.CloseWithCode(t.Context(), 4000, "restart")
	states := m.States()
	if len(states) != 3 {
		t.Fatalf("States = %v", states)
	}
	identifies := srv.Counters().Identifies

	r := newRecorder()
	m2 := New(srv.Token(), []int{0, 1, 2}, 3, append(opts, WithStates(states), WithHandler(r.handle))...)
	m2.Open(t.Context())
	defer m2.Close(context.Background())
	if got := srv.Counters().Identifies; got != identifies {
		t.Fatalf("identifies %d -> %d; want resumes only", identifies, got)
	}
	eventually(t, "three RESUMED", func() bool { return r.count(gateway.EventTypeResumed) == 3 }, r.wake)

	// disgo's ResumeShard path.
	m2.CloseShard(t.Context(), 2)
	if m2.Shard(2) != nil {
		t.Fatal("closed shard still listed")
	}
	if err := m2.ResumeShard(t.Context(), 2, sharding.ShardState{}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Counters().Identifies; got != identifies+1 {
		t.Fatalf("identifies = %d, want one more for the closed (1000) shard", got)
	}
}

// TestManagerOpenAll checks what OpenAll returns: nil when every shard is
// ready, the lowest failing shard's *OpenError otherwise, and ErrClosed
// for shards closed before they opened (a close racing an open never
// leaves a connected shard behind).
func TestManagerOpenAll(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts(discordtest.WithShards(3))...)
	tests := []struct {
		name       string
		token      string
		closeFirst bool
		wantShard  int
		wantErr    error
	}{
		{name: "ready", token: srv.Token()},
		{name: "invalid token", token: "not-the-token", wantShard: 0, wantErr: shard.ErrInvalidToken},
		{name: "closed before open", token: srv.Token(), closeFirst: true, wantShard: 0, wantErr: shard.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(tt.token, []int{2, 0, 1}, 3,
				WithQueue(testQueue()),
				WithLogger(quietLogger()),
				WithShardOptions(shardOpts(srv)...))
			defer m.Close(context.Background())
			if st := m.Stats(); len(st) != 3 {
				t.Fatalf("Stats before Open has %d shards, want 3 (built by New)", len(st))
			}
			if tt.closeFirst {
				m.CloseWithCode(t.Context(), 4000, "restart")
			}
			err := m.OpenAll(t.Context())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("OpenAll = %v", err)
				}
				for _, st := range m.Stats() {
					if st.Status != gateway.StatusReady {
						t.Fatalf("shard %d is %v after OpenAll", st.ShardID, st.Status)
					}
				}
				if err := m.OpenAll(t.Context()); err != nil {
					t.Fatalf("OpenAll of open shards = %v, want nil", err)
				}
				return
			}
			var oe *OpenError
			if !errors.As(err, &oe) || oe.ShardID != tt.wantShard || !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenAll = %v, want *OpenError of shard %d wrapping %v", err, tt.wantShard, tt.wantErr)
			}
			if strings.Contains(err.Error(), "not-the-token") {
				t.Fatalf("error %q holds the token", err)
			}
			for _, st := range m.Stats() {
				if st.Status == gateway.StatusReady {
					t.Fatalf("shard %d is ready after a failed OpenAll", st.ShardID)
				}
			}
		})
	}
}

// TestManagerQueueDepth blocks the handler and checks that QueueDepth
// counts the dispatches waiting behind it, and drops to zero once the
// handler is released.
func TestManagerQueueDepth(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts(discordtest.WithShards(2))...)
	release := make(chan struct{})
	var blocked atomic.Bool
	handler := func(_ gateway.Gateway, t gateway.EventType, _ int, _ gateway.EventData) {
		if t == gateway.EventTypeMessageCreate {
			blocked.Store(true)
			<-release
		}
	}
	m := New(srv.Token(), []int{0, 1}, 2,
		WithQueue(testQueue()),
		WithLogger(quietLogger()),
		WithHandler(handler),
		WithShardOptions(shardOpts(srv)...))
	if err := m.OpenAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The GUILD_CREATEs that follow READY pass the handler at once.
	eventually(t, "an idle queue after the guilds", func() bool { return m.QueueDepth() == 0 })
	if err := srv.Emit(0, 20); err != nil {
		t.Fatal(err)
	}
	eventually(t, "dispatches queued behind the blocked handler", func() bool { return blocked.Load() && m.QueueDepth() > 0 })
	close(release)
	eventually(t, "the queue drained", func() bool { return m.QueueDepth() == 0 })
	m.Close(t.Context())
}

// TestStatsAddCoversEveryCounter: Add must carry every counter of Stats,
// so that a counter added to Stats later cannot be forgotten there (its
// history would go back on every restart).
func TestStatsAddCoversEveryCounter(t *testing.T) {
	t.Parallel()
	var past shard.Stats
	pv := reflect.ValueOf(&past).Elem()
	for i := range pv.NumField() {
		if f := pv.Field(i); f.Kind() == reflect.Uint64 {
			f.SetUint(uint64(i + 1))
		}
	}
	cur := shard.Stats{ShardID: 3, Status: gateway.StatusReady, Latency: time.Second, EventsPerSecond: 7, QueueDepth: 2}
	got := cur.Add(past)
	gv := reflect.ValueOf(got)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		switch f := gv.Field(i); f.Kind() {
		case reflect.Uint64:
			if f.Uint() != uint64(i+1) {
				t.Errorf("Add lost counter %s: %d", name, f.Uint())
			}
		default:
			if !reflect.DeepEqual(f.Interface(), reflect.ValueOf(cur).Field(i).Interface()) {
				t.Errorf("Add changed %s", name)
			}
		}
	}
}

// TestManagerStatsKeepReplacedShards: a shard that OpenShard builds anew
// continues the counters of the one it replaced.
func TestManagerStatsKeepReplacedShards(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	m := New(srv.Token(), []int{0}, 1, WithQueue(testQueue()), WithLogger(quietLogger()),
		WithShardOptions(shardOpts(srv)...))
	if err := m.OpenAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Get(0).Close(context.Background())
	if err := m.OpenShard(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	st := m.Stats()
	if len(st) != 1 || st[0].Identifies != 2 || st[0].Events < 2 {
		t.Fatalf("stats after the shard was replaced = %+v, want 2 identifies and both READYs", st)
	}
}

// TestPrintingKeepsTheTokenOut formats a Set every way a log line, test
// failure or panic message might: the token must not show.
func TestPrintingKeepsTheTokenOut(t *testing.T) {
	t.Parallel()
	const token = "MTIzNDU2.secret-token.value"
	testutil.CheckPrinting(t, token, "16", "count=16", New(token, []int{2, 3}, 16))
}
