package engine

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/clusterlink"
)

// answerFetch answers one fetch topic from the current client's cache. It
// runs on the mailbox goroutine; disgo's caches are safe for concurrent
// use.
func (c *Cluster) answerFetch(topic string, req FetchRequest) (any, error) {
	client := c.Client()
	if client == nil {
		return nil, fmt.Errorf("cluster %d: no client: %w", c.id, bus.ErrTargetStopped)
	}
	switch topic {
	case clusterlink.TopicFetchGuild:
		return fetchGuild(client, req)
	case clusterlink.TopicFetchChannel:
		return fetchChannel(client, req)
	case clusterlink.TopicFetchUser:
		u, ok := findUser(client, req.ID)
		if !ok {
			return nil, &NotFoundError{Kind: "user", ID: req.ID}
		}
		return u, nil
	default: // clusterlink.TopicFetchUsers
		out := []discord.User{}
		for _, id := range req.IDs {
			if u, ok := findUser(client, id); ok {
				out = append(out, u)
			}
		}
		return out, nil
	}
}

func fetchGuild(client *bot.Client, req FetchRequest) (FetchedGuild, error) {
	caches := client.Caches
	g, ok := caches.Guild(req.ID)
	if !ok {
		return FetchedGuild{}, &NotFoundError{Kind: "guild", ID: req.ID}
	}
	fg := FetchedGuild{Guild: g, Channels: []discord.GuildChannel{}, Roles: []discord.Role{}}
	for ch := range caches.ChannelsForGuild(req.ID) {
		fg.Channels = append(fg.Channels, ch)
	}
	slices.SortFunc(fg.Channels, func(a, b discord.GuildChannel) int {
		return cmp.Or(cmp.Compare(a.Position(), b.Position()), cmp.Compare(a.ID(), b.ID()))
	})
	for r := range caches.Roles(req.ID) {
		fg.Roles = append(fg.Roles, r)
	}
	slices.SortFunc(fg.Roles, func(a, b discord.Role) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.ID, b.ID))
	})
	if req.Members {
		fg.Members = []discord.Member{}
		if len(req.MemberIDs) > 0 {
			for _, id := range req.MemberIDs {
				if m, ok := caches.Member(req.ID, id); ok {
					fg.Members = append(fg.Members, m)
				}
			}
		} else {
			for m := range caches.Members(req.ID) {
				fg.Members = append(fg.Members, m)
			}
		}
		slices.SortFunc(fg.Members, func(a, b discord.Member) int { return cmp.Compare(a.User.ID, b.User.ID) })
	}
	if req.MessageLimit > 0 {
		chans := req.MessageChannels
		if len(chans) == 0 {
			for _, ch := range fg.Channels {
				chans = append(chans, ch.ID())
			}
		}
		for _, id := range chans {
			if ch, ok := caches.Channel(id); !ok || ch.GuildID() != req.ID {
				continue // another guild's channel is not this guild's to give
			}
			if msgs := recentMessages(client, id, req.MessageLimit); len(msgs) > 0 {
				if fg.Messages == nil {
					fg.Messages = map[snowflake.ID][]discord.Message{}
				}
				fg.Messages[id] = msgs
			}
		}
	}
	return fg, nil
}

func fetchChannel(client *bot.Client, req FetchRequest) (FetchedChannel, error) {
	ch, ok := client.Caches.Channel(req.ID)
	if !ok {
		return FetchedChannel{}, &NotFoundError{Kind: "channel", ID: req.ID}
	}
	fc := FetchedChannel{Channel: ch}
	if req.MessageLimit > 0 && (len(req.MessageChannels) == 0 || slices.Contains(req.MessageChannels, req.ID)) {
		fc.Messages = recentMessages(client, req.ID, req.MessageLimit)
	}
	return fc, nil
}

// recentMessages returns up to limit cached messages of a channel, newest
// (highest ID) first.
func recentMessages(client *bot.Client, channelID snowflake.ID, limit int) []discord.Message {
	var msgs []discord.Message
	for m := range client.Caches.Messages(channelID) {
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b discord.Message) int { return cmp.Compare(b.ID, a.ID) })
	if len(msgs) > limit {
		msgs = slices.Clip(msgs[:limit])
	}
	return msgs
}

// findUser looks for a user in the client's cache: the bot itself, then
// the members of every cached guild. It costs one member lookup per
// cached guild.
func findUser(client *bot.Client, id snowflake.ID) (discord.User, bool) {
	if self, ok := client.Caches.SelfUser(); ok && self.ID == id {
		return self.User, true
	}
	for g := range client.Caches.Guilds() {
		if m, ok := client.Caches.Member(g.ID, id); ok {
			return m.User, true
		}
	}
	return discord.User{}, false
}
