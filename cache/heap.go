package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
)

// ErrNoGuilds is returned by [MeasureHeapPerGuild] when it is given no guilds.
var ErrNoGuilds = errors.New("cache: no guilds to measure")

// AddGuildCreate puts everything a GUILD_CREATE carries into c, exactly as
// disgo v0.19.6's GUILD_CREATE gateway handler does (bot/handlers,
// gatewayHandlerGuildCreate), without dispatching events. It is how the
// tests and the heap measurement load a cache without a gateway. ev is taken
// by value and may be reused by the caller.
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

// MeasureHeapPerGuild returns the live heap, in bytes per guild, that the
// Caches built by newCaches hold after loading guilds through
// [AddGuildCreate].
//
// It measures what a bot pays: each guild is first encoded to JSON, then,
// inside the measured window, decoded and handed to the cache one at a time,
// so the decoded event is garbage once the cache has it and only what the
// cache keeps is counted. The figure is the difference in HeapAlloc,
// each reading taken after two full GCs (sync.Pool contents survive one).
// Other goroutines allocating at the same time add noise, so run it alone
// (a benchmark or a command, not a parallel test). The noise measured with
// nothing cached is under 100 B/guild. Cost: four GCs, one JSON encode and
// one decode per guild; about 1 s for 1000 guilds of 100 members.
func MeasureHeapPerGuild(newCaches func() disgocache.Caches, guilds []gateway.EventGuildCreate) (float64, error) {
	if len(guilds) == 0 {
		return 0, ErrNoGuilds
	}
	bodies := make([][]byte, len(guilds))
	for i := range guilds {
		b, err := json.Marshal(guilds[i])
		if err != nil {
			return 0, fmt.Errorf("cache: encoding guild %d: %w", i, err)
		}
		bodies[i] = b
	}
	var before, after runtime.MemStats
	settle()
	runtime.ReadMemStats(&before)
	c := newCaches()
	for i, b := range bodies {
		var ev gateway.EventGuildCreate
		if err := json.Unmarshal(b, &ev); err != nil {
			return 0, fmt.Errorf("cache: decoding guild %d: %w", i, err)
		}
		AddGuildCreate(c, ev)
	}
	settle()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(c)
	runtime.KeepAlive(bodies)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(guilds)), nil
}

// settle runs two full GCs: the first moves sync.Pool contents to the
// victim cache, the second frees them.
func settle() {
	runtime.GC()
	runtime.GC()
}
