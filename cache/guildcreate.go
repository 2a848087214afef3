package cache

import (
	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
)

// AddGuildCreate puts everything a GUILD_CREATE carries into c, exactly as
// disgo v0.19.6's GUILD_CREATE gateway handler does (bot/handlers,
// gatewayHandlerGuildCreate), without dispatching events: it loads a cache
// without a gateway, as the package's tests do. ev is taken by value and may
// be reused by the caller.
func AddGuildCreate(c disgocache.Caches, ev gateway.EventGuildCreate) {
	c.AddGuild(ev.Guild)
	for _, ch := range ev.Channels {
		c.AddChannel(discord.ApplyGuildIDToChannel(ch, ev.ID))
	}
	for _, th := range ev.Threads {
		c.AddChannel(discord.ApplyGuildIDToThread(th, ev.ID))
	}
	for _, r := range ev.Roles {
		r.GuildID = ev.ID
		c.AddRole(r)
	}
	for _, m := range ev.Members {
		m.GuildID = ev.ID
		c.AddMember(m)
	}
	for _, vs := range ev.VoiceStates {
		vs.GuildID = ev.ID
		c.AddVoiceState(vs)
	}
	for _, e := range ev.Emojis {
		e.GuildID = ev.ID
		c.AddEmoji(e)
	}
	for _, s := range ev.Stickers {
		s.GuildID = &ev.ID
		c.AddSticker(s)
	}
	for _, si := range ev.StageInstances {
		c.AddStageInstance(si)
	}
	for _, se := range ev.GuildScheduledEvents {
		c.AddGuildScheduledEvent(se)
	}
	for _, ss := range ev.SoundboardSounds {
		c.AddGuildSoundboardSound(ss)
	}
	for _, p := range ev.Presences {
		p.GuildID = ev.ID
		c.AddPresence(p)
	}
}
