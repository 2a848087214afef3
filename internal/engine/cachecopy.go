package engine

import (
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// copyGuilds copies into dst what src caches for the guilds that keep
// accepts, and returns how many guilds (entries of src.Guilds()) it copied.
// A recluster calls it to fill a new cluster's cache from the old clusters'
// caches, since a resumed session gets no GUILD_CREATEs.
//
// Per accepted guild it copies the guild itself, its channels and threads,
// roles, members, presences, voice states, emojis, stickers, stage
// instances, scheduled events and soundboard sounds; the members of its
// threads; and the messages of its channels and threads (and any message
// whose GuildID is the guild's). It marks in dst the unready and unavailable
// guild IDs of src that keep accepts (disgo drops an unavailable guild's
// entry and entities, but not its ID), and sets src's self user if dst has
// none.
//
// The guild IDs it asks keep about are those of src's guilds, channels and
// messages and its unready and unavailable IDs; keep is called once per ID.
// Disgo's Caches interface cannot list the guild IDs of its grouped caches
// without a pass over every entity, so the entities of a guild src knows
// only from those (no guild entry, no channel, no message: src built without
// FlagGuilds and FlagChannels) are not copied. Nor are the members of a
// thread that src's channel cache does not hold: thread members carry no
// guild ID.
//
// Everything goes through dst's Add and Set methods, so dst's flags and
// policies decide what it stores. Values are shared with src as disgo's
// caches share them (pointer and slice fields are not deep-copied); both
// caches treat them as read-only.
//
// The cost is one pass over src's guilds, channels, messages and thread
// members, plus the accepted guilds' entities; no cache is scanned per
// guild. src and dst must be distinct. A concurrent writer to src is safe
// (disgo's caches are) but the copy is then not a consistent snapshot.
func copyGuilds(dst, src cache.Caches, keep func(guildID snowflake.ID) bool) int {
	f := guildFilter{keep: keep, kept: map[snowflake.ID]bool{}}
	copied := 0
	for guild := range src.Guilds() {
		if f.accepts(guild.ID) {
			dst.AddGuild(guild)
			copied++
		}
	}
	copyChannelsAndMessages(dst, src, &f)
	for _, id := range src.UnreadyGuildIDs() {
		if f.accepts(id) {
			dst.SetGuildUnready(id, true)
		}
	}
	for _, id := range src.UnavailableGuildIDs() {
		if f.accepts(id) {
			dst.SetGuildUnavailable(id, true)
		}
	}
	for id, ok := range f.kept {
		if ok {
			copyGuildEntities(dst, src, id)
		}
	}
	if _, ok := dst.SelfUser(); !ok {
		if self, ok := src.SelfUser(); ok {
			dst.SetSelfUser(self)
		}
	}
	return copied
}

// guildFilter asks keep about each guild ID once and remembers the answer.
type guildFilter struct {
	keep func(snowflake.ID) bool
	kept map[snowflake.ID]bool // guild ID -> keep's answer
}

func (f *guildFilter) accepts(id snowflake.ID) bool {
	ok, asked := f.kept[id]
	if !asked {
		ok = f.keep(id)
		f.kept[id] = ok
	}
	return ok
}

// copyGuildEntities copies the entities that src groups by guild ID.
func copyGuildEntities(dst, src cache.Caches, id snowflake.ID) {
	for r := range src.Roles(id) {
		dst.AddRole(r)
	}
	for m := range src.Members(id) {
		dst.AddMember(m)
	}
	for p := range src.Presences(id) {
		dst.AddPresence(p)
	}
	for vs := range src.VoiceStates(id) {
		dst.AddVoiceState(vs)
	}
	for e := range src.Emojis(id) {
		dst.AddEmoji(e)
	}
	for s := range src.Stickers(id) {
		dst.AddSticker(s)
	}
	for si := range src.StageInstances(id) {
		dst.AddStageInstance(si)
	}
	for se := range src.GuildScheduledEvents(id) {
		dst.AddGuildScheduledEvent(se)
	}
	for ss := range src.GuildSoundboardSounds(id) {
		// disgo's AddGuildSoundboardSound dereferences GuildID.
		if ss.GuildID != nil {
			dst.AddGuildSoundboardSound(ss)
		}
	}
}

// copyChannelsAndMessages copies the channels and threads of the kept
// guilds, then the members of those threads and the messages of those
// channels, each in one pass over src's cache. Messages and thread members
// are keyed by channel, not guild, which is why they need the channel set.
func copyChannelsAndMessages(dst, src cache.Caches, f *guildFilter) {
	channels := make(map[snowflake.ID]bool) // channel ID -> is a thread
	for ch := range src.Channels() {
		if !f.accepts(ch.GuildID()) {
			continue
		}
		dst.AddChannel(ch)
		_, thread := ch.(discord.GuildThread)
		channels[ch.ID()] = thread
	}
	for threadID, tm := range src.ThreadMemberCache().All() {
		if channels[threadID] {
			dst.AddThreadMember(tm)
		}
	}
	for channelID, msg := range src.MessageCache().All() {
		_, inChannel := channels[channelID]
		if inChannel || msg.GuildID != nil && f.accepts(*msg.GuildID) {
			dst.AddMessage(msg)
		}
	}
}
