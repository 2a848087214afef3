//go:build disgo_integration

package discordtest

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/disgo/sharding"
	"github.com/disgoorg/snowflake/v2"
)

// TestDisgoShardedBot connects a disgo bot.Client with disgo's own sharding
// to the fake: it reads /gateway/bot, opens every shard, and each shard
// gets READY and exactly its guilds. Built only with -tags
// disgo_integration, because disgo's gateway has data races that -race
// reports.
func TestDisgoShardedBot(t *testing.T) {
	for _, comp := range []gateway.CompressionType{gateway.CompressionZstdStream, gateway.CompressionZlibStream, gateway.CompressionNone} {
		t.Run("compress="+comp.String(), func(t *testing.T) { testDisgoShardedBot(t, comp) })
	}
}

func testDisgoShardedBot(t *testing.T, comp gateway.CompressionType) {
	const shards = 4
	s := New(t, WithShards(shards), WithGuilds(50), WithMaxConcurrency(shards))

	var (
		mu     sync.Mutex
		ready  = map[int]bool{}
		guilds = map[int][]snowflake.ID{}
	)
	allReady := make(chan struct{})
	var once sync.Once
	check := func() { // mu held
		n := 0
		for id := range shards {
			if ready[id] && len(guilds[id]) == len(s.GuildIDs(id, shards)) {
				n++
			}
		}
		if n == shards {
			once.Do(func() { close(allReady) })
		}
	}
	client, err := disgo.New(s.Token(),
		bot.WithRestClientConfigOpts(
			rest.WithURL(s.APIURL()),
			rest.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}),
			rest.WithRateLimiter(rest.NewNoopRateLimiter())),
		bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds, cache.FlagChannels, cache.FlagRoles, cache.FlagMembers)),
		bot.WithShardManagerConfigOpts(
			sharding.WithGatewayConfigOpts(
				gateway.WithIntents(gateway.IntentGuilds|gateway.IntentGuildMessages),
				gateway.WithCompression(comp))),
		bot.WithLogger(slog.New(slog.DiscardHandler)),
		bot.WithEventListenerFunc(func(e *events.Ready) {
			mu.Lock()
			defer mu.Unlock()
			ready[e.ShardID()] = true
			check()
		}),
		bot.WithEventListenerFunc(func(e *events.GuildReady) {
			mu.Lock()
			defer mu.Unlock()
			guilds[e.ShardID()] = append(guilds[e.ShardID()], e.GuildID)
			check()
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.OpenShardManager(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-allReady:
	case <-ctx.Done():
		mu.Lock()
		t.Errorf("not all shards ready: ready %v, guilds %v", ready, guilds)
		mu.Unlock()
	}
	mu.Lock()
	for id := range shards {
		got := slices.Clone(guilds[id])
		slices.Sort(got)
		if want := s.GuildIDs(id, shards); !slices.Equal(got, want) {
			t.Errorf("shard %d guilds %v, want %v", id, got, want)
		}
	}
	mu.Unlock()
	if n := client.Caches.GuildsLen(); n != 50 {
		t.Errorf("cache holds %d guilds, want 50", n)
	}
	for _, g := range s.GuildIDs(0, shards) {
		if n := len(slices.Collect(client.Caches.Members(g))); n != 10 {
			t.Errorf("guild %v: %d members cached, want 10", g, n)
		}
		if n := len(slices.Collect(client.Caches.ChannelsForGuild(g))); n != 10 {
			t.Errorf("guild %v: %d channels cached, want 10", g, n)
		}
	}
	client.Close(context.Background())
	if c := s.Counters(); c.Identifies != shards || c.BucketBreaches != 0 {
		t.Errorf("counters %+v", c)
	}
}

// TestDisgoResumesWithoutLoss applies each fault to every shard of a disgo
// client while messages flow and checks that disgo resumed and received
// every MESSAGE_CREATE exactly once.
func TestDisgoResumesWithoutLoss(t *testing.T) {
	const shards, perPhase = 2, 25
	faults := []struct {
		name  string
		fault func(*Server) error
	}{
		{"op7", func(s *Server) error { return s.Reconnect(AllShards) }},
		{"op9 resumable", func(s *Server) error { return s.InvalidSession(AllShards, true) }},
		{"close 4000", func(s *Server) error { return s.CloseShard(AllShards, 4000) }},
		{"tcp drop", func(s *Server) error { return s.DropShard(AllShards) }},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			s := New(t, WithShards(shards), WithGuilds(6), WithMaxConcurrency(shards))
			var mu sync.Mutex
			msgs := map[snowflake.ID]int{}
			ready := make(chan int, shards)
			resumed := make(chan int, shards)
			got := make(chan struct{}, 4*shards*perPhase)
			client, err := disgo.New(s.Token(),
				bot.WithRestClientConfigOpts(
					rest.WithURL(s.APIURL()),
					rest.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}),
					rest.WithRateLimiter(rest.NewNoopRateLimiter())),
				bot.WithShardManagerConfigOpts(
					sharding.WithGatewayConfigOpts(gateway.WithIntents(gateway.IntentGuilds|gateway.IntentGuildMessages))),
				bot.WithLogger(slog.New(slog.DiscardHandler)),
				bot.WithEventListenerFunc(func(e *events.Ready) { ready <- e.ShardID() }),
				bot.WithEventListenerFunc(func(e *events.Resumed) { resumed <- e.ShardID() }),
				bot.WithEventListenerFunc(func(e *events.MessageCreate) {
					mu.Lock()
					msgs[e.MessageID]++
					mu.Unlock()
					got <- struct{}{}
				}),
			)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := client.OpenShardManager(ctx); err != nil {
				t.Fatal(err)
			}
			for range shards {
				select {
				case <-ready:
				case <-ctx.Done():
					t.Fatal("shards not ready")
				}
			}
			if err := s.Emit(AllShards, perPhase); err != nil {
				t.Fatal(err)
			}
			if err := f.fault(s); err != nil {
				t.Fatal(err)
			}
			if err := s.Emit(AllShards, perPhase); err != nil {
				t.Fatal(err)
			}
			for range shards {
				select {
				case <-resumed:
				case <-ctx.Done():
					t.Fatalf("shards did not resume; counters %+v", s.Counters())
				}
			}
			for i := 0; i < 2*shards*perPhase; i++ {
				select {
				case <-got:
				case <-ctx.Done():
					t.Fatalf("got %d of %d messages; counters %+v", i, 2*shards*perPhase, s.Counters())
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for id, n := range msgs {
				if n != 1 {
					t.Errorf("message %v delivered %d times", id, n)
				}
			}
			if c := s.Counters(); c.Resumes != shards || c.Identifies != shards {
				t.Errorf("Resumes %d Identifies %d, want %d each", c.Resumes, c.Identifies, shards)
			}
		})
	}
}

// TestDisgoHeartbeats: with the fake's delayed ACKs disgo keeps its
// connection over many beats (an instant ACK would look like a zombie to
// disgo v0.19.6), and when ACKs are withheld disgo sees a zombie and
// resumes.
func TestDisgoHeartbeats(t *testing.T) {
	s := New(t, WithGuilds(2), WithHeartbeatInterval(50*time.Millisecond))
	resumed := make(chan struct{}, 1)
	ready := make(chan struct{}, 1)
	client, err := disgo.New(s.Token(),
		bot.WithRestClientConfigOpts(
			rest.WithURL(s.APIURL()),
			rest.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}),
			rest.WithRateLimiter(rest.NewNoopRateLimiter())),
		bot.WithShardManagerConfigOpts(sharding.WithGatewayConfigOpts(gateway.WithIntents(gateway.IntentGuilds))),
		bot.WithLogger(slog.New(slog.DiscardHandler)),
		bot.WithEventListenerFunc(func(*events.Ready) { ready <- struct{}{} }),
		bot.WithEventListenerFunc(func(*events.Resumed) { resumed <- struct{}{} }),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.OpenShardManager(ctx); err != nil {
		t.Fatal(err)
	}
	<-ready
	poll := func(cond func(Counters) bool) {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for !cond(s.Counters()) {
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("condition not met; counters %+v", s.Counters())
			}
		}
	}
	poll(func(c Counters) bool { return c.Acks >= 10 })
	if c := s.Counters(); c.Connections != 1 || c.Resumes != 0 {
		t.Fatalf("disgo reconnected despite ACKs: %+v", c)
	}
	if err := s.WithholdAcks(0, true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-resumed:
	case <-ctx.Done():
		t.Fatalf("disgo did not resume; counters %+v", s.Counters())
	}
	if c := s.Counters(); c.Resumes != 1 || c.Identifies != 1 {
		t.Errorf("counters %+v", c)
	}
}
