package cache

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// GuildShape describes the synthetic guilds that [SyntheticGuilds] builds.
// The zero value is a guild with no members, channels or roles.
type GuildShape struct {
	// Members, Channels and Roles are the counts per guild. Roles includes
	// @everyone, whose ID is the guild's ID.
	Members, Channels, Roles int
	// Varied adds the variety of real guilds on top of discordtest's plain
	// shape: avatars (some animated), global names, nicknames, boosters,
	// timeouts, bots with legacy discriminators, up to four roles per
	// member, role icons and bot tags, permission overwrites, news, stage
	// and forum channels, and now and then the rare fields (banners, accent
	// colours, avatar decorations, collectibles, primary guilds).
	Varied bool
}

// Snowflake timestamp bases, the same scheme as discordtest's world, so that
// plain synthetic guilds have discordtest's IDs.
const (
	synGuildBase   = 200_000_000_000
	synChannelBase = 210_000_000_000
	synRoleBase    = 220_000_000_000
	synUserBase    = 230_000_000_000
)

func synID(base, n int) snowflake.ID {
	return snowflake.ID(uint64(base+n)<<22 | uint64(n&0xfff))
}

// synJoined is discordtest's joined_at.
var synJoined = time.Date(2023, 3, 14, 15, 9, 26, 0, time.UTC)

type synUser struct {
	ID                   snowflake.ID    `json:"id"`
	Username             string          `json:"username"`
	Discriminator        string          `json:"discriminator"`
	GlobalName           *string         `json:"global_name"`
	Avatar               *string         `json:"avatar"`
	Banner               *string         `json:"banner,omitempty"`
	AccentColor          *int            `json:"accent_color,omitempty"`
	Bot                  bool            `json:"bot"`
	PublicFlags          int             `json:"public_flags"`
	AvatarDecorationData json.RawMessage `json:"avatar_decoration_data,omitempty"`
	Collectibles         json.RawMessage `json:"collectibles,omitempty"`
	PrimaryGuild         json.RawMessage `json:"primary_guild,omitempty"`
}

type synMember struct {
	User                       synUser         `json:"user"`
	Nick                       *string         `json:"nick"`
	Avatar                     *string         `json:"avatar"`
	Banner                     *string         `json:"banner,omitempty"`
	Roles                      []snowflake.ID  `json:"roles"`
	JoinedAt                   string          `json:"joined_at"`
	PremiumSince               *string         `json:"premium_since"`
	Deaf                       bool            `json:"deaf"`
	Mute                       bool            `json:"mute"`
	Flags                      int             `json:"flags"`
	Pending                    bool            `json:"pending"`
	CommunicationDisabledUntil *string         `json:"communication_disabled_until"`
	AvatarDecorationData       json.RawMessage `json:"avatar_decoration_data,omitempty"`
}

type synOverwrite struct {
	ID    snowflake.ID `json:"id"`
	Type  int          `json:"type"`
	Allow string       `json:"allow"`
	Deny  string       `json:"deny"`
}

type synChannel struct {
	ID                   snowflake.ID   `json:"id"`
	Type                 int            `json:"type"`
	Position             int            `json:"position"`
	PermissionOverwrites []synOverwrite `json:"permission_overwrites"`
	Name                 string         `json:"name"`
	Topic                *string        `json:"topic,omitempty"`
	NSFW                 bool           `json:"nsfw"`
	LastMessageID        *snowflake.ID  `json:"last_message_id"`
	RateLimitPerUser     int            `json:"rate_limit_per_user"`
	ParentID             *snowflake.ID  `json:"parent_id,omitempty"`
	Bitrate              int            `json:"bitrate,omitempty"`
	UserLimit            int            `json:"user_limit,omitempty"`
	RTCRegion            *string        `json:"rtc_region,omitempty"`
	Flags                int            `json:"flags"`
}

type synRole struct {
	ID           snowflake.ID    `json:"id"`
	Name         string          `json:"name"`
	Color        int             `json:"color"`
	Colors       json.RawMessage `json:"colors,omitempty"`
	Hoist        bool            `json:"hoist"`
	Icon         *string         `json:"icon"`
	UnicodeEmoji *string         `json:"unicode_emoji"`
	Position     int             `json:"position"`
	Permissions  string          `json:"permissions"`
	Managed      bool            `json:"managed"`
	Mentionable  bool            `json:"mentionable"`
	Tags         json.RawMessage `json:"tags,omitempty"`
	Flags        int             `json:"flags"`
}

type synGuild struct {
	ID                          snowflake.ID  `json:"id"`
	Name                        string        `json:"name"`
	Icon                        *string       `json:"icon"`
	OwnerID                     snowflake.ID  `json:"owner_id"`
	AfkTimeout                  int           `json:"afk_timeout"`
	VerificationLevel           int           `json:"verification_level"`
	DefaultMessageNotifications int           `json:"default_message_notifications"`
	Roles                       []synRole     `json:"roles"`
	Emojis                      []struct{}    `json:"emojis"`
	Stickers                    []struct{}    `json:"stickers"`
	Features                    []string      `json:"features"`
	SystemChannelID             *snowflake.ID `json:"system_channel_id"`
	MaxMembers                  int           `json:"max_members"`
	PreferredLocale             string        `json:"preferred_locale"`
	JoinedAt                    time.Time     `json:"joined_at"`
	Large                       bool          `json:"large"`
	MemberCount                 int           `json:"member_count"`
	VoiceStates                 []struct{}    `json:"voice_states"`
	Members                     []synMember   `json:"members"`
	Channels                    []synChannel  `json:"channels"`
	Threads                     []struct{}    `json:"threads"`
	Presences                   []struct{}    `json:"presences"`
	StageInstances              []struct{}    `json:"stage_instances"`
	GuildScheduledEvents        []struct{}    `json:"guild_scheduled_events"`
	SoundboardSounds            []struct{}    `json:"soundboard_sounds"`
}

// SyntheticGuilds returns n GUILD_CREATE events, built as Discord-shaped JSON
// and decoded by disgo's own decoder, so the values are exactly what a bot
// receives. Without Varied, guild g has discordtest's shape and IDs (see
// discordtest/world.go): one category, every fourth channel voice, one role
// per member. The output is deterministic. Cost: about 1 ms of CPU per guild
// of 100 members.
func SyntheticGuilds(n int, shape GuildShape) ([]gateway.EventGuildCreate, error) {
	out := make([]gateway.EventGuildCreate, n)
	for g := range n {
		body, err := json.Marshal(synthGuild(g, shape))
		if err != nil {
			return nil, fmt.Errorf("cache: encoding synthetic guild %d: %w", g, err)
		}
		if err := json.Unmarshal(body, &out[g]); err != nil {
			return nil, fmt.Errorf("cache: decoding synthetic guild %d: %w", g, err)
		}
	}
	return out, nil
}

func strPtr(s string) *string { return &s }

// synHash returns a 32-hex-digit asset hash derived from k, animated
// ("a_" prefix) when anim is set.
func synHash(k uint64, anim bool) *string {
	x := k*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	y := x ^ (x >> 29) ^ k*0xbf58476d1ce4e5b9
	h := fmt.Sprintf("%016x%016x", x, y)
	if anim {
		h = "a_" + h
	}
	return &h
}

func synTime(t time.Time) *string {
	s := t.Format("2006-01-02T15:04:05.000000+00:00")
	return &s
}

func synthGuild(g int, shape GuildShape) synGuild {
	id := synID(synGuildBase, g)
	sg := synGuild{
		ID: id, Name: "Guild " + strconv.Itoa(g), AfkTimeout: 300,
		Roles: make([]synRole, 0, shape.Roles), Emojis: []struct{}{}, Stickers: []struct{}{},
		Features: []string{}, PreferredLocale: "en-US", MaxMembers: 500000,
		JoinedAt: synJoined, MemberCount: shape.Members, VoiceStates: []struct{}{},
		Members: make([]synMember, 0, shape.Members), Channels: make([]synChannel, 0, shape.Channels),
		Threads: []struct{}{}, Presences: []struct{}{}, StageInstances: []struct{}{},
		GuildScheduledEvents: []struct{}{}, SoundboardSounds: []struct{}{},
	}
	sg.OwnerID = id
	if shape.Members > 0 {
		sg.OwnerID = synID(synUserBase, g*shape.Members)
	}
	if shape.Varied {
		sg.Icon = synHash(uint64(id), false)
		sg.Features = []string{"COMMUNITY", "NEWS", "ANIMATED_ICON"}
		sg.VerificationLevel, sg.DefaultMessageNotifications = 1, 1
	}
	sg.Roles = synthRoles(g, id, shape)
	sg.Channels = synthChannels(g, id, shape, &sg.SystemChannelID)
	for m := range shape.Members {
		sg.Members = append(sg.Members, synthMember(g, m, id, shape))
	}
	return sg
}

func synRoleID(g int, id snowflake.ID, shape GuildShape, r int) snowflake.ID {
	if r == 0 {
		return id
	}
	return synID(synRoleBase, g*shape.Roles+r)
}

func synthRoles(g int, id snowflake.ID, shape GuildShape) []synRole {
	roles := make([]synRole, 0, shape.Roles)
	for r := range shape.Roles {
		role := synRole{ID: synRoleID(g, id, shape, r), Name: "role-" + strconv.Itoa(r), Position: r, Permissions: "1071698660929"}
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
				role.Icon = synHash(uint64(role.ID), false)
			case 2:
				role.UnicodeEmoji = strPtr("🎮")
			case 3:
				role.Managed = true
				role.Tags = json.RawMessage(`{"bot_id":"` + synID(synUserBase, 900_000+r).String() + `"}`)
			case 4:
				role.Tags = json.RawMessage(`{"premium_subscriber":null}`)
			}
		}
		roles = append(roles, role)
	}
	return roles
}

func synChannelType(c, n int, varied bool) int {
	if n < 3 {
		return 0
	}
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

func synthChannels(g int, id snowflake.ID, shape GuildShape, system **snowflake.ID) []synChannel {
	chans := make([]synChannel, 0, shape.Channels)
	var category *snowflake.ID
	for c := range shape.Channels {
		cid := synID(synChannelBase, g*shape.Channels+c)
		ch := synChannel{ID: cid, Type: synChannelType(c, shape.Channels, shape.Varied), Position: c,
			PermissionOverwrites: []synOverwrite{}, Name: "channel-" + strconv.Itoa(c)}
		if shape.Varied && c%3 == 1 {
			ch.PermissionOverwrites = []synOverwrite{{ID: id, Type: 0, Allow: "0", Deny: "1024"}}
			if shape.Roles > 1 {
				ch.PermissionOverwrites = append(ch.PermissionOverwrites, synOverwrite{ID: synRoleID(g, id, shape, 1+c%(shape.Roles-1)), Allow: "3072", Deny: "0"})
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
				ch.RTCRegion = strPtr("rotterdam")
			}
		default:
			ch.Topic = strPtr("Topic of channel " + strconv.Itoa(c))
			ch.ParentID = category
			if shape.Varied {
				last := synID(synChannelBase+5_000_000, g*shape.Channels+c)
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

func synthMember(g, m int, id snowflake.ID, shape GuildShape) synMember {
	idx := g*shape.Members + m
	uid := synID(synUserBase, idx)
	mem := synMember{
		User: synUser{ID: uid, Username: "user" + strconv.Itoa(idx), Discriminator: "0",
			GlobalName: strPtr("User " + strconv.Itoa(idx))},
		Roles: []snowflake.ID{}, JoinedAt: synJoined.Format(time.RFC3339),
	}
	if shape.Roles > 1 {
		mem.Roles = append(mem.Roles, synRoleID(g, id, shape, 1+m%(shape.Roles-1)))
	}
	if !shape.Varied {
		return mem
	}
	h := uint64(uid) * 0x9e3779b97f4a7c15
	pct := func(salt uint64) uint64 { return (h ^ salt*0xff51afd7ed558ccd) % 100 }
	mem.JoinedAt = *synTime(synJoined.Add(time.Duration(idx%100_000) * 7919 * time.Second).Add(time.Duration(idx%1000) * time.Millisecond))
	if pct(1) < 75 {
		mem.User.Avatar = synHash(uint64(uid), pct(2) < 10)
	}
	if pct(3) < 20 {
		mem.User.GlobalName = nil
	}
	if pct(4) < 15 {
		mem.Nick = strPtr("nick of " + strconv.Itoa(idx))
	}
	if pct(5) < 3 {
		mem.Avatar = synHash(uint64(uid)+1, false)
	}
	if pct(6) < 4 {
		mem.PremiumSince = synTime(synJoined.Add(time.Duration(idx) * time.Hour))
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
		mem.CommunicationDisabledUntil = synTime(synJoined.AddDate(3, 0, 0))
	}
	if pct(11) < 2 {
		mem.Deaf, mem.Mute = true, pct(12) < 50
	}
	if pct(13) < 5 {
		mem.Flags = 1 << 1
	}
	for k := 1; k < 4 && shape.Roles > 2; k++ {
		if pct(uint64(20+k)) < 30 {
			mem.Roles = append(mem.Roles, synRoleID(g, id, shape, 1+(m*7+k*3)%(shape.Roles-1)))
		}
	}
	if pct(14) < 1 {
		mem.User.Banner = synHash(uint64(uid)+2, true)
		accent := 0x123456
		mem.User.AccentColor = &accent
		mem.Banner = synHash(uint64(uid)+3, false)
	}
	if pct(15) < 1 {
		mem.User.AvatarDecorationData = json.RawMessage(`{"asset":"a_0123456789abcdef0123456789abcdef","sku_id":"1144058522808614923"}`)
		mem.AvatarDecorationData = mem.User.AvatarDecorationData
		mem.User.Collectibles = json.RawMessage(`{"nameplate":{"sku_id":"1349486948942745691","asset":"nameplates/nameplates_v3/bonsai/","label":"","palette":"crimson"}}`)
		mem.User.PrimaryGuild = json.RawMessage(`{"identity_guild_id":"` + id.String() + `","identity_enabled":true,"tag":"MEG","badge":"0123456789abcdef0123456789abcdef"}`)
	}
	return mem
}
