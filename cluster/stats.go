package cluster

import (
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// Stats is a snapshot of one cluster's figures, as [Cluster.Stats] builds
// it. It is a plain value; the Manager turns it into a stats.ClusterStats.
type Stats struct {
	// ID is the cluster's ID.
	ID int
	// Status is the cluster's state (see [Cluster.Status]); Ready is
	// Status == supervisor.StateReady.
	Status supervisor.State
	Ready  bool
	// Guilds, Channels and Members count the current client's cache;
	// Users counts the distinct users among the cached members. All are
	// zero between attempts.
	Guilds, Users, Channels, Members int
	// Restarts counts the attempts after the first; LastError is the last
	// crash or nil.
	Restarts  int
	LastError error
	// Shards holds each shard's figures, sorted by ID. Its counters are
	// the shard's history over every attempt of the cluster, so they never
	// go back; between attempts a shard is listed as disconnected with
	// that history.
	Shards []shard.Stats
	// Custom is what the worker's bus.StatsProvider returned, or nil (no
	// provider, the cluster is not ready, or it did not answer in time).
	Custom map[string]any
	// Held is how many events of a cluster in maintenance wait for the
	// worker in its hold buffer, and HeldDropped how many held events a
	// full buffer dropped over the cluster's life (the oldest go first).
	Held, HeldDropped int
}
