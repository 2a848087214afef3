package megane_test

import (
	"context"
	"fmt"
)

func ExampleManager_Reshard() {
	fake := startFake(2)
	defer fake.Close()
	ready := make(chan struct{})
	m := newManager(fake, 2, ready)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready
	fmt.Println("shards before:", m.ShardCount())
	// The four new shards start beside the two old ones; Reshard returns
	// once they serve and the old ones are closed.
	if err := m.Reshard(ctx, 4); err != nil {
		fmt.Println(err)
	}
	fmt.Println("shards after:", m.ShardCount())
	for _, c := range m.Clusters() {
		fmt.Println("cluster", c.ID, "shards", c.ShardIDs, c.Status)
	}
	cancel()
	fmt.Println("Run:", <-done)
	// Output:
	// shards before: 2
	// shards after: 4
	// cluster 0 shards [0 1] ready
	// cluster 1 shards [2 3] ready
	// Run: <nil>
}
