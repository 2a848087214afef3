package shard

import (
	"context"
	"errors"
	"slices"
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
)

// TestManagerWithDisgoClient runs a disgo bot.Client over a Manager and
// checks that its listeners get GuildReady and MessageCreate.
func TestManagerWithDisgoClient(t *testing.T) {
	t.Parallel()
	const shards = 2
	srv := discordtest.New(t, fakeOpts(discordtest.WithShards(shards), discordtest.WithGuilds(6))...)
	m := NewManager(srv.Token(), []int{0, 1}, shards,
		WithManagerQueue(NewQueue(WithIdentifyWindow(3*time.Millisecond), WithQueueLogger(quietLogger()))),
		WithManagerLogger(quietLogger()),
		WithManagerShardOptions(shardOpts(srv)...))

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
// starts a new Manager from States: no identify is spent.
func TestManagerRestartResumes(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts(discordtest.WithShards(3))...)
	queue := NewQueue(WithIdentifyWindow(3*time.Millisecond), WithQueueLogger(quietLogger()))
	opts := []ManagerOption{
		WithManagerQueue(queue),
		WithManagerLogger(quietLogger()),
		WithManagerShardOptions(shardOpts(srv)...),
	}
	m := NewManager(srv.Token(), []int{0, 1, 2}, 3, opts...)
	m.Open(t.Context())
	if err := m.OpenShard(t.Context(), 1); !errors.Is(err, ErrAlreadyOpen) {
		t.Fatalf("OpenShard on a running shard = %v", err)
	}
	m.CloseWithCode(t.Context(), 4000, "restart")
	states := m.States()
	if len(states) != 3 {
		t.Fatalf("States = %v", states)
	}
	identifies := srv.Counters().Identifies

	r := newRecorder()
	m2 := NewManager(srv.Token(), []int{0, 1, 2}, 3, append(opts, WithManagerStates(states), WithManagerHandler(r.handle))...)
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
