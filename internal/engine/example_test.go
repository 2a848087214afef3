package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/shard"
)

// Greeter is a worker; a new one runs after each (re)start.
type Greeter struct{}

// Launch registers the worker's listeners.
func (g *Greeter) Launch(_ context.Context, c *cluster.Cluster) error {
	c.AddEventListeners(bot.NewListenerFunc(func(e *events.MessageCreate) {
		c.Logger().Info("message", slog.Int("shard", e.ShardID()))
	}))
	return nil
}

func ExampleNew() {
	fake, err := discordtest.Start(discordtest.WithShards(2), discordtest.WithGuilds(6),
		discordtest.WithIdentifyWindow(10*time.Millisecond), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	queue := shard.NewQueue(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond))
	defer queue.Close()

	c := engine.New(fake.Token(), 0, []int{0, 1}, 2,
		func() cluster.Worker { return &Greeter{} },
		engine.WithAPIURL(fake.APIURL()),
		engine.WithGatewayURL(fake.GatewayURL()),
		engine.WithQueue(queue),
		engine.WithLogger(slog.New(slog.DiscardHandler)),
		engine.WithClientOpts(bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds))),
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx) }()
	if err := c.WaitReady(ctx); err != nil {
		panic(err)
	}
	fmt.Println(c.Status(), "with", c.Client().Caches.GuildsLen(), "guilds")

	// A worker-only reload: the shards stay connected.
	connections := fake.Counters().Connections
	if err := c.RestartAndWait(ctx, cluster.RestartWorker); err != nil {
		panic(err)
	}
	fmt.Println("new connections:", fake.Counters().Connections-connections)
	cancel()
	fmt.Println("Serve:", <-done)
	// Output:
	// ready with 6 guilds
	// new connections: 0
	// Serve: <nil>
}
