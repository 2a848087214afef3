package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/clusterlink"
)

// FetchGuild asks the cluster that owns guild id (bus.GuildOwner, routed
// by (id >> 22) % shards) for the guild from its cache. from is the
// sender's address (the zero Address for an anonymous caller). Members
// and messages are left out unless asked for with [WithMembers] and
// [WithMessages].
//
// Errors: a *NotFoundError (ErrNotFound) when the owner does not have the
// guild; bus.ErrNoTarget when no cluster owns it (a guild of a shard this
// process does not run) or the owner is unknown; bus.ErrTargetStopped
// while the owner restarts; bus.ErrTimeout and context errors.
//
// FetchGuild is safe for concurrent use and costs one bus request (about
// 2 µs in-process) plus copying the guild out of the cache.
func FetchGuild(ctx context.Context, b *bus.Bus, from bus.Address, id snowflake.ID, opts ...FetchOption) (FetchedGuild, error) {
	req := newFetchRequest(id, opts)
	g, err := bus.Request[FetchedGuild](ctx, b, from, bus.GuildOwner(uint64(id)), clusterlink.TopicFetchGuild, req)
	if err != nil {
		return FetchedGuild{}, fetchError("guild", id, err)
	}
	return g, nil
}

// FetchChannel asks every cluster for guild channel id and returns the
// first cluster's answer (in cluster ID order) that has it. Messages are
// left out unless asked for with [WithMessages].
//
// It waits for every cluster's answer (bounded by ctx). A cluster that
// cannot answer (restarting) does not fail the fetch; if no cluster that
// answered has the channel, the error is a *NotFoundError whose
// Unreachable field joins the errors of those that could not. With no
// cluster on the bus it is bus.ErrNoTarget.
func FetchChannel(ctx context.Context, b *bus.Bus, from bus.Address, id snowflake.ID, opts ...FetchOption) (FetchedChannel, error) {
	return firstHit[FetchedChannel](ctx, b, from, clusterlink.TopicFetchChannel, "channel", newFetchRequest(id, opts))
}

// FetchUser asks every cluster for user id (the bot itself, or a member of
// a cached guild) and returns the first hit, with FetchChannel's rules.
func FetchUser(ctx context.Context, b *bus.Bus, from bus.Address, id snowflake.ID) (discord.User, error) {
	return firstHit[discord.User](ctx, b, from, clusterlink.TopicFetchUser, "user", FetchRequest{ID: id})
}

// FetchUsers asks every cluster for several users in one broadcast and
// returns the ones found, in the order of ids (duplicates once). IDs no
// cluster has are left out; compare lengths to notice them. The error is
// non-nil only when no cluster could answer at all (every one restarting,
// or none on the bus); clusters that could not answer while others did
// are ignored.
func FetchUsers(ctx context.Context, b *bus.Bus, from bus.Address, ids ...snowflake.ID) ([]discord.User, error) {
	if len(ids) == 0 {
		return []discord.User{}, nil
	}
	results := bus.Broadcast[[]discord.User](ctx, b, from, bus.AllClusters(), clusterlink.TopicFetchUsers, FetchRequest{IDs: ids})
	if len(results) == 0 {
		return nil, fmt.Errorf("cluster: fetch users: %w: no cluster on the bus", bus.ErrNoTarget)
	}
	found := make(map[snowflake.ID]discord.User, len(ids))
	var errs []error
	answered := false
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
			continue
		}
		answered = true
		for _, u := range r.Value {
			if _, dup := found[u.ID]; !dup {
				found[u.ID] = u
			}
		}
	}
	if !answered {
		return nil, fmt.Errorf("cluster: fetch users: no cluster answered: %w", errors.Join(errs...))
	}
	out := make([]discord.User, 0, len(found))
	for _, id := range ids {
		if u, ok := found[id]; ok {
			out = append(out, u)
			delete(found, id)
		}
	}
	return out, nil
}

// firstHit broadcasts a fetch to every cluster and returns the first
// answer in address order.
func firstHit[T any](ctx context.Context, b *bus.Bus, from bus.Address, topic, kind string, req FetchRequest) (T, error) {
	var zero T
	results := bus.Broadcast[T](ctx, b, from, bus.AllClusters(), topic, req)
	if len(results) == 0 {
		return zero, fmt.Errorf("cluster: fetch %s %d: %w: no cluster on the bus", kind, req.ID, bus.ErrNoTarget)
	}
	var errs []error
	for _, r := range results {
		if r.Err == nil {
			return r.Value, nil
		}
		if !isNotFound(r.Err) {
			errs = append(errs, r.Err)
		}
	}
	return zero, &NotFoundError{Kind: kind, ID: req.ID, Unreachable: errors.Join(errs...)}
}

// fetchError turns a request's error into the fetch's: a handler's
// not-found becomes the *NotFoundError itself.
func fetchError(kind string, id snowflake.ID, err error) error {
	if isNotFound(err) {
		return &NotFoundError{Kind: kind, ID: id}
	}
	return fmt.Errorf("cluster: fetch %s %d: %w", kind, id, err)
}

// isNotFound reports whether a handler answered "not found". In-process
// the *bus.HandlerError unwraps to the *NotFoundError; after a wire hop
// only its message is left, so that is checked too.
func isNotFound(err error) bool {
	if errors.Is(err, ErrNotFound) {
		return true
	}
	var he *bus.HandlerError
	return errors.As(err, &he) && he.Err == nil && isNotFoundMsg(he.Msg)
}

// isNotFoundMsg recognises NotFoundError's message after a wire hop.
func isNotFoundMsg(msg string) bool {
	return strings.HasPrefix(msg, "cluster: ") && strings.HasSuffix(msg, " not found")
}
