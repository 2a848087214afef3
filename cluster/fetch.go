package cluster

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// ErrNotFound is matched by every [*NotFoundError]: no cluster has the
// guild, channel or user in its cache.
var ErrNotFound = errors.New("cluster: not found in any cache")

// NotFoundError says that a fetched guild, channel or user is in no
// cluster's cache. It matches [ErrNotFound].
type NotFoundError struct {
	// Kind is "guild", "channel" or "user".
	Kind string
	// ID is the ID that was looked for.
	ID snowflake.ID
	// Unreachable joins the errors of the clusters that could not answer
	// (restarting: bus.ErrTargetStopped, timed out, ...), or is nil when
	// every cluster answered. When it is set the object may exist in a
	// cluster that was down; errors.Is sees through it.
	Unreachable error
}

// Error implements error.
func (e *NotFoundError) Error() string {
	if e.Unreachable != nil {
		return fmt.Sprintf("cluster: %s %d not found (some clusters could not answer: %v)", e.Kind, e.ID, e.Unreachable)
	}
	return fmt.Sprintf("cluster: %s %d not found", e.Kind, e.ID)
}

// Unwrap returns ErrNotFound and, if set, Unreachable.
func (e *NotFoundError) Unwrap() []error {
	if e.Unreachable != nil {
		return []error{ErrNotFound, e.Unreachable}
	}
	return []error{ErrNotFound}
}

// FetchRequest is the JSON-encodable payload of the fetch topics. Build it
// with the Fetch functions and [FetchOption]s; it is exported so that
// another transport can carry it.
type FetchRequest struct {
	// ID is the guild, channel or user asked for (not for FetchUsers).
	ID snowflake.ID `json:"id,omitempty"`
	// IDs are the users asked for by FetchUsers.
	IDs []snowflake.ID `json:"ids,omitempty"`
	// Members asks for the guild's cached members: all of them when
	// MemberIDs is empty, else only those.
	Members   bool           `json:"members,omitempty"`
	MemberIDs []snowflake.ID `json:"member_ids,omitempty"`
	// MessageLimit > 0 asks for at most that many cached messages per
	// channel, newest first: of MessageChannels when set, else of the
	// fetched channel (or, for a guild, of each of its channels).
	MessageLimit    int            `json:"message_limit,omitempty"`
	MessageChannels []snowflake.ID `json:"message_channels,omitempty"`
}

// FetchOption adds to what a fetch returns. Without options, a fetched
// guild holds no members and no messages, and a fetched channel no
// messages.
type FetchOption func(*FetchRequest)

// WithMembers asks FetchGuild for the guild's cached members: every one
// when no IDs are given, else only those (IDs not cached are left out).
func WithMembers(ids ...snowflake.ID) FetchOption {
	return func(r *FetchRequest) {
		r.Members = true
		r.MemberIDs = append(r.MemberIDs, ids...)
	}
}

// WithMessages asks for up to limit cached messages per channel, newest
// first: of the given channels, or with none given, of the fetched
// channel (FetchChannel) or of every channel of the fetched guild
// (FetchGuild). Messages are only there if the clients cache them
// (disgo's cache.FlagMessages).
func WithMessages(limit int, channelIDs ...snowflake.ID) FetchOption {
	return func(r *FetchRequest) {
		r.MessageLimit = limit
		r.MessageChannels = append(r.MessageChannels, channelIDs...)
	}
}

// newFetchRequest builds the request for id with opts.
func newFetchRequest(id snowflake.ID, opts []FetchOption) FetchRequest {
	r := FetchRequest{ID: id}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// FetchedGuild is a guild as the owning cluster's cache holds it. It is a
// copy, safe to keep and modify, and round-trips through encoding/json
// (a reply that may one day cross hosts).
type FetchedGuild struct {
	// Guild is the guild itself.
	Guild discord.Guild `json:"guild"`
	// Channels are the guild's cached channels, by position then ID.
	Channels []discord.GuildChannel `json:"channels"`
	// Roles are the guild's cached roles, by position then ID.
	Roles []discord.Role `json:"roles"`
	// Members is set only with WithMembers, sorted by user ID.
	Members []discord.Member `json:"members,omitempty"`
	// Messages is set only with WithMessages: channel ID → messages,
	// newest first. Channels without cached messages are absent.
	Messages map[snowflake.ID][]discord.Message `json:"messages,omitempty"`
}

// UnmarshalJSON decodes a FetchedGuild, including its channels (an
// interface type that encoding/json alone cannot decode).
func (g *FetchedGuild) UnmarshalJSON(data []byte) error {
	type plain FetchedGuild
	var aux struct {
		plain
		Channels []discord.UnmarshalChannel `json:"channels"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*g = FetchedGuild(aux.plain)
	g.Channels = nil
	for i, uc := range aux.Channels {
		gc, ok := uc.Channel.(discord.GuildChannel)
		if !ok {
			return fmt.Errorf("cluster: fetched guild: channel %d is a %T, not a guild channel", i, uc.Channel)
		}
		g.Channels = append(g.Channels, gc)
	}
	return nil
}

// FetchedChannel is a guild channel as a cluster's cache holds it, with
// its messages if asked for. It round-trips through encoding/json.
type FetchedChannel struct {
	// Channel is the channel (a discord.GuildTextChannel, ...).
	Channel discord.GuildChannel `json:"channel"`
	// Messages is set only with WithMessages, newest first.
	Messages []discord.Message `json:"messages,omitempty"`
}

// UnmarshalJSON decodes a FetchedChannel, including its channel.
func (f *FetchedChannel) UnmarshalJSON(data []byte) error {
	var aux struct {
		Channel  discord.UnmarshalChannel `json:"channel"`
		Messages []discord.Message        `json:"messages,omitempty"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	gc, ok := aux.Channel.Channel.(discord.GuildChannel)
	if !ok {
		return fmt.Errorf("cluster: fetched channel is a %T, not a guild channel", aux.Channel.Channel)
	}
	*f = FetchedChannel{Channel: gc, Messages: aux.Messages}
	return nil
}
