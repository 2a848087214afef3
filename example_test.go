package megane_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
)

// Bot is a worker: a new value runs in each cluster after each (re)start.
type Bot struct{}

// Launch registers the bot's listeners.
func (b *Bot) Launch(_ context.Context, c *cluster.Cluster) error {
	c.AddEventListeners(bot.NewListenerFunc(func(e *events.MessageCreate) {
		// Handle the message; e.Client() is this cluster's disgo client.
	}))
	return nil
}

// The scaled-down identify window of the examples, set on the fake Discord
// (the Manager's queue takes it from the fake), and the queue's margin.
const (
	exampleWindow = 10 * time.Millisecond
	exampleMargin = 20 * time.Millisecond
)

// startFake starts a fake Discord with the scaled-down identify window.
func startFake(shards int) *discordtest.Server {
	fake, err := discordtest.Start(discordtest.WithShards(shards), discordtest.WithIdentifyWindow(exampleWindow),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	return fake
}

// newManager builds a Manager for the fake that reports AllClustersReady.
func newManager(fake *discordtest.Server, clusters int, ready chan<- struct{}) *megane.Manager {
	m, err := megane.New(fake.Token(),
		megane.WithWorker(func() cluster.Worker { return &Bot{} }),
		megane.WithClusters(clusters),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithLogger(slog.New(slog.DiscardHandler)),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(exampleMargin)),
		megane.WithEventHandler(func(e cluster.Event) {
			if e.Kind == cluster.EventAllReady {
				close(ready)
			}
		}),
	)
	if err != nil {
		panic(err)
	}
	return m
}

func ExampleNew() {
	m, err := megane.New("MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b",
		megane.WithWorker(func() cluster.Worker { return &Bot{} }),
		megane.WithShards(megane.AutoShards),
		megane.WithClusters(0), // GOMAXPROCS
	)
	fmt.Println(m != nil, err)
	_, err = megane.New("not a token", megane.WithWorker(func() cluster.Worker { return &Bot{} }))
	fmt.Println(err)
	_, err = megane.New("", megane.WithWorker(func() cluster.Worker { return &Bot{} }))
	fmt.Println(err)
	_, err = megane.New("MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b", megane.WithWorker(func() cluster.Worker { return &Bot{} }),
		megane.WithShards(-2))
	fmt.Println(err)
	// Output:
	// true <nil>
	// megane: malformed bot token: it holds a space or a control character (a newline read from a file?)
	// megane: empty bot token (is DISCORD_TOKEN set?)
	// megane: invalid option WithShards(-2): want AutoShards (0) or a positive count
}

func ExampleManager_Run() {
	fake := startFake(3)
	defer fake.Close()
	ready := make(chan struct{})
	m := newManager(fake, 2, ready)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready
	for _, c := range m.Clusters() {
		fmt.Println("cluster", c.ID, "shards", c.ShardIDs, c.Status)
	}
	cancel()
	fmt.Println("Run:", <-done)
	// Output:
	// cluster 0 shards [0 1] ready
	// cluster 1 shards [2] ready
	// Run: <nil>
}

func ExampleManager_Restart() {
	fake := startFake(2)
	defer fake.Close()
	ready := make(chan struct{})
	m := newManager(fake, 2, ready)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready
	before := fake.Counters().Identifies
	// A resume restart keeps the sessions: no identify is spent.
	if err := m.Restart(ctx, 1, cluster.RestartResume); err != nil {
		fmt.Println(err)
	}
	fmt.Println("identifies spent:", fake.Counters().Identifies-before)
	fmt.Println("cluster 1 restarts:", m.Clusters()[1].Restarts)
	cancel()
	fmt.Println("Run:", <-done)
	// Output:
	// identifies spent: 0
	// cluster 1 restarts: 1
	// Run: <nil>
}
