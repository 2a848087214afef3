package shardset_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/shardset"
	"github.com/megane-go/megane/shard"
)

func ExampleSet() {
	srv, err := discordtest.Start(discordtest.WithShards(2), discordtest.WithGuilds(4),
		discordtest.WithIdentifyWindow(10*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// One identify queue for the process, with the fake's scaled-down window.
	queue := shard.NewQueue(shard.WithIdentifyWindow(srv.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond))
	m := shardset.New(srv.Token(), []int{0, 1}, 2,
		shardset.WithQueue(queue),
		shardset.WithShardOptions(shard.WithURL(srv.GatewayURL())))
	var events atomic.Int64
	// With disgo: m.SetHandler(client.EventManager.HandleGatewayEvent).
	m.SetHandler(func(gateway.Gateway, gateway.EventType, int, gateway.EventData) { events.Add(1) })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m.Open(ctx)
	for _, st := range m.Stats() {
		fmt.Println("shard", st.ShardID, st.Status)
	}
	m.Close(ctx)
	fmt.Println("sessions left:", len(m.States()))
	// Output:
	// shard 0 Ready
	// shard 1 Ready
	// sessions left: 0
}
