package cluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
)

// Greeter is a worker: Megane makes a new one for each (re)start of its
// cluster. Its embedded bus.Mux makes it a bus.Handler, so it takes typed
// commands at its cluster's address.
type Greeter struct {
	bus.Mux
	shards []int
}

// Launch registers the worker's commands; they arrive once it returns.
func (g *Greeter) Launch(_ context.Context, c *cluster.Cluster) error {
	g.shards = c.ShardIDs()
	bus.Handle(&g.Mux, "hello", func(_ context.Context, name string) (string, error) {
		return fmt.Sprintf("hello %s from cluster %d (shards %v)", name, c.ID(), g.shards), nil
	})
	return nil
}

// A worker, run by a Manager against the fake Discord, answers a typed
// command, and any cluster's cache is read with the fetch calls.
func Example() {
	fake, err := discordtest.Start(discordtest.WithShards(2), discordtest.WithGuilds(4),
		discordtest.WithIdentifyWindow(10*time.Millisecond), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	ready := make(chan struct{})
	m, err := megane.New(fake.Token(),
		megane.WithWorker(func() cluster.Worker { return &Greeter{} }),
		megane.WithClusters(2),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithLogger(slog.New(slog.DiscardHandler)),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond)),
		megane.WithEventHandler(func(e cluster.Event) {
			if e.Kind == cluster.EventAllReady {
				close(ready)
			}
		}))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready

	reply, err := bus.Request[string](ctx, m.Bus(), bus.Manager(), bus.Cluster(1), "hello", "ada")
	fmt.Println(reply, err)
	g, err := cluster.FetchGuild(ctx, m.Bus(), bus.Manager(), fake.GuildIDs(0, 2)[0])
	fmt.Println(g.Guild.Name, err)
	cancel()
	fmt.Println("Run:", <-done)
	// Output:
	// hello ada from cluster 1 (shards [1]) <nil>
	// Guild 0 <nil>
	// Run: <nil>
}
