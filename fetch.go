package megane

import (
	"context"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
)

// ErrNotFound is matched by every [*NotFoundError]: no cluster has the
// fetched guild, channel or user in its cache.
var ErrNotFound = cluster.ErrNotFound

// NotFoundError says that a fetched object is in no cluster's cache; see
// [cluster.NotFoundError].
type NotFoundError = cluster.NotFoundError

// FetchedGuild is a guild from its owning cluster's cache, JSON-encodable;
// see [cluster.FetchedGuild].
type FetchedGuild = cluster.FetchedGuild

// FetchedChannel is a guild channel from a cluster's cache; see
// [cluster.FetchedChannel].
type FetchedChannel = cluster.FetchedChannel

// FetchOption adds members or messages to a fetch; see [WithMembers] and
// [WithMessages].
type FetchOption = cluster.FetchOption

// WithMembers asks FetchGuild for the guild's cached members: all of them,
// or only ids. Without it a fetched guild has no members.
func WithMembers(ids ...snowflake.ID) FetchOption { return cluster.WithMembers(ids...) }

// WithMessages asks for up to limit cached messages per channel, newest
// first: of channelIDs, or of the fetched channel (FetchChannel) or every
// channel of the fetched guild (FetchGuild). Without it fetched objects
// have no messages.
func WithMessages(limit int, channelIDs ...snowflake.ID) FetchOption {
	return cluster.WithMessages(limit, channelIDs...)
}

// FetchGuild asks the cluster that owns guild id for it, through b. It is
// the form for code that holds only the bus (a service: sc.Bus()); see
// [cluster.FetchGuild] for the errors.
func FetchGuild(ctx context.Context, b *bus.Bus, id snowflake.ID, opts ...FetchOption) (FetchedGuild, error) {
	return cluster.FetchGuild(ctx, b, bus.Address{}, id, opts...)
}

// FetchChannel asks every cluster for channel id, through b; the first
// hit wins. See [cluster.FetchChannel].
func FetchChannel(ctx context.Context, b *bus.Bus, id snowflake.ID, opts ...FetchOption) (FetchedChannel, error) {
	return cluster.FetchChannel(ctx, b, bus.Address{}, id, opts...)
}

// FetchUser asks every cluster for user id, through b; the first hit
// wins. See [cluster.FetchUser].
func FetchUser(ctx context.Context, b *bus.Bus, id snowflake.ID) (discord.User, error) {
	return cluster.FetchUser(ctx, b, bus.Address{}, id)
}

// FetchUsers asks every cluster for several users in one broadcast,
// through b. See [cluster.FetchUsers].
func FetchUsers(ctx context.Context, b *bus.Bus, ids ...snowflake.ID) ([]discord.User, error) {
	return cluster.FetchUsers(ctx, b, bus.Address{}, ids...)
}

// FetchGuild asks the cluster that owns guild id for it (routed by
// (id >> 22) % shards). Members and messages are left out unless asked
// for. Errors: *NotFoundError (ErrNotFound), bus.ErrNoTarget (no cluster
// owns it, or Run is not running), bus.ErrTargetStopped (the owner is
// restarting), bus.ErrTimeout and ctx's error.
func (m *Manager) FetchGuild(ctx context.Context, id snowflake.ID, opts ...FetchOption) (FetchedGuild, error) {
	return cluster.FetchGuild(ctx, m.bus, bus.Manager(), id, opts...)
}

// FetchChannel asks every cluster for channel id; the first hit wins. A
// restarting cluster does not fail it: see [cluster.FetchChannel].
func (m *Manager) FetchChannel(ctx context.Context, id snowflake.ID, opts ...FetchOption) (FetchedChannel, error) {
	return cluster.FetchChannel(ctx, m.bus, bus.Manager(), id, opts...)
}

// FetchUser asks every cluster for user id; the first hit wins.
func (m *Manager) FetchUser(ctx context.Context, id snowflake.ID) (discord.User, error) {
	return cluster.FetchUser(ctx, m.bus, bus.Manager(), id)
}

// FetchUsers asks every cluster for several users in one broadcast and
// returns those found, in the order of ids.
func (m *Manager) FetchUsers(ctx context.Context, ids ...snowflake.ID) ([]discord.User, error) {
	return cluster.FetchUsers(ctx, m.bus, bus.Manager(), ids...)
}
