// Package shard runs Discord gateway shards.
//
// A Shard is one gateway connection: it implements disgo's gateway.Gateway,
// handles the control opcodes (HELLO, heartbeats, RECONNECT, INVALID_SESSION)
// on its read loop and hands dispatches to a bounded queue. Megane's engine
// runs each cluster's shards as a set (internal/shardset).
//
// Around the connections, this package holds the rules that span shards:
//
//   - the identify Queue (LocalQueue): one per process; buckets of
//     shard_id % max_concurrency, one identify per bucket per 5 s window,
//     lower shard IDs first, and a session start budget that waits for its
//     reset instead of burning the last identifies;
//   - ShardOf: the shard that receives a guild's events.
package shard
