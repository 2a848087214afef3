package shard_test

import (
	"fmt"

	"github.com/megane-go/megane/shard"
)

func ExampleShardOf() {
	fmt.Println(shard.ShardOf(41771983423143937, 16))
	// Output: 6
}
