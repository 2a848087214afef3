package cache

import (
	"context"
	"encoding/base64"
	"log/slog"
	"testing"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
)

// shardZero is the gateway the event manager asks for a shard ID; the
// handlers under test call nothing else on it.
type shardZero struct{ gateway.Gateway }

func (shardZero) ShardID() int { return 0 }

// noRateLimiter replaces disgo's REST rate limiter, whose cleanup goroutine
// never stops (rest.NewRateLimiter in v0.19.6). These tests make no REST
// call, so only Close is ever used.
type noRateLimiter struct{ rest.RateLimiter }

func (noRateLimiter) Close(context.Context) {}

// newTestClient builds a disgo client over caches, without a gateway.
func newTestClient(t *testing.T, caches disgocache.Caches) *bot.Client {
	t.Helper()
	token := base64.RawStdEncoding.EncodeToString([]byte("797000000000000000")) + ".fake.token"
	client, err := disgo.New(token, bot.WithCaches(caches), bot.WithLogger(slog.New(slog.DiscardHandler)),
		bot.WithRestClientConfigOpts(rest.WithRateLimiter(noRateLimiter{})))
	if err != nil {
		t.Fatalf("disgo.New: %v", err)
	}
	t.Cleanup(func() { client.Close(context.Background()) })
	return client
}

// TestSameAsDisgoThroughBotHandlers feeds the same gateway events through
// disgo's own event handlers (bot/handlers) into a client with disgo's
// default caches and one with ours, then compares the caches.
func TestSameAsDisgoThroughBotHandlers(t *testing.T) {
	t.Parallel()
	gs := guildsFor(t, 12, variedShape)
	want := newTestClient(t, disgocache.New(disgocache.WithCaches(disgocache.FlagsAll)))
	got := newTestClient(t, New(allFlags))
	seq := 0
	emit := func(typ gateway.EventType, ev gateway.EventData) {
		seq++
		want.EventManager.HandleGatewayEvent(shardZero{}, typ, seq, ev)
		got.EventManager.HandleGatewayEvent(shardZero{}, typ, seq, ev)
	}
	for _, g := range gs {
		emit(gateway.EventTypeGuildCreate, gateway.EventGuildCreate{GatewayGuild: g.GatewayGuild})
	}
	for gi, g := range gs[:8] {
		for mi, m := range g.Members {
			m.GuildID = g.ID
			switch mi % 4 {
			case 0:
				emit(gateway.EventTypeGuildMemberRemove, gateway.EventGuildMemberRemove{GuildID: g.ID, User: m.User})
			case 1:
				nick := "updated " + m.User.Username
				m.Nick = &nick
				emit(gateway.EventTypeGuildMemberUpdate, gateway.EventGuildMemberUpdate{Member: m})
			case 2:
				m.User.ID += 1 << 30 // a new member joins
				emit(gateway.EventTypeGuildMemberAdd, gateway.EventGuildMemberAdd{Member: m})
			}
		}
		role := g.Roles[1]
		role.Name = "renamed"
		emit(gateway.EventTypeGuildRoleUpdate, gateway.EventGuildRoleUpdate{GuildID: g.ID, Role: role})
		emit(gateway.EventTypeGuildRoleDelete, gateway.EventGuildRoleDelete{GuildID: g.ID, RoleID: g.Roles[2].ID})
		for ci, ch := range g.Channels {
			if ch.Type() == discord.ChannelTypeGuildText {
				gid := g.ID
				emit(gateway.EventTypeMessageCreate, gateway.EventMessageCreate{Message: discord.Message{
					ID: snowflake.ID(1<<50 | gi<<10 | ci), ChannelID: ch.ID(), GuildID: &gid,
				}})
			}
		}
	}
	for _, g := range gs[8:10] {
		emit(gateway.EventTypeGuildDelete, gateway.EventGuildDelete{UnavailableGuild: discord.UnavailableGuild{ID: g.ID}})
	}
	if got.Caches.MembersAllLen() == 0 || got.Caches.ChannelsLen() == 0 {
		t.Fatal("the handlers cached nothing")
	}
	assertSameCaches(t, want.Caches, got.Caches, guildIDsOf(gs))
	for _, g := range gs {
		w, wok := want.Caches.Guild(g.ID)
		c, cok := got.Caches.Guild(g.ID)
		if wok != cok || w.MemberCount != c.MemberCount {
			t.Errorf("guild %d: member count %d (%v), want %d (%v)", g.ID, c.MemberCount, cok, w.MemberCount, wok)
		}
	}
}
