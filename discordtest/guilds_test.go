package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
)

// TestGuildCreatePayloadsAreWhatTheServerSends reads every GUILD_CREATE a
// Server sends and compares its data, byte for byte, with the payload
// GuildCreatePayloads returns for the same shape.
func TestGuildCreatePayloadsAreWhatTheServerSends(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		shape GuildShape
	}{
		{"members channels roles", GuildShape{Members: 5, Channels: 7, Roles: 3}},
		{"no members", GuildShape{Channels: 2, Roles: 1}},
		{"empty", GuildShape{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const guilds = 6
			s := New(t, WithGuilds(guilds), WithShards(1), WithMembers(tt.shape.Members),
				WithChannels(tt.shape.Channels), WithRoles(tt.shape.Roles))
			want := GuildCreatePayloads(guilds, tt.shape)
			byID := map[string][]byte{}
			for g, p := range want {
				byID[makeID(guildBase, g).String()] = p
			}
			c := dial(t, s, gateway.CompressionNone)
			c.hello()
			c.identify(s.Token(), [2]int{0, 1}, 0)
			if f := c.mustNext(); f.event() != "READY" {
				t.Fatalf("got %q, want READY", f.event())
			}
			for range guilds {
				f := c.mustNext()
				if f.event() != "GUILD_CREATE" {
					t.Fatalf("got %q, want GUILD_CREATE", f.event())
				}
				var ge guildEvent
				if err := json.Unmarshal(f.D, &ge); err != nil {
					t.Fatal(err)
				}
				p, ok := byID[ge.ID.String()]
				if !ok {
					t.Fatalf("the server sent guild %v, not among the payloads", ge.ID)
				}
				if !bytes.Equal(f.D, p) {
					t.Fatalf("guild %v: the server sent\n%s\nthe payload is\n%s", ge.ID, f.D, p)
				}
				delete(byID, ge.ID.String())
			}
			if len(byID) != 0 {
				t.Fatalf("guilds never sent: %d", len(byID))
			}
		})
	}
}

// variety counts, over decoded guilds, the features that make a guild
// varied.
type variety struct {
	avatars, animated, nicks, boosters, bots, timeouts, banners, decorations,
	multiRole, roleIcons, roleTags, overwrites, news, stages, forums int
}

func countVariety(gs []gateway.EventGuildCreate) variety {
	var v variety
	for _, g := range gs {
		for _, m := range g.Members {
			if m.User.Avatar != nil {
				v.avatars++
				if len(*m.User.Avatar) > 2 && (*m.User.Avatar)[:2] == "a_" {
					v.animated++
				}
			}
			if m.Nick != nil {
				v.nicks++
			}
			if m.PremiumSince != nil {
				v.boosters++
			}
			if m.User.Bot {
				v.bots++
			}
			if m.CommunicationDisabledUntil != nil {
				v.timeouts++
			}
			if m.User.Banner != nil {
				v.banners++
			}
			if m.User.AvatarDecorationData != nil {
				v.decorations++
			}
			if len(m.RoleIDs) > 1 {
				v.multiRole++
			}
		}
		for _, r := range g.Roles {
			if r.Icon != nil {
				v.roleIcons++
			}
			if r.Tags != nil {
				v.roleTags++
			}
		}
		for _, ch := range g.Channels {
			if len(ch.PermissionOverwrites()) > 0 {
				v.overwrites++
			}
			switch ch.Type() {
			case discord.ChannelTypeGuildNews:
				v.news++
			case discord.ChannelTypeGuildStageVoice:
				v.stages++
			case discord.ChannelTypeGuildForum:
				v.forums++
			}
		}
	}
	return v
}

// TestGuildCreatePayloadsVaried decodes payloads with disgo's decoder and
// checks that Varied brings every kind of variety it promises, that the
// plain shape brings none, and that the output is deterministic.
func TestGuildCreatePayloadsVaried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		varied bool
	}{{false}, {true}}
	for _, tt := range tests {
		t.Run(fmt.Sprint("varied=", tt.varied), func(t *testing.T) {
			t.Parallel()
			shape := GuildShape{Members: 200, Channels: 40, Roles: 12, Varied: tt.varied}
			const n = 5
			payloads := GuildCreatePayloads(n, shape)
			again := GuildCreatePayloads(n, shape)
			gs := make([]gateway.EventGuildCreate, n)
			for i, p := range payloads {
				if !bytes.Equal(p, again[i]) {
					t.Fatalf("guild %d differs between two calls", i)
				}
				if err := json.Unmarshal(p, &gs[i]); err != nil {
					t.Fatalf("disgo cannot decode guild %d: %v", i, err)
				}
				if g := gs[i]; g.ID != makeID(guildBase, i) || len(g.Members) != 200 || len(g.Channels) != 40 || len(g.Roles) != 12 {
					t.Fatalf("guild %d: id %v, %d members, %d channels, %d roles", i, g.ID, len(g.Members), len(g.Channels), len(g.Roles))
				}
			}
			v := countVariety(gs)
			if !tt.varied {
				if v != (variety{}) {
					t.Fatalf("the plain shape has variety: %+v", v)
				}
				return
			}
			counts := map[string]int{
				"avatars": v.avatars, "animated": v.animated, "nicks": v.nicks, "boosters": v.boosters,
				"bots": v.bots, "timeouts": v.timeouts, "banners": v.banners, "decorations": v.decorations,
				"multiRole": v.multiRole, "roleIcons": v.roleIcons, "roleTags": v.roleTags,
				"overwrites": v.overwrites, "news": v.news, "stages": v.stages, "forums": v.forums,
			}
			for what, c := range counts {
				if c == 0 {
					t.Errorf("no %s among %d varied members: %+v", what, n*200, v)
				}
			}
			if v.avatars <= v.animated || v.avatars == n*200 {
				t.Errorf("avatars %d, animated %d: want most members with a still avatar, not all", v.avatars, v.animated)
			}
		})
	}
}

// ExampleGuildCreatePayloads decodes generated guilds with disgo's own
// decoder, as a cache benchmark would.
func ExampleGuildCreatePayloads() {
	payloads := GuildCreatePayloads(2, GuildShape{Members: 3, Channels: 4, Roles: 2})
	for _, p := range payloads {
		var g gateway.EventGuildCreate
		if err := json.Unmarshal(p, &g); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(g.Name, len(g.Members), "members", len(g.Channels), "channels", len(g.Roles), "roles")
	}
	// Output:
	// Guild 0 3 members 4 channels 2 roles
	// Guild 1 3 members 4 channels 2 roles
}
