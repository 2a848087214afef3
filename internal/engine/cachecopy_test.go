package engine

import (
	"cmp"
	"encoding/json"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"

	mcache "github.com/megane-go/megane/cache"
	"github.com/megane-go/megane/discordtest"
)

// cacheKinds are the two kinds of Caches a cluster can run with, caching
// everything.
var cacheKinds = []struct {
	name string
	new  func() cache.Caches
}{
	{"disgo", func() cache.Caches { return cache.New(cache.WithCaches(cache.FlagsAll)) }},
	{"compact", func() cache.Caches { return mcache.New(mcache.WithConfigOpts(cache.WithCaches(cache.FlagsAll))) }},
}

// copyWorld is what TestCopyGuilds loads into a source cache: discordtest's
// GUILD_CREATEs with every other kind of entity added, plus the thread
// members and messages that arrive by other events, and guild IDs that are
// only unready or unavailable.
type copyWorld struct {
	guilds        []gateway.EventGuildCreate
	threadMembers []discord.ThreadMember
	messages      []discord.Message
	// orphanChannel[i] is a channel of guild i that src does not cache but
	// that holds a message of the guild.
	orphanChannel []snowflake.ID
	unready       []snowflake.ID
	unavailable   []snowflake.ID
	self          discord.OAuth2User
}

// guildExtras are the parts of a GUILD_CREATE that discordtest does not
// generate. The verbs: 1 guild, 2 thread, 3 channel, 4 and 5 users, 6
// emoji, 7 sticker, 8 stage instance, 9 scheduled event, 10 sound.
const guildExtras = `{
"threads":[{"id":"%[2]d","type":11,"guild_id":"%[1]d","parent_id":"%[3]d","owner_id":"%[4]d","name":"thread",
  "last_message_id":null,"rate_limit_per_user":0,"message_count":1,"member_count":2,"total_message_sent":1,
  "thread_metadata":{"archived":false,"auto_archive_duration":1440,"archive_timestamp":"2024-01-01T00:00:00Z","locked":false}}],
"voice_states":[{"channel_id":"%[3]d","user_id":"%[4]d","session_id":"s","deaf":false,"mute":true,"self_deaf":true,
  "self_mute":false,"self_video":false,"suppress":false,"request_to_speak_timestamp":"2024-01-01T00:00:00Z"}],
"presences":[{"user":{"id":"%[4]d"},"status":"online","activities":[{"id":"a","name":"Go","type":0,"created_at":1704067200000}],
  "client_status":{"desktop":"online"}},{"user":{"id":"%[5]d"},"status":"idle","activities":[],"client_status":{"mobile":"idle"}}],
"emojis":[{"id":"%[6]d","name":"e","roles":[],"require_colons":true,"managed":false,"animated":false,"available":true}],
"stickers":[{"id":"%[7]d","name":"s","description":"d","tags":"t","type":2,"format_type":1,"available":true}],
"stage_instances":[{"id":"%[8]d","guild_id":"%[1]d","channel_id":"%[3]d","topic":"t","privacy_level":2,"discoverable_disabled":false}],
"guild_scheduled_events":[{"id":"%[9]d","guild_id":"%[1]d","channel_id":"%[3]d","creator_id":"%[4]d","name":"ev",
  "description":"d","scheduled_start_time":"2024-01-01T00:00:00Z","scheduled_end_time":null,"privacy_level":2,"status":1,
  "entity_type":2,"entity_id":null,"entity_metadata":null,"user_count":3,"image":null}],
"soundboard_sounds":[{"name":"s","sound_id":"%[10]d","volume":0.5,"emoji_id":null,"emoji_name":"x","guild_id":"%[1]d","available":true}]
}`

// message is a MESSAGE_CREATE's data; guild is "" for a message fetched
// over REST, which carries no guild_id.
func message(t *testing.T, id, channel, author snowflake.ID, guild string) discord.Message {
	t.Helper()
	var m discord.Message
	raw := fmt.Sprintf(`{"id":"%d","channel_id":"%d",%s"author":{"id":"%d","username":"u","discriminator":"0","avatar":null},
	  "content":"hello","timestamp":"2024-01-01T00:00:00Z","edited_timestamp":null,"tts":false,"mention_everyone":false,
	  "mentions":[],"mention_roles":[],"attachments":[],"embeds":[],"pinned":false,"type":0}`, id, channel, guild, author)
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("decoding message: %v", err)
	}
	return m
}

// newCopyWorld builds n guilds of discordtest's varied shape, each decoded by
// disgo's own decoder from one GUILD_CREATE with guildExtras merged in.
func newCopyWorld(t *testing.T, n int, shape discordtest.GuildShape) copyWorld {
	t.Helper()
	w := copyWorld{self: discord.OAuth2User{User: discord.User{ID: 42, Username: "megane"}}}
	for _, payload := range discordtest.GuildCreatePayloads(n, shape) {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(payload, &fields); err != nil {
			t.Fatal(err)
		}
		var head struct {
			ID       snowflake.ID `json:"id"`
			Channels []struct {
				ID snowflake.ID `json:"id"`
			} `json:"channels"`
			Members []struct {
				User struct {
					ID snowflake.ID `json:"id"`
				} `json:"user"`
			} `json:"members"`
		}
		if err := json.Unmarshal(payload, &head); err != nil {
			t.Fatal(err)
		}
		gid, ch, ch1 := head.ID, head.Channels[0].ID, head.Channels[1].ID
		u0, u1 := head.Members[0].User.ID, head.Members[1].User.ID
		thread := gid + 1
		var extras map[string]json.RawMessage
		raw := fmt.Sprintf(guildExtras, gid, thread, ch, u0, u1, gid+2, gid+3, gid+4, gid+5, gid+6)
		if err := json.Unmarshal([]byte(raw), &extras); err != nil {
			t.Fatalf("extras: %v", err)
		}
		for k, v := range extras {
			fields[k] = v
		}
		merged, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		var ev gateway.EventGuildCreate
		if err := json.Unmarshal(merged, &ev); err != nil {
			t.Fatalf("decoding GUILD_CREATE: %v", err)
		}
		w.guilds = append(w.guilds, ev)
		for _, u := range []snowflake.ID{u0, u1} {
			w.threadMembers = append(w.threadMembers, discord.ThreadMember{
				ThreadID: thread, UserID: u, JoinTimestamp: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			})
		}
		orphan := gid + 9
		inGuild := fmt.Sprintf(`"guild_id":"%d",`, gid)
		w.messages = append(w.messages,
			message(t, gid+7, ch, u0, inGuild),
			message(t, gid+8, thread, u1, inGuild),
			message(t, gid+10, ch1, u0, ""),         // in a cached channel, no guild_id
			message(t, gid+11, orphan, u1, inGuild)) // in an uncached channel
		w.orphanChannel = append(w.orphanChannel, orphan)
	}
	return w
}

// fill loads w into c as a cluster's cache holds it after the events.
func (w copyWorld) fill(c cache.Caches) {
	c.SetSelfUser(w.self)
	for _, ev := range w.guilds {
		mcache.AddGuildCreate(c, ev)
	}
	for _, tm := range w.threadMembers {
		c.AddThreadMember(tm)
	}
	for _, m := range w.messages {
		c.AddMessage(m)
	}
	for _, id := range w.unready {
		c.SetGuildUnready(id, true)
	}
	for _, id := range w.unavailable {
		c.SetGuildUnavailable(id, true)
	}
}

func sortedByID[T any](seq iter.Seq[T], id func(T) snowflake.ID) []T {
	out := slices.Collect(seq)
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return out
}

func utcTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Round(0)
	return &u
}

// guildReads is every read of c about guild gid whose channels (in the
// source cache) are channels. Times are normalised to UTC, since the compact
// member cache returns JoinedAt in UTC.
func guildReads(c cache.Caches, gid snowflake.ID, channels []snowflake.ID) map[string]any {
	guild, ok := c.Guild(gid)
	members := sortedByID(c.Members(gid), func(m discord.Member) snowflake.ID { return m.User.ID })
	for i := range members {
		m := &members[i]
		m.JoinedAt, m.PremiumSince = utcTime(m.JoinedAt), utcTime(m.PremiumSince)
		m.CommunicationDisabledUntil = utcTime(m.CommunicationDisabledUntil)
	}
	reads := map[string]any{
		"guild":       []any{guild, ok},
		"unready":     c.IsGuildUnready(gid),
		"unavailable": c.IsGuildUnavailable(gid),
		"channels":    sortedByID(c.ChannelsForGuild(gid), discord.GuildChannel.ID),
		"roles":       sortedByID(c.Roles(gid), func(r discord.Role) snowflake.ID { return r.ID }),
		"members":     members,
		"presences":   sortedByID(c.Presences(gid), func(p discord.Presence) snowflake.ID { return p.PresenceUser.ID }),
		"voiceStates": sortedByID(c.VoiceStates(gid), func(v discord.VoiceState) snowflake.ID { return v.UserID }),
		"emojis":      sortedByID(c.Emojis(gid), func(e discord.Emoji) snowflake.ID { return e.ID }),
		"stickers":    sortedByID(c.Stickers(gid), func(s discord.Sticker) snowflake.ID { return s.ID }),
		"stages":      sortedByID(c.StageInstances(gid), func(s discord.StageInstance) snowflake.ID { return s.ID }),
		"events":      sortedByID(c.GuildScheduledEvents(gid), func(e discord.GuildScheduledEvent) snowflake.ID { return e.ID }),
		"sounds":      sortedByID(c.GuildSoundboardSounds(gid), func(s discord.SoundboardSound) snowflake.ID { return s.SoundID }),
	}
	var threadMembers []discord.ThreadMember
	var messages []discord.Message
	for _, ch := range channels {
		threadMembers = append(threadMembers, sortedByID(c.ThreadMembers(ch), func(m discord.ThreadMember) snowflake.ID { return m.UserID })...)
		messages = append(messages, sortedByID(c.Messages(ch), func(m discord.Message) snowflake.ID { return m.ID })...)
	}
	reads["threadMembers"], reads["messages"] = threadMembers, messages
	self, ok := c.SelfMember(gid)
	reads["selfMember"] = []any{self, ok}
	return reads
}

// channelsOf lists the IDs of gid's channels in c, plus extra.
func channelsOf(c cache.Caches, gid snowflake.ID, extra ...snowflake.ID) []snowflake.ID {
	ids := slices.Collect(func(yield func(snowflake.ID) bool) {
		for ch := range c.ChannelsForGuild(gid) {
			if !yield(ch.ID()) {
				return
			}
		}
	})
	return append(ids, extra...)
}

// TestCopyGuilds copies two of three guilds, and the unready and unavailable
// IDs keep accepts, between every pair of cache kinds, and checks that every
// read of dst about the copied guilds equals src's, that nothing of the
// third guild arrives, and that keep is asked about each ID once.
func TestCopyGuilds(t *testing.T) {
	t.Parallel()
	w := newCopyWorld(t, 3, discordtest.GuildShape{Members: 30, Channels: 8, Roles: 4, Varied: true})
	// A self member makes SelfMember a read worth comparing.
	for i := range w.guilds {
		w.guilds[i].Members = append(w.guilds[i].Members, discord.Member{User: w.self.User, GuildID: w.guilds[i].ID})
	}
	const unreadyKept, unavailableKept, unreadyDropped = 900, 901, 902
	w.unready = []snowflake.ID{unreadyKept, unreadyDropped}
	w.unavailable = []snowflake.ID{unavailableKept}
	dropped := w.guilds[2].ID
	for _, sk := range cacheKinds {
		for _, dk := range cacheKinds {
			t.Run(sk.name+"_to_"+dk.name, func(t *testing.T) {
				t.Parallel()
				src, dst := sk.new(), dk.new()
				w.fill(src)
				asked := map[snowflake.ID]int{}
				keep := func(id snowflake.ID) bool {
					asked[id]++
					return id != dropped && id != unreadyDropped
				}
				if n := copyGuilds(dst, src, keep); n != 2 {
					t.Errorf("copyGuilds = %d, want 2", n)
				}
				for id, n := range asked {
					if n != 1 {
						t.Errorf("keep asked about %d %d times, want once", id, n)
					}
				}
				empty := sk.new()
				for i, ev := range w.guilds {
					channels := channelsOf(src, ev.ID, w.orphanChannel[i])
					want := guildReads(src, ev.ID, channels)
					if ev.ID == dropped {
						want = guildReads(empty, ev.ID, channels)
					} else {
						assertNonEmpty(t, want)
					}
					got := guildReads(dst, ev.ID, channels)
					for k, wv := range want {
						if !reflect.DeepEqual(got[k], wv) {
							t.Errorf("guild %d: %s differs:\n got %+v\nwant %+v", i, k, got[k], wv)
						}
					}
				}
				if !dst.IsGuildUnready(unreadyKept) || !dst.IsGuildUnavailable(unavailableKept) || dst.IsGuildUnready(unreadyDropped) {
					t.Errorf("unready %v, unavailable %v, dropped unready %v; want true, true, false",
						dst.IsGuildUnready(unreadyKept), dst.IsGuildUnavailable(unavailableKept), dst.IsGuildUnready(unreadyDropped))
				}
				if self, ok := dst.SelfUser(); !ok || !reflect.DeepEqual(self, w.self) {
					t.Errorf("SelfUser = %+v, %v; want %+v", self, ok, w.self)
				}
				g0, g1 := w.guilds[0], w.guilds[1]
				if got, want := dst.MembersAllLen(), len(g0.Members)+len(g1.Members); got != want {
					t.Errorf("MembersAllLen = %d, want %d", got, want)
				}
				if got, want := dst.MessagesAllLen(), 8; got != want {
					t.Errorf("MessagesAllLen = %d, want %d", got, want)
				}
			})
		}
	}
}

// assertNonEmpty fails if a read of a copied guild is empty, which would
// make comparing it vacuous.
func assertNonEmpty(t *testing.T, reads map[string]any) {
	t.Helper()
	for k, v := range reads {
		switch k {
		case "unready", "unavailable":
			continue
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Slice && rv.Len() == 0 || k == "guild" && !v.([]any)[1].(bool) || k == "selfMember" && !v.([]any)[1].(bool) {
			t.Errorf("src has no %s for the guild; the fixture is incomplete", k)
		}
	}
}

// TestCopyGuildsRespectsDst copies into a dst that caches only guilds and
// members, and which has a self user of its own: dst stores only what its
// flags allow, and keeps its self user.
func TestCopyGuildsRespectsDst(t *testing.T) {
	t.Parallel()
	w := newCopyWorld(t, 2, discordtest.GuildShape{Members: 10, Channels: 4, Roles: 3})
	flags := cache.FlagGuilds | cache.FlagMembers
	for _, k := range cacheKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			src := k.new()
			w.fill(src)
			var dst cache.Caches
			if k.name == "compact" {
				dst = mcache.New(mcache.WithConfigOpts(cache.WithCaches(flags)))
			} else {
				dst = cache.New(cache.WithCaches(flags))
			}
			own := discord.OAuth2User{User: discord.User{ID: 7, Username: "own"}}
			dst.SetSelfUser(own)
			if n := copyGuilds(dst, src, func(snowflake.ID) bool { return true }); n != 2 {
				t.Errorf("copyGuilds = %d, want 2", n)
			}
			if dst.GuildsLen() != 2 || dst.MembersAllLen() != 20 {
				t.Errorf("%d guilds, %d members; want 2, 20", dst.GuildsLen(), dst.MembersAllLen())
			}
			if n := dst.RolesAllLen() + dst.ChannelsLen() + dst.MessagesAllLen() + dst.PresencesAllLen() + dst.EmojisAllLen(); n != 0 {
				t.Errorf("dst without those flags stored %d roles, channels, messages, presences and emojis", n)
			}
			if self, _ := dst.SelfUser(); self.ID != own.ID {
				t.Errorf("SelfUser = %d, want dst's own %d", self.ID, own.ID)
			}
		})
	}
}

// TestCopyGuildsThousandMembers copies a guild of 1000 members (no timing:
// it only has to finish, and hold them all).
func TestCopyGuildsThousandMembers(t *testing.T) {
	t.Parallel()
	w := newCopyWorld(t, 1, discordtest.GuildShape{Members: 1000, Channels: 20, Roles: 10, Varied: true})
	for _, k := range cacheKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			src, dst := k.new(), k.new()
			w.fill(src)
			if n := copyGuilds(dst, src, func(snowflake.ID) bool { return true }); n != 1 {
				t.Errorf("copyGuilds = %d, want 1", n)
			}
			gid := w.guilds[0].ID
			if got := dst.MembersLen(gid); got != 1000 {
				t.Errorf("MembersLen = %d, want 1000", got)
			}
			if got, want := dst.ChannelsLen(), src.ChannelsLen(); got != want {
				t.Errorf("ChannelsLen = %d, want %d", got, want)
			}
		})
	}
}
