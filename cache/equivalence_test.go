package cache

import (
	"reflect"
	"testing"
	"time"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/discordtest"
)

// TestSameAsDisgoAfterGuildCreate loads the same GUILD_CREATE events into
// disgo's default caches and ours and compares every read.
func TestSameAsDisgoAfterGuildCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		shape discordtest.GuildShape
	}{
		{"plain", plainShape},
		{"varied", variedShape},
		{"tiny", discordtest.GuildShape{Members: 1, Channels: 1, Roles: 1}},
		{"empty", discordtest.GuildShape{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gs := guildsFor(t, 12, tc.shape)
			want := disgocache.New(disgocache.WithCaches(disgocache.FlagsAll))
			got := New(allFlags)
			for _, g := range gs {
				AddGuildCreate(want, g)
				AddGuildCreate(got, g)
			}
			assertSameCaches(t, want, got, guildIDsOf(gs))
		})
	}
}

// TestSameAsDisgoAfterUpdates replays MEMBER_UPDATE, MEMBER_REMOVE,
// GUILD_ROLE_UPDATE, GUILD_ROLE_DELETE and GUILD_DELETE on both caches, in
// the order disgo's handlers call the caches.
func TestSameAsDisgoAfterUpdates(t *testing.T) {
	t.Parallel()
	gs := guildsFor(t, 12, variedShape)
	want := disgocache.New(disgocache.WithCaches(disgocache.FlagsAll))
	got := New(allFlags)
	both := func(f func(c disgocache.Caches)) { f(want); f(got) }
	for _, g := range gs {
		both(func(c disgocache.Caches) { AddGuildCreate(c, g) })
	}
	newRole := discord.Role{ID: 1<<40 | 7, GuildID: gs[0].ID, Name: "new", Color: 5, RoleColors: discord.RoleColors{PrimaryColor: 5}}
	both(func(c disgocache.Caches) { c.AddRole(newRole) })
	for gi, g := range gs[:6] {
		for mi, m := range g.Members {
			m.GuildID = g.ID
			switch mi % 5 {
			case 0: // MEMBER_REMOVE
				both(func(c disgocache.Caches) { c.RemoveMember(g.ID, m.User.ID) })
			case 1: // MEMBER_UPDATE: nick, roles, timeout
				nick := "renamed"
				until := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
				m.Nick, m.CommunicationDisabledUntil = &nick, &until
				m.RoleIDs = append([]snowflake.ID{newRole.ID}, m.RoleIDs...)
				if gi != 0 {
					m.RoleIDs = m.RoleIDs[1:]
				}
				both(func(c disgocache.Caches) { c.AddMember(m) })
			case 2: // MEMBER_UPDATE: avatar cleared, roles cleared
				m.User.Avatar, m.RoleIDs = nil, []snowflake.ID{}
				both(func(c disgocache.Caches) { c.AddMember(m) })
			}
		}
		if len(g.Roles) > 3 {
			r := g.Roles[2]
			r.GuildID, r.Name, r.Position = g.ID, "updated", 99
			both(func(c disgocache.Caches) { c.AddRole(r) })
			both(func(c disgocache.Caches) { c.RemoveRole(g.ID, g.Roles[3].ID) })
		}
	}
	for gi, g := range gs[:6] { // MESSAGE_CREATE, CHANNEL_UPDATE, CHANNEL_DELETE
		for ci, ch := range g.Channels {
			ch = discord.ApplyGuildIDToChannel(ch, g.ID)
			switch ci % 4 {
			case 0:
				if mc, ok := ch.(discord.GuildMessageChannel); ok {
					msgID := snowflake.ID(1<<45 | gi<<8 | ci)
					both(func(c disgocache.Caches) { c.AddChannel(discord.ApplyLastMessageIDToChannel(mc, msgID)) })
				}
			case 1:
				if mc, ok := ch.(discord.GuildMessageChannel); ok {
					pin := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
					both(func(c disgocache.Caches) { c.AddChannel(discord.ApplyLastPinTimestampToChannel(mc, &pin)) })
				}
			case 2:
				both(func(c disgocache.Caches) { c.RemoveChannel(ch.ID()) })
			}
		}
	}
	for _, g := range gs[6:8] { // GUILD_DELETE
		both(func(c disgocache.Caches) {
			c.RemoveMembersByGuildID(g.ID)
			c.RemoveRolesByGuildID(g.ID)
			c.RemoveChannelsByGuildID(g.ID)
		})
	}
	// A member joins a guild that had been deleted.
	m := gs[6].Members[0]
	m.GuildID = gs[6].ID
	both(func(c disgocache.Caches) { c.AddMember(m) })
	assertSameCaches(t, want, got, append(guildIDsOf(gs), 12345))

	// RemoveIf and GroupRemoveIf, on members and roles.
	odd := func(_ snowflake.ID, m discord.Member) bool { return m.User.ID%2 == 1 }
	both(func(c disgocache.Caches) { c.MemberCache().RemoveIf(odd) })
	hasNick := func(_ snowflake.ID, m discord.Member) bool { return m.Nick != nil }
	both(func(c disgocache.Caches) { c.MemberCache().GroupRemoveIf(gs[0].ID, hasNick) })
	hoisted := func(_ snowflake.ID, r discord.Role) bool { return r.Hoist }
	both(func(c disgocache.Caches) { c.RoleCache().RemoveIf(hoisted) })
	managed := func(_ snowflake.ID, r discord.Role) bool { return r.Managed }
	both(func(c disgocache.Caches) { c.RoleCache().GroupRemoveIf(gs[1].ID, managed) })
	voice := func(ch discord.GuildChannel) bool { return ch.Type() == discord.ChannelTypeGuildVoice }
	both(func(c disgocache.Caches) { c.ChannelCache().RemoveIf(voice) })
	assertSameCaches(t, want, got, guildIDsOf(gs))
}

// TestMemberRoundTripEdgeCases stores members whose fields take the
// uncommon paths of the encoding and checks they come back equal.
func TestMemberRoundTripEdgeCases(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	at := func(tm time.Time) *time.Time { return &tm }
	accent := 0xabcdef
	gid := snowflake.ID(1 << 50)
	base := func() discord.Member {
		return discord.Member{GuildID: gid, User: discord.User{ID: 42, Username: "u", Discriminator: "0"}}
	}
	cases := map[string]func(m *discord.Member){
		"zero user":            func(m *discord.Member) { m.User = discord.User{ID: 42} },
		"nil roles":            func(m *discord.Member) { m.RoleIDs = nil },
		"empty roles":          func(m *discord.Member) { m.RoleIDs = []snowflake.ID{} },
		"many roles":           func(m *discord.Member) { m.RoleIDs = []snowflake.ID{9, 8, 7, 6, 5, 4, 3, 2, 1, 9} },
		"legacy discriminator": func(m *discord.Member) { m.User.Discriminator = "0420" },
		"empty strings": func(m *discord.Member) {
			m.User.GlobalName, m.Nick, m.User.Avatar, m.Avatar = s(""), s(""), s(""), s("")
		},
		"unicode names":        func(m *discord.Member) { m.User.Username, m.Nick = "ユーザー", s("🐱 cat") },
		"hex avatar":           func(m *discord.Member) { m.User.Avatar = s("0123456789abcdef0123456789abcdef") },
		"animated avatar":      func(m *discord.Member) { m.User.Avatar = s("a_fedcba9876543210fedcba9876543210") },
		"uppercase hex avatar": func(m *discord.Member) { m.User.Avatar = s("0123456789ABCDEF0123456789abcdef") },
		"short avatar":         func(m *discord.Member) { m.Avatar = s("abc") },
		"a_ prefix not hex":    func(m *discord.Member) { m.Avatar = s("a_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz") },
		"both avatars": func(m *discord.Member) {
			m.User.Avatar, m.Avatar = s("a_0123456789abcdef0123456789abcdef"), s("00000000000000000000000000000000")
		},
		"joined with nanoseconds": func(m *discord.Member) { m.JoinedAt = at(time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)) },
		"joined far future":       func(m *discord.Member) { m.JoinedAt = at(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) },
		"joined zero time":        func(m *discord.Member) { m.JoinedAt = at(time.Time{}) },
		"booster and timeout": func(m *discord.Member) {
			m.PremiumSince, m.CommunicationDisabledUntil = at(time.Unix(1e9, 0).UTC()), at(time.Unix(2e9, 0).UTC())
		},
		"bools": func(m *discord.Member) {
			m.User.Bot, m.User.System, m.Deaf, m.Mute, m.Pending = true, true, true, true, true
		},
		"wide flags":    func(m *discord.Member) { m.User.PublicFlags, m.Flags = 1<<40, -1<<35 },
		"negative flag": func(m *discord.Member) { m.Flags = -1 },
		"guild id differs from group": func(m *discord.Member) {
			m.GuildID = 7
		},
		"rare user fields": func(m *discord.Member) {
			m.User.Banner, m.User.AccentColor = s("banner"), &accent
			m.User.AvatarDecorationData = &discord.AvatarDecorationData{Asset: "x", SkuID: 3}
			m.User.Collectibles = &discord.Collectibles{Nameplate: &discord.Nameplate{Label: "n"}}
			m.User.PrimaryGuild = &discord.PrimaryGuild{Tag: s("TAG")}
		},
		"rare member fields": func(m *discord.Member) {
			m.Banner = s("mb")
			m.AvatarDecorationData = &discord.AvatarDecorationData{Asset: "y"}
			m.Collectibles = &discord.Collectibles{}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := base()
			edit(&m)
			c := NewMemberCache().MemberCache()
			c.Put(gid, m.User.ID, m)
			got, ok := c.Get(gid, m.User.ID)
			if !ok || !reflect.DeepEqual(normMember(got), normMember(m)) {
				t.Fatalf("Get = %+v, %v; want %+v", got, ok, m)
			}
			removed, ok := c.Remove(gid, m.User.ID)
			if !ok || !reflect.DeepEqual(normMember(removed), normMember(m)) {
				t.Fatalf("Remove = %+v, %v; want %+v", removed, ok, m)
			}
			if c.Len() != 0 || c.GroupLen(gid) != 0 {
				t.Fatalf("after Remove: Len %d, GroupLen %d", c.Len(), c.GroupLen(gid))
			}
		})
	}
}

// TestMemberKeyDiffersFromUserID covers GroupedCache.Put with a key that is
// not the member's own user ID: reads by the key return the member as given.
func TestMemberKeyDiffersFromUserID(t *testing.T) {
	t.Parallel()
	c := NewMemberCache().MemberCache()
	m := discord.Member{GuildID: 1, User: discord.User{ID: 2, Username: "x", Discriminator: "0"}}
	c.Put(1, 3, m)
	if got, ok := c.Get(1, 3); !ok || !reflect.DeepEqual(got, m) {
		t.Fatalf("Get(1, 3) = %+v, %v; want %+v", got, ok, m)
	}
	if _, ok := c.Get(1, 2); ok {
		t.Fatal("Get(1, 2) found a member stored under key 3")
	}
}

// TestRoleRoundTripEdgeCases stores roles that take the uncommon paths.
func TestRoleRoundTripEdgeCases(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	i := func(v int) *int { return &v }
	bot := snowflake.ID(77)
	gid := snowflake.ID(1 << 50)
	cases := map[string]discord.Role{
		"zero":              {ID: 1, GuildID: gid},
		"colors primary":    {ID: 1, GuildID: gid, Color: 9, RoleColors: discord.RoleColors{PrimaryColor: 9}},
		"colors other":      {ID: 1, GuildID: gid, Color: 9, RoleColors: discord.RoleColors{PrimaryColor: 8, SecondaryColor: i(1), TertiaryColor: i(2)}},
		"colors only":       {ID: 1, GuildID: gid, RoleColors: discord.RoleColors{PrimaryColor: 8}},
		"wide ints":         {ID: 1, GuildID: gid, Color: 1 << 40, Position: -1 << 40, Flags: 1 << 33, RoleColors: discord.RoleColors{PrimaryColor: 1 << 40}},
		"pointers":          {ID: 1, GuildID: gid, Description: s("d"), Icon: s("i"), Emoji: s("e"), Tags: &discord.RoleTag{BotID: &bot, PremiumSubscriber: true}},
		"bools":             {ID: 1, GuildID: gid, Hoist: true, Managed: true, Mentionable: true, Permissions: discord.PermissionsAll},
		"guild id differs":  {ID: 1, GuildID: 5},
		"name and position": {ID: 1, GuildID: gid, Name: "@everyone", Position: 3},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := NewRoleCache().RoleCache()
			c.Put(gid, r.ID, r)
			if got, ok := c.Get(gid, r.ID); !ok || !reflect.DeepEqual(got, r) {
				t.Fatalf("Get = %+v, %v; want %+v", got, ok, r)
			}
			c.Put(gid, 99, r) // a key other than the role's ID
			if got, ok := c.Get(gid, 99); !ok || !reflect.DeepEqual(got, r) {
				t.Fatalf("Get(key 99) = %+v, %v; want %+v", got, ok, r)
			}
			if got, ok := c.Remove(gid, r.ID); !ok || !reflect.DeepEqual(got, r) {
				t.Fatalf("Remove = %+v, %v; want %+v", got, ok, r)
			}
			if c.Len() != 1 || c.GroupLen(gid) != 1 {
				t.Fatalf("after Remove: Len %d, GroupLen %d; want 1, 1", c.Len(), c.GroupLen(gid))
			}
		})
	}
}

// TestChannelCacheIndex covers the guild index on the paths GUILD_CREATE
// does not take: a key other than the channel's ID, a channel that moves to
// another guild, removal, and nil.
func TestChannelCacheIndex(t *testing.T) {
	t.Parallel()
	gs := guildsFor(t, 2, discordtest.GuildShape{Channels: 6})
	ch := func(g, i int) discord.GuildChannel { return discord.ApplyGuildIDToChannel(gs[g].Channels[i], gs[g].ID) }
	ids := func(seq func(func(discord.GuildChannel) bool)) []snowflake.ID {
		var out []snowflake.ID
		for c := range seq {
			out = append(out, c.ID())
		}
		return out
	}
	c := NewChannelCache().(*channelCache)
	for i := range 6 {
		c.AddChannel(ch(0, i))
	}
	c.Put(99, ch(0, 1)) // another key for an existing channel
	if got := len(ids(c.ChannelsForGuild(gs[0].ID))); got != 7 || c.Len() != 7 {
		t.Fatalf("guild 0 has %d channels, Len %d; want 7, 7", got, c.Len())
	}
	moved := ch(1, 0)
	c.Put(ch(0, 2).ID(), moved) // the key of a guild 0 channel now holds a guild 1 channel
	if got := len(ids(c.ChannelsForGuild(gs[0].ID))); got != 6 {
		t.Fatalf("guild 0 has %d channels after the move, want 6", got)
	}
	if got := ids(c.ChannelsForGuild(gs[1].ID)); !reflect.DeepEqual(got, []snowflake.ID{moved.ID()}) {
		t.Fatalf("guild 1 channels = %v, want [%d]", got, moved.ID())
	}
	if _, ok := c.Remove(99); !ok || c.Len() != 6 {
		t.Fatalf("Remove(99): ok %v, Len %d; want true, 6", ok, c.Len())
	}
	c.Put(5, nil)
	if _, ok := c.Get(5); ok {
		t.Fatal("a nil channel was stored")
	}
	c.RemoveChannelsByGuildID(gs[0].ID)
	if got := ids(c.Channels()); !reflect.DeepEqual(got, []snowflake.ID{moved.ID()}) {
		t.Fatalf("after removing guild 0: %v, want [%d]", got, moved.ID())
	}
	if _, ok := c.RemoveChannel(ch(0, 2).ID()); !ok {
		t.Fatal("RemoveChannel of the moved channel's key failed")
	}
	if c.Len() != 0 || len(ids(c.ChannelsForGuild(gs[1].ID))) != 0 {
		t.Fatalf("not empty: Len %d", c.Len())
	}
}
