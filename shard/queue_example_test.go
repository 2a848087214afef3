package shard_test

import (
	"context"
	"fmt"
	"time"

	"github.com/megane-go/megane/shard"
)

func ExampleNewQueue() {
	// One queue for the whole process, configured from /gateway/bot.
	queue := shard.NewQueue(
		shard.WithMaxConcurrency(16),
		shard.WithSessionStartLimit(1000, 998, 20*time.Hour),
		shard.WithReserve(2), // never spend the last two identifies
	)
	defer queue.Close()

	// Shards 0 and 1 are in different buckets: neither waits.
	for _, id := range []int{0, 1} {
		if err := queue.Wait(context.Background(), id); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("shard", id, "may identify")
	}
	fmt.Println("remaining:", queue.Remaining())
	// Output:
	// shard 0 may identify
	// shard 1 may identify
	// remaining: 996
}
