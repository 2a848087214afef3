package shard

import (
	"github.com/disgoorg/snowflake/v2"
)

// ShardOf returns the shard that receives the events of guildID when the bot
// runs shardCount shards: (guildID >> 22) % shardCount. A shardCount below 1
// returns 0.
func ShardOf(guildID snowflake.ID, shardCount int) int {
	if shardCount < 1 {
		return 0
	}
	return int((uint64(guildID) >> 22) % uint64(shardCount))
}
