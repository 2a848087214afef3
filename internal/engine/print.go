package engine

import (
	"fmt"
	"log/slog"
)

// String describes the cluster as "cluster ID (shards [...] of COUNT)".
// Printing a *Cluster with fmt (%v, %+v, %s) or slog shows only this: the
// token it holds never reaches a log line or panic message that way.
func (c *Cluster) String() string {
	return fmt.Sprintf("cluster %d (shards %v of %d)", c.id, c.shardIDs, c.shardCount)
}

// GoString implements fmt.GoStringer for %#v, with the same redaction as
// String.
func (c *Cluster) GoString() string { return "cluster.Cluster(" + c.String() + ")" }

// LogValue implements slog.LogValuer: the cluster's id, shard ids and
// shard count.
func (c *Cluster) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", c.id), slog.Any("shards", c.shardIDs), slog.Int("count", c.shardCount))
}
