package shard_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/shard"
)

func ExampleShard() {
	// A fake Discord on loopback; use the real gateway URL in production.
	srv, err := discordtest.Start(discordtest.WithGuilds(3))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	var guilds atomic.Int64
	done := make(chan struct{})
	handler := func(_ gateway.Gateway, t gateway.EventType, _ int, _ gateway.EventData) {
		// Called in order, on the shard's dispatch goroutine.
		if t == gateway.EventTypeGuildCreate && guilds.Add(1) == 3 {
			close(done)
		}
	}
	s := shard.New(srv.Token(), 0, 1, handler,
		shard.WithURL(srv.GatewayURL()),
		shard.WithIntents(gateway.IntentGuilds, gateway.IntentGuildMessages))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Open(ctx); err != nil { // returns once READY arrived
		fmt.Println(err)
		return
	}
	<-done
	fmt.Println("status:", s.Status(), "guilds:", guilds.Load())

	// Close with a non-1000 code keeps the session, so a new Shard built
	// WithState(state) resumes it without an identify.
	s.CloseWithCode(ctx, 4000, "restarting")
	state := s.State()
	fmt.Println("resumable:", state.Resumable(), "err:", s.Err())
	// Output:
	// status: Ready guilds: 3
	// resumable: true err: shard: closed
}

func ExampleManager() {
	srv, err := discordtest.Start(discordtest.WithShards(2), discordtest.WithGuilds(4),
		discordtest.WithIdentifyWindow(10*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// One identify queue for the process, with the fake's scaled-down window.
	queue := shard.NewQueue(shard.WithIdentifyWindow(srv.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond))
	m := shard.NewManager(srv.Token(), []int{0, 1}, 2,
		shard.WithManagerQueue(queue),
		shard.WithManagerShardOptions(shard.WithURL(srv.GatewayURL())))
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
