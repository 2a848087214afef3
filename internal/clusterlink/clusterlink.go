// Package clusterlink joins the public cluster package to the engine that
// runs clusters (internal/engine): the hook through which the engine gets
// the *cluster.Cluster handle of a cluster (a handle whose fields only
// package cluster can set), and the bus topics on which a cluster's
// mailbox answers package cluster's fetch calls and the Manager's stats.
package clusterlink

// Wrap returns the public *cluster.Cluster (as any) that reads engine, an
// *engine.Cluster. Package cluster sets it when it is initialised, which is
// before the engine (which imports it) can run.
var Wrap func(engine any) any

// The topics a cluster's mailbox answers itself. Every topic starting with
// ReservedTopicPrefix belongs to Megane; any other goes to the worker.
const (
	// ReservedTopicPrefix starts every topic that Megane handles itself.
	ReservedTopicPrefix = "megane."
	// TopicStats asks for the worker's bus.StatsProvider figures; the reply
	// is a map[string]any (nil when the worker adds none).
	TopicStats = "megane.cluster.stats"
	// TopicFetchGuild asks for a guild from the cache; the payload is a
	// cluster.FetchRequest and the reply a cluster.FetchedGuild; see
	// cluster.FetchGuild.
	TopicFetchGuild = "megane.fetch.guild"
	// TopicFetchChannel asks for a guild channel from the cache; the reply
	// is a cluster.FetchedChannel. See cluster.FetchChannel.
	TopicFetchChannel = "megane.fetch.channel"
	// TopicFetchUser asks for a user from the cache; the reply is a
	// discord.User. See cluster.FetchUser.
	TopicFetchUser = "megane.fetch.user"
	// TopicFetchUsers asks for several users; the reply is the
	// []discord.User this cluster has. See cluster.FetchUsers.
	TopicFetchUsers = "megane.fetch.users"
)
