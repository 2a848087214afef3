package cluster

// Topics that a cluster's mailbox answers itself. Every topic starting with
// [ReservedTopicPrefix] belongs to Megane; any other topic is a command for
// the worker's bus.Handler (see [Worker]).
const (
	// ReservedTopicPrefix starts every topic that Megane handles itself.
	ReservedTopicPrefix = "megane."
	// TopicStats asks for the worker's bus.StatsProvider figures; the reply
	// is a map[string]any (nil when the worker adds none).
	TopicStats = "megane.cluster.stats"
	// TopicFetchGuild asks for a guild from the cache; the payload is a
	// [FetchRequest] and the reply a [FetchedGuild]. See [FetchGuild].
	TopicFetchGuild = "megane.fetch.guild"
	// TopicFetchChannel asks for a guild channel from the cache; the reply
	// is a [FetchedChannel]. See [FetchChannel].
	TopicFetchChannel = "megane.fetch.channel"
	// TopicFetchUser asks for a user from the cache; the reply is a
	// discord.User. See [FetchUser].
	TopicFetchUser = "megane.fetch.user"
	// TopicFetchUsers asks for several users; the reply is the
	// []discord.User this cluster has. See [FetchUsers].
	TopicFetchUsers = "megane.fetch.users"
)
