package discordtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/disgoorg/snowflake/v2"
)

// GuildShape describes generated guilds: the ones a Server sends in
// GUILD_CREATE (from WithMembers, WithChannels and WithRoles) and the ones
// [GuildCreatePayloads] returns. The zero value is a guild with no members,
// channels or roles. A GuildShape is a plain comparable value.
//
// Guild g has the snowflake from the same scheme as the Server's
// (GuildIDs): one category first when there are 3 or more channels, every
// fourth channel voice, the rest text; role 0 is @everyone (with the
// guild's ID); member m has one role (1 + m % (Roles-1)) when Roles > 1.
type GuildShape struct {
	// Members, Channels and Roles are the counts per guild. Roles includes
	// @everyone.
	Members, Channels, Roles int
	// Varied adds the variety of real guilds on top of the plain shape:
	// avatars (some animated), global names, nicknames, boosters,
	// timeouts, bots with legacy discriminators, up to four roles per
	// member, role icons and bot tags, permission overwrites, news, stage
	// and forum channels, and now and then the rare fields (banners, accent
	// colours, avatar decorations, collectibles, primary guilds). The
	// choices are a fixed function of the IDs, so the output is
	// deterministic.
	Varied bool
}

// GuildCreatePayloads returns the JSON "d" objects of the GUILD_CREATE
// events of guilds 0 to n-1 of shape, in order. Without Varied, payload g
// is byte for byte what a Server started with WithGuilds(n) and shape's
// counts sends for guild g (the owner of a guild without members is the
// Server's default application). Decode a payload into disgo's
// gateway.EventGuildCreate to get exactly what a bot receives.
//
// Each call encodes afresh and the caller owns the slices. Cost: about
// 0.3 ms of CPU per guild of 100 members.
func GuildCreatePayloads(n int, shape GuildShape) [][]byte {
	gen := guildGen{shape: shape, appID: defaultApplicationID}
	out := make([][]byte, n)
	for g := range n {
		out[g] = gen.encode(gen.guild(g))
	}
	return out
}

// guildGen builds the guilds of one shape. appID owns a guild without
// members.
type guildGen struct {
	shape GuildShape
	appID snowflake.ID
}

func (gen guildGen) guildID(g int) snowflake.ID { return makeID(guildBase, g) }

func (gen guildGen) channelID(g, c int) snowflake.ID {
	return makeID(channelBase, g*gen.shape.Channels+c)
}

func (gen guildGen) roleID(g, r int) snowflake.ID {
	if r == 0 {
		return gen.guildID(g) // @everyone has the guild's ID
	}
	return makeID(roleBase, g*gen.shape.Roles+r)
}

func (gen guildGen) userIndex(g, m int) int { return g*gen.shape.Members + m }

func (gen guildGen) userID(idx int) snowflake.ID { return makeID(userBase, idx) }

// channelType is 4 (category) for channel 0 and 2 (voice) for every fourth
// channel when a guild has 3 or more, else 0 (text). Varied guilds also
// have news (5), stage (13) and forum (15) channels.
func (gen guildGen) channelType(c int) int {
	if gen.shape.Channels < 3 {
		return 0
	}
	varied := gen.shape.Varied
	switch {
	case c == 0:
		return 4
	case c%4 == 3:
		return 2
	case varied && c%10 == 5:
		return 5
	case varied && c%17 == 7:
		return 13
	case varied && c%19 == 9:
		return 15
	}
	return 0
}

// encode marshals a generated guild; the shapes are static, so it cannot
// fail.
func (gen guildGen) encode(jg jsonGuild) []byte {
	b, err := json.Marshal(jg)
	if err != nil {
		panic("discordtest: encoding guild: " + err.Error())
	}
	return b
}

func strp(s string) *string { return &s }

// assetHash returns a 32-hex-digit asset hash derived from k, animated
// ("a_" prefix) when anim is set.
func assetHash(k uint64, anim bool) *string {
	x := k*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	y := x ^ (x >> 29) ^ k*0xbf58476d1ce4e5b9
	h := fmt.Sprintf("%016x%016x", x, y)
	if anim {
		h = "a_" + h
	}
	return &h
}

// timestamp formats t the way Discord does (microseconds, +00:00).
func timestamp(t time.Time) *string {
	s := t.Format("2006-01-02T15:04:05.000000+00:00")
	return &s
}

func (gen guildGen) user(idx int) jsonUser {
	return jsonUser{
		ID:            gen.userID(idx),
		Username:      "user" + strconv.Itoa(idx),
		Discriminator: "0",
		GlobalName:    strp("User " + strconv.Itoa(idx)),
	}
}

func (gen guildGen) guild(g int) jsonGuild {
	shape := gen.shape
	id := gen.guildID(g)
	owner := gen.appID
	if shape.Members > 0 {
		owner = gen.userID(gen.userIndex(g, 0))
	}
	jg := jsonGuild{
		ID:                   id,
		Name:                 "Guild " + strconv.Itoa(g),
		OwnerID:              owner,
		AfkTimeout:           300,
		Emojis:               []struct{}{},
		Stickers:             []struct{}{},
		Features:             []string{},
		PreferredLocale:      "en-US",
		MaxMembers:           500000,
		JoinedAt:             worldJoined,
		MemberCount:          shape.Members,
		VoiceStates:          []struct{}{},
		Members:              make([]jsonMember, 0, shape.Members),
		Threads:              []struct{}{},
		Presences:            []struct{}{},
		StageInstances:       []struct{}{},
		GuildScheduledEvents: []struct{}{},
		SoundboardSounds:     []struct{}{},
	}
	if shape.Varied {
		jg.Icon = assetHash(uint64(id), false)
		jg.Features = []string{"COMMUNITY", "NEWS", "ANIMATED_ICON"}
		jg.VerificationLevel, jg.DefaultMessageNotifications = 1, 1
	}
	jg.Roles = gen.roles(g)
	jg.Channels = gen.channels(g, &jg.SystemChannelID)
	for m := range shape.Members {
		jg.Members = append(jg.Members, gen.member(g, m))
	}
	return jg
}

func (gen guildGen) roles(g int) []jsonRole {
	shape := gen.shape
	roles := make([]jsonRole, 0, shape.Roles)
	for r := range shape.Roles {
		role := jsonRole{ID: gen.roleID(g, r), Name: "role-" + strconv.Itoa(r), Position: r, Permissions: "1071698660929"}
		if r == 0 {
			role.Name, role.Permissions = "@everyone", "559623605571137"
		} else {
			role.Color = 0x3498db * r & 0xffffff
			role.Mentionable = r%2 == 0
		}
		if shape.Varied && r > 0 {
			role.Colors = json.RawMessage(`{"primary_color":` + strconv.Itoa(role.Color) + `,"secondary_color":null,"tertiary_color":null}`)
			role.Hoist = r%3 == 0
			switch r % 7 {
			case 1:
				role.Icon = assetHash(uint64(role.ID), false)
			case 2:
				role.UnicodeEmoji = strp("🎮")
			case 3:
				role.Managed = true
				role.Tags = json.RawMessage(`{"bot_id":"` + gen.userID(900_000+r).String() + `"}`)
			case 4:
				role.Tags = json.RawMessage(`{"premium_subscriber":null}`)
			}
		}
		roles = append(roles, role)
	}
	return roles
}

func (gen guildGen) channels(g int, system **snowflake.ID) []jsonChannel {
	shape := gen.shape
	id := gen.guildID(g)
	chans := make([]jsonChannel, 0, shape.Channels)
	var category *snowflake.ID
	for c := range shape.Channels {
		cid := gen.channelID(g, c)
		ch := jsonChannel{ID: cid, Type: gen.channelType(c), GuildID: &id, Position: c,
			PermissionOverwrites: []jsonOverwrite{}, Name: "channel-" + strconv.Itoa(c)}
		if shape.Varied && c%3 == 1 {
			ch.PermissionOverwrites = []jsonOverwrite{{ID: id, Type: 0, Allow: "0", Deny: "1024"}}
			if shape.Roles > 1 {
				ch.PermissionOverwrites = append(ch.PermissionOverwrites,
					jsonOverwrite{ID: gen.roleID(g, 1+c%(shape.Roles-1)), Allow: "3072", Deny: "0"})
			}
		}
		switch ch.Type {
		case 4:
			ch.Name = "category-" + strconv.Itoa(c)
			category = &cid
		case 2, 13:
			ch.Bitrate = 64000
			ch.ParentID = category
			if shape.Varied {
				ch.RTCRegion = strp("rotterdam")
			}
		default:
			ch.Topic = strp("Topic of channel " + strconv.Itoa(c))
			ch.ParentID = category
			if shape.Varied {
				last := makeID(channelBase+5_000_000, g*shape.Channels+c)
				ch.LastMessageID = &last
				ch.RateLimitPerUser = c % 3 * 5
			}
			if *system == nil {
				*system = &cid
			}
		}
		chans = append(chans, ch)
	}
	return chans
}

func (gen guildGen) member(g, m int) jsonMember {
	shape := gen.shape
	idx := gen.userIndex(g, m)
	uid := gen.userID(idx)
	mem := jsonMember{User: gen.user(idx), Roles: []snowflake.ID{}, JoinedAt: worldJoined.Format(time.RFC3339Nano)}
	if shape.Roles > 1 {
		mem.Roles = append(mem.Roles, gen.roleID(g, 1+m%(shape.Roles-1)))
	}
	if !shape.Varied {
		return mem
	}
	h := uint64(uid) * 0x9e3779b97f4a7c15
	pct := func(salt uint64) uint64 { return (h ^ salt*0xff51afd7ed558ccd) % 100 }
	mem.JoinedAt = *timestamp(worldJoined.Add(time.Duration(idx%100_000) * 7919 * time.Second).Add(time.Duration(idx%1000) * time.Millisecond))
	if pct(1) < 75 {
		mem.User.Avatar = assetHash(uint64(uid), pct(2) < 10)
	}
	if pct(3) < 20 {
		mem.User.GlobalName = nil
	}
	if pct(4) < 15 {
		mem.Nick = strp("nick of " + strconv.Itoa(idx))
	}
	if pct(5) < 3 {
		mem.Avatar = assetHash(uint64(uid)+1, false)
	}
	if pct(6) < 4 {
		mem.PremiumSince = timestamp(worldJoined.Add(time.Duration(idx) * time.Hour))
	}
	if pct(7) < 2 {
		mem.User.Bot, mem.User.Discriminator, mem.User.PublicFlags = true, strconv.Itoa(1000+idx%9000), 1<<16
	}
	if pct(8) < 10 {
		mem.User.PublicFlags |= 1 << 22
	}
	if pct(9) < 1 {
		mem.Pending = true
	}
	if pct(10) < 1 {
		mem.CommunicationDisabledUntil = timestamp(worldJoined.AddDate(3, 0, 0))
	}
	if pct(11) < 2 {
		mem.Deaf, mem.Mute = true, pct(12) < 50
	}
	if pct(13) < 5 {
		mem.Flags = 1 << 1
	}
	for k := 1; k < 4 && shape.Roles > 2; k++ {
		if pct(uint64(20+k)) < 30 {
			mem.Roles = append(mem.Roles, gen.roleID(g, 1+(m*7+k*3)%(shape.Roles-1)))
		}
	}
	if pct(14) < 1 {
		mem.User.Banner = assetHash(uint64(uid)+2, true)
		accent := 0x123456
		mem.User.AccentColor = &accent
		mem.Banner = assetHash(uint64(uid)+3, false)
	}
	if pct(15) < 1 {
		mem.User.AvatarDecorationData = json.RawMessage(`{"asset":"a_0123456789abcdef0123456789abcdef","sku_id":"1144058522808614923"}`)
		mem.AvatarDecorationData = mem.User.AvatarDecorationData
		mem.User.Collectibles = json.RawMessage(`{"nameplate":{"sku_id":"1349486948942745691","asset":"nameplates/nameplates_v3/bonsai/","label":"","palette":"crimson"}}`)
		mem.User.PrimaryGuild = json.RawMessage(`{"identity_guild_id":"` + gen.guildID(g).String() + `","identity_enabled":true,"tag":"MEG","badge":"0123456789abcdef0123456789abcdef"}`)
	}
	return mem
}
