package discordtest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
	"time"

	"github.com/disgoorg/snowflake/v2"
)

// Snowflake timestamp bases (milliseconds since the Discord epoch) for each
// kind of ID, far enough apart that the kinds never collide.
const (
	appBase     = 190_000_000_000
	guildBase   = 200_000_000_000
	channelBase = 210_000_000_000
	roleBase    = 220_000_000_000
	userBase    = 230_000_000_000
	messageBase = 240_000_000_000
	dmBase      = 250_000_000_000
)

// defaultApplicationID is the application (and bot user) ID when the token
// does not carry one.
var defaultApplicationID = snowflake.ID(uint64(appBase)<<22 | 1)

func makeID(base, n int) snowflake.ID {
	return snowflake.ID(uint64(base+n)<<22 | uint64(n&0xfff))
}

// worldJoined is the joined_at of every member and of the bot.
var worldJoined = time.Date(2023, 3, 14, 15, 9, 26, 0, time.UTC)

// world is the static content of the fake: guilds, channels, roles and
// members, derived from the configuration by a guildGen (the generator
// behind GuildCreatePayloads). GUILD_CREATE bodies are encoded lazily, once
// per guild.
type world struct {
	appID    snowflake.ID
	gen      guildGen
	guilds   int
	members  int
	channels int
	roles    int
	text     []int // indices of text channels within a guild
	bodies   []atomic.Pointer[[]byte]
}

func newWorld(cfg *config, appID snowflake.ID) *world {
	w := &world{
		appID:    appID,
		gen:      guildGen{shape: GuildShape{Members: cfg.members, Channels: cfg.channels, Roles: cfg.roles}, appID: appID},
		guilds:   cfg.guilds,
		members:  cfg.members,
		channels: cfg.channels,
		roles:    cfg.roles,
		bodies:   make([]atomic.Pointer[[]byte], cfg.guilds),
	}
	for c := 0; c < cfg.channels; c++ {
		if w.gen.channelType(c) == 0 {
			w.text = append(w.text, c)
		}
	}
	return w
}

func (w *world) guildID(g int) snowflake.ID { return w.gen.guildID(g) }

// textChannelID returns the k-th text channel of guild g; a guild without
// text channels uses its own ID, as Discord's old default channel did.
func (w *world) textChannelID(g, k int) snowflake.ID {
	if len(w.text) == 0 {
		return w.guildID(g)
	}
	return w.gen.channelID(g, w.text[k%len(w.text)])
}

// actor returns the text channel and the member (a user index) of guild g
// that traffic selector k picks: where a traffic event happens and who acts.
func (w *world) actor(g int, k int64) (channel snowflake.ID, user int) {
	if w.members > 0 {
		user = w.userIndex(g, int(k%int64(w.members)))
	}
	return w.textChannelID(g, int(k)), user
}

func (w *world) channelID(g, c int) snowflake.ID { return w.gen.channelID(g, c) }

// channelType is the type of channel c of every guild (see
// guildGen.channelType).
func (w *world) channelType(c int) int { return w.gen.channelType(c) }

func (w *world) userIndex(g, m int) int { return w.gen.userIndex(g, m) }

func (w *world) userID(idx int) snowflake.ID { return w.gen.userID(idx) }

// shardOf returns the shard that owns guild g among count shards.
func (w *world) shardOf(g, count int) int {
	return int((uint64(w.guildID(g)) >> 22) % uint64(count))
}

// guildsOf returns the indices of the guilds shard owns among count.
func (w *world) guildsOf(shard, count int) []int {
	var out []int
	for g := 0; g < w.guilds; g++ {
		if w.shardOf(g, count) == shard {
			out = append(out, g)
		}
	}
	return out
}

// JSON shapes, following Discord's documented objects. The fields marked
// omitempty that Discord always sends are the rare ones only varied guilds
// (GuildShape.Varied) carry.

type jsonUser struct {
	ID                   snowflake.ID    `json:"id"`
	Username             string          `json:"username"`
	Discriminator        string          `json:"discriminator"`
	GlobalName           *string         `json:"global_name"`
	Avatar               *string         `json:"avatar"`
	Banner               *string         `json:"banner,omitempty"`
	AccentColor          *int            `json:"accent_color,omitempty"`
	Bot                  bool            `json:"bot"`
	System               bool            `json:"system,omitempty"`
	PublicFlags          int             `json:"public_flags"`
	AvatarDecorationData json.RawMessage `json:"avatar_decoration_data,omitempty"`
	Collectibles         json.RawMessage `json:"collectibles,omitempty"`
	PrimaryGuild         json.RawMessage `json:"primary_guild,omitempty"`
}

type jsonMember struct {
	User                       jsonUser        `json:"user"`
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

type jsonOverwrite struct {
	ID    snowflake.ID `json:"id"`
	Type  int          `json:"type"`
	Allow string       `json:"allow"`
	Deny  string       `json:"deny"`
}

type jsonChannel struct {
	ID                   snowflake.ID    `json:"id"`
	Type                 int             `json:"type"`
	GuildID              *snowflake.ID   `json:"guild_id,omitempty"`
	Position             int             `json:"position"`
	PermissionOverwrites []jsonOverwrite `json:"permission_overwrites"`
	Name                 string          `json:"name,omitempty"`
	Topic                *string         `json:"topic,omitempty"`
	NSFW                 bool            `json:"nsfw"`
	LastMessageID        *snowflake.ID   `json:"last_message_id"`
	RateLimitPerUser     int             `json:"rate_limit_per_user"`
	ParentID             *snowflake.ID   `json:"parent_id,omitempty"`
	Bitrate              int             `json:"bitrate,omitempty"`
	UserLimit            int             `json:"user_limit,omitempty"`
	RTCRegion            *string         `json:"rtc_region,omitempty"`
	Flags                int             `json:"flags"`
	Recipients           []jsonUser      `json:"recipients,omitempty"`
}

type jsonRole struct {
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

type jsonGuild struct {
	ID                          snowflake.ID  `json:"id"`
	Name                        string        `json:"name"`
	Icon                        *string       `json:"icon"`
	Splash                      *string       `json:"splash"`
	DiscoverySplash             *string       `json:"discovery_splash"`
	OwnerID                     snowflake.ID  `json:"owner_id"`
	AfkChannelID                *snowflake.ID `json:"afk_channel_id"`
	AfkTimeout                  int           `json:"afk_timeout"`
	VerificationLevel           int           `json:"verification_level"`
	DefaultMessageNotifications int           `json:"default_message_notifications"`
	ExplicitContentFilter       int           `json:"explicit_content_filter"`
	Roles                       []jsonRole    `json:"roles"`
	Emojis                      []struct{}    `json:"emojis"`
	Stickers                    []struct{}    `json:"stickers"`
	Features                    []string      `json:"features"`
	MFALevel                    int           `json:"mfa_level"`
	ApplicationID               *snowflake.ID `json:"application_id"`
	SystemChannelID             *snowflake.ID `json:"system_channel_id"`
	SystemChannelFlags          int           `json:"system_channel_flags"`
	RulesChannelID              *snowflake.ID `json:"rules_channel_id"`
	MaxMembers                  int           `json:"max_members"`
	VanityURLCode               *string       `json:"vanity_url_code"`
	Description                 *string       `json:"description"`
	Banner                      *string       `json:"banner"`
	PremiumTier                 int           `json:"premium_tier"`
	PremiumSubscriptionCount    int           `json:"premium_subscription_count"`
	PreferredLocale             string        `json:"preferred_locale"`
	PublicUpdatesChannelID      *snowflake.ID `json:"public_updates_channel_id"`
	NSFWLevel                   int           `json:"nsfw_level"`
	PremiumProgressBarEnabled   bool          `json:"premium_progress_bar_enabled"`
	JoinedAt                    time.Time     `json:"joined_at"`
	Large                       bool          `json:"large"`
	Unavailable                 bool          `json:"unavailable"`
	MemberCount                 int           `json:"member_count"`
	VoiceStates                 []struct{}    `json:"voice_states"`
	Members                     []jsonMember  `json:"members"`
	Channels                    []jsonChannel `json:"channels"`
	Threads                     []struct{}    `json:"threads"`
	Presences                   []struct{}    `json:"presences"`
	StageInstances              []struct{}    `json:"stage_instances"`
	GuildScheduledEvents        []struct{}    `json:"guild_scheduled_events"`
	SoundboardSounds            []struct{}    `json:"soundboard_sounds"`
}

func (w *world) botUser() jsonUser {
	return jsonUser{
		ID:            w.appID,
		Username:      "megane-fake",
		Discriminator: "0",
		GlobalName:    nil,
		Bot:           true,
	}
}

// guildBody returns the JSON of guild g's GUILD_CREATE data, encoding it on
// first use. The returned slice is shared and must not be modified.
func (w *world) guildBody(g int) []byte {
	if p := w.bodies[g].Load(); p != nil {
		return *p
	}
	b := w.gen.encode(w.gen.guild(g))
	w.bodies[g].Store(&b)
	return b
}

// dmGuildBody is guild g's GUILD_CREATE data with one DM channel (type 1)
// appended to its channels, the shape that panics disgo v0.19.6.
func (w *world) dmGuildBody(g int, n int) []byte {
	jg := w.gen.guild(g)
	jg.Channels = append(jg.Channels, jsonChannel{
		ID:                   makeID(dmBase, n),
		Type:                 1,
		PermissionOverwrites: []jsonOverwrite{},
		Recipients:           []jsonUser{w.gen.user(0)},
	})
	return w.gen.encode(jg)
}

// makeToken builds a bot token whose first part is base64 of appID, the
// shape disgo's tokenhelper.IDFromToken parses.
func makeToken(appID snowflake.ID, secret string) string {
	return base64.RawStdEncoding.EncodeToString([]byte(appID.String())) + ".GfAkE0." + secret
}

// appIDFromToken parses the application ID from a bot token's first part.
func appIDFromToken(tok string) (snowflake.ID, bool) {
	first, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawStdEncoding.DecodeString(first)
	if err != nil {
		return 0, false
	}
	id, err := snowflake.Parse(string(raw))
	if err != nil || id == 0 {
		return 0, false
	}
	return id, true
}
