package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/shard"
)

// Pinger is a worker that answers the "ping" command on its embedded
// bus.Mux, which makes it a bus.Handler.
type Pinger struct {
	Greeter
	bus.Mux
}

// Launch registers the commands sent to the cluster through the bus.
func (p *Pinger) Launch(ctx context.Context, c *cluster.Cluster) error {
	bus.Handle(&p.Mux, "ping", func(_ context.Context, n int) (string, error) {
		return fmt.Sprint("pong ", n), nil
	})
	return p.Greeter.Launch(ctx, c)
}

func ExampleFetchGuild() {
	fake, err := discordtest.Start(discordtest.WithShards(1), discordtest.WithGuilds(2), discordtest.WithMembers(3),
		discordtest.WithIdentifyWindow(10*time.Millisecond), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	queue := shard.NewQueue(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond))
	defer queue.Close()
	// One bus for the process; every guild belongs to cluster 0 here.
	b := bus.New(bus.WithGuildResolver(func(uint64) (int, bool) { return 0, true }))

	c := engine.New(fake.Token(), 0, []int{0}, 1,
		func() cluster.Worker { return &Pinger{} },
		engine.WithBus(b),
		engine.WithAPIURL(fake.APIURL()),
		engine.WithGatewayURL(fake.GatewayURL()),
		engine.WithQueue(queue),
		engine.WithLogger(slog.New(slog.DiscardHandler)),
		engine.WithClientOpts(bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds|cache.FlagChannels|cache.FlagMembers))),
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx) }()
	if err := c.WaitReady(ctx); err != nil {
		panic(err)
	}

	// A command for the worker, from anyone holding the bus.
	reply, err := bus.Request[string](ctx, b, bus.Manager(), bus.Cluster(0), "ping", 42)
	fmt.Println(reply, err)

	// A guild from its owner's cache: without members unless asked.
	id := fake.GuildIDs(0, 1)[0]
	g, err := cluster.FetchGuild(ctx, b, bus.Manager(), id)
	fmt.Println(g.Guild.Name, len(g.Channels), "channels; members included:", g.Members != nil, err)
	g, err = cluster.FetchGuild(ctx, b, bus.Manager(), id, cluster.WithMembers())
	fmt.Println(len(g.Members), "members", err)

	cancel()
	fmt.Println("Serve:", <-done)
	// Output:
	// pong 42 <nil>
	// Guild 0 10 channels; members included: false <nil>
	// 3 members <nil>
	// Serve: <nil>
}
