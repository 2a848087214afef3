package shardplan_test

import (
	"fmt"

	"github.com/megane-go/megane/internal/shardplan"
)

func ExampleNewPlan() {
	// /gateway/bot recommends 10 shards; this process runs them all in 3
	// clusters. The first clusters take the leftovers.
	plan, err := shardplan.NewPlan(shardplan.WithRecommended(10), shardplan.WithClusters(3))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Count, plan.Clusters)
	c, _ := plan.ClusterOf(5)
	fmt.Println("shard 5 is in cluster", c)
	// Output:
	// 10 [[0 1 2 3] [4 5 6] [7 8 9]]
	// shard 5 is in cluster 1
}

func ExampleNewPlan_multiHost() {
	// A large bot: Discord recommends 250 shards, max_concurrency is 16, and
	// this host runs the second half in 4 clusters.
	plan, err := shardplan.NewPlan(shardplan.WithRecommended(250), shardplan.WithMultipleOf(16),
		shardplan.WithShardRange(128, 255), shardplan.WithClusters(4))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, ids := range plan.Clusters {
		fmt.Printf("cluster %d: shards %d..%d\n", i, ids[0], ids[len(ids)-1])
	}
	fmt.Println("total", plan.Count)
	// Output:
	// cluster 0: shards 128..159
	// cluster 1: shards 160..191
	// cluster 2: shards 192..223
	// cluster 3: shards 224..255
	// total 256
}
