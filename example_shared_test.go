package megane_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/shard"
)

// Counter is a service: it counts the "incr" commands it is sent. The
// embedded bus.Mux makes it a bus.Handler.
type Counter struct {
	bus.Mux
	n int
}

// NewCounter registers the service's commands, once for every run.
func NewCounter() *Counter {
	s := &Counter{}
	bus.Handle(&s.Mux, "incr", s.incr)
	return s
}

// Serve marks the service ready and runs until ctx ends.
func (s *Counter) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	<-ctx.Done()
	return nil
}

// incr runs on the service's mailbox goroutine, one command at a time, so
// n needs no lock.
func (s *Counter) incr(context.Context, struct{}) (int, error) {
	s.n++
	return s.n, nil
}

// runManager starts a Manager for fake with opts and returns once every
// cluster is ready, with a function that stops it.
func runManager(fake *discordtest.Server, clusters int, opts ...megane.Option) (*megane.Manager, func() error) {
	ready := make(chan struct{})
	m, err := megane.New(fake.Token(), append([]megane.Option{
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
	}, opts...)...)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready
	return m, func() error { cancel(); return <-done }
}

func ExampleWithService() {
	fake := startFake(2)
	defer fake.Close()
	m, stop := runManager(fake, 2, megane.WithService("counter", NewCounter()))

	// Any cluster, service or the manager reaches the service by name.
	ctx := context.Background()
	for range 2 {
		n, err := bus.Request[int](ctx, m.Bus(), bus.Manager(), bus.Service("counter"), "incr", nil)
		fmt.Println(n, err)
	}
	fmt.Println("Run:", stop())
	// Output:
	// 1 <nil>
	// 2 <nil>
	// Run: <nil>
}

func Example_fetchGuild() {
	fake := startFake(2)
	defer fake.Close()
	m, stop := runManager(fake, 2)

	ctx := context.Background()
	id := fake.GuildIDs(1, 2)[0] // a guild of shard 1, so of cluster 1
	g, err := cluster.FetchGuild(ctx, m.Bus(), bus.Manager(), id)
	fmt.Println(g.Guild.Name, "has members:", g.Members != nil, err)
	g, err = cluster.FetchGuild(ctx, m.Bus(), bus.Manager(), id, cluster.WithMembers())
	fmt.Println(g.Guild.Name, "members:", len(g.Members), err)
	_, err = cluster.FetchGuild(ctx, m.Bus(), bus.Manager(), 12345<<22)
	fmt.Println(err)
	fmt.Println("Run:", stop())
	// Output:
	// Guild 1 has members: false <nil>
	// Guild 1 members: 10 <nil>
	// cluster: guild 51778682880 not found
	// Run: <nil>
}

func ExampleManager_Stats() {
	fake := startFake(3)
	defer fake.Close()
	m, stop := runManager(fake, 2, megane.WithService("counter", NewCounter()))

	s, err := m.Stats(context.Background())
	for _, c := range s.Clusters {
		fmt.Println("cluster", c.ID, c.State, "shards", len(c.Shards))
	}
	fmt.Println("shards ready:", s.Totals.ShardsReady, "services ready:", s.Totals.ServicesReady, err)
	fmt.Println("Run:", stop())
	// Output:
	// cluster 0 ready shards 2
	// cluster 1 ready shards 1
	// shards ready: 3 services ready: 1 <nil>
	// Run: <nil>
}

func ExampleRequestStats() {
	fake := startFake(1)
	defer fake.Close()
	m, stop := runManager(fake, 1)

	// A service or worker that holds only the bus asks the Manager.
	s, err := megane.RequestStats(context.Background(), m.Bus())
	fmt.Println("clusters:", len(s.Clusters), err)
	fmt.Println("Run:", stop())
	// Output:
	// clusters: 1 <nil>
	// Run: <nil>
}
