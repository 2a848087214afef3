package cache

import (
	"iter"
	"sync"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

var (
	_ disgocache.ChannelCache                = (*channelCache)(nil)
	_ disgocache.Cache[discord.GuildChannel] = (*channelCache)(nil)
)

// channelCache is the channel cache indexed by guild that [NewChannelCache]
// documents. It implements both disgocache.ChannelCache and
// disgocache.Cache[discord.GuildChannel] (its ChannelCache method returns
// itself). The zero value is not usable, and it must not be copied.
type channelCache struct {
	admit *admission[discord.GuildChannel]

	mu      sync.RWMutex
	byID    map[snowflake.ID]discord.GuildChannel
	byGuild map[snowflake.ID][]snowflake.ID // keys of byID, by the channel's GuildID
}

// NewChannelCache returns an empty channel cache indexed by guild, for
// disgocache.WithChannelCache. Its ChannelCache method returns the same cache
// as a disgocache.Cache[discord.GuildChannel]. Without [WithConfigOpts] it
// stores every channel it is given; with it, it honours disgo's FlagChannels
// and channel cache policy.
//
// It stores disgo's channel values as they are: their fields are unexported
// and only disgo's JSON decoder can set them, so rebuilding a channel from a
// compact form would cost a JSON decode on every read, and disgo reads and
// rewrites a channel on every MESSAGE_CREATE. What it adds is a per-guild
// index: ChannelsForGuild and RemoveChannelsByGuildID cost O(channels of the
// guild) instead of O(all channels), for 8 bytes more per channel. Reads and
// writes by ID cost what disgo's default cache costs, plus one map lookup on
// writes.
//
// The cache is safe for concurrent use. Iterators hold the read lock while
// they run: the loop body must not write to this cache.
func NewChannelCache(opts ...Option) disgocache.ChannelCache {
	cfg := defaultConfig()
	cfg.apply(opts)
	if len(cfg.disgoOpts) == 0 {
		return newChannelCache(newFlatAdmission[discord.GuildChannel](true, false, nil))
	}
	return newChannelCache(channelAdmission(probeCaches(cfg.disgoOpts), cfg.disgoOpts))
}

func channelAdmission(probe disgocache.Caches, opts []disgocache.ConfigOpt) *admission[discord.GuildChannel] {
	none := probe.CacheFlags().Missing(disgocache.FlagChannels)
	if !policySet(opts, "ChannelCachePolicy") {
		return newFlatAdmission[discord.GuildChannel](!none, none, nil)
	}
	return newFlatAdmission(false, none, probe.ChannelCache())
}

func newChannelCache(a *admission[discord.GuildChannel]) *channelCache {
	return &channelCache{
		admit:   a,
		byID:    make(map[snowflake.ID]discord.GuildChannel),
		byGuild: make(map[snowflake.ID][]snowflake.ID),
	}
}

// ChannelCache returns c itself, as a disgocache.Cache.
func (c *channelCache) ChannelCache() disgocache.Cache[discord.GuildChannel] { return c }

// Channel returns the channel with channelID.
func (c *channelCache) Channel(channelID snowflake.ID) (discord.GuildChannel, bool) {
	return c.Get(channelID)
}

// Channels iterates over every channel, in no particular order.
func (c *channelCache) Channels() iter.Seq[discord.GuildChannel] { return c.All() }

// ChannelsForGuild iterates over the channels of guildID, in the order they
// were added. Cost: O(channels of the guild).
func (c *channelCache) ChannelsForGuild(guildID snowflake.ID) iter.Seq[discord.GuildChannel] {
	return func(yield func(discord.GuildChannel) bool) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		for _, id := range c.byGuild[guildID] {
			if !yield(c.byID[id]) {
				return
			}
		}
	}
}

// ChannelsLen returns the number of channels. O(1).
func (c *channelCache) ChannelsLen() int { return c.Len() }

// AddChannel stores channel under channel.ID().
func (c *channelCache) AddChannel(channel discord.GuildChannel) { c.Put(channel.ID(), channel) }

// RemoveChannel removes the channel with channelID and returns it.
func (c *channelCache) RemoveChannel(channelID snowflake.ID) (discord.GuildChannel, bool) {
	return c.Remove(channelID)
}

// RemoveChannelsByGuildID removes every channel of guildID. Cost:
// O(channels of the guild).
func (c *channelCache) RemoveChannelsByGuildID(guildID snowflake.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range c.byGuild[guildID] {
		delete(c.byID, id)
	}
	delete(c.byGuild, guildID)
}

// Get returns the channel stored under id.
func (c *channelCache) Get(id snowflake.ID) (discord.GuildChannel, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ch, ok := c.byID[id]
	return ch, ok
}

// Put stores entity under id when the flags and policy allow it. A nil
// entity is ignored.
func (c *channelCache) Put(id snowflake.ID, entity discord.GuildChannel) {
	if entity == nil || !c.admit.allows(entity) {
		return
	}
	gid := entity.GuildID()
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.byID[id]
	c.byID[id] = entity
	if ok {
		if old.GuildID() == gid {
			return
		}
		c.unindex(old.GuildID(), id)
	}
	c.byGuild[gid] = append(c.byGuild[gid], id)
}

// unindex removes id from guild gid's index, keeping the order. The caller
// holds the write lock.
func (c *channelCache) unindex(gid, id snowflake.ID) {
	ids := c.byGuild[gid]
	for i, v := range ids {
		if v == id {
			copy(ids[i:], ids[i+1:])
			ids = ids[:len(ids)-1]
			break
		}
	}
	if len(ids) == 0 {
		delete(c.byGuild, gid)
		return
	}
	c.byGuild[gid] = ids
}

// Remove removes the channel under id and returns it.
func (c *channelCache) Remove(id snowflake.ID) (discord.GuildChannel, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	delete(c.byID, id)
	c.unindex(ch.GuildID(), id)
	return ch, true
}

// RemoveIf removes every channel for which filterFunc returns true.
// filterFunc runs under the write lock and must not use this cache.
func (c *channelCache) RemoveIf(filterFunc disgocache.FilterFunc[discord.GuildChannel]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for gid, ids := range c.byGuild {
		kept := ids[:0]
		for _, id := range ids {
			if filterFunc(c.byID[id]) {
				delete(c.byID, id)
				continue
			}
			kept = append(kept, id)
		}
		clear(ids[len(kept):])
		if len(kept) == 0 {
			delete(c.byGuild, gid)
		} else {
			c.byGuild[gid] = kept
		}
	}
}

// Len returns the number of channels. O(1).
func (c *channelCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byID)
}

// All iterates over every channel, holding the read lock.
func (c *channelCache) All() iter.Seq[discord.GuildChannel] {
	return func(yield func(discord.GuildChannel) bool) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		for _, ch := range c.byID {
			if !yield(ch) {
				return
			}
		}
	}
}
