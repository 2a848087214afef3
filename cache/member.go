package cache

import (
	"iter"
	"sync"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

var (
	_ disgocache.MemberCache                  = (*memberCache)(nil)
	_ disgocache.GroupedCache[discord.Member] = (*memberCache)(nil)
)

// memberCache is the compact member cache that [NewMemberCache] documents.
// It implements both disgocache.MemberCache and
// disgocache.GroupedCache[discord.Member] (its MemberCache method returns
// itself). The zero value is not usable, and it must not be copied.
type memberCache struct {
	admit *admission[discord.Member]

	mu      sync.RWMutex
	groups  map[snowflake.ID]*memberGroup
	total   int
	scratch []byte
}

// memberGroup is one guild's members: dense records, an index from user ID
// to position, and the guild's interned role IDs. recs grows by a quarter at
// a time rather than doubling, to waste less capacity.
type memberGroup struct {
	recs  []memberRec
	index idIndex
	// roles interns the role IDs that members of this guild carry. It only
	// grows while the guild is cached (a deleted role keeps its slot), and
	// is dropped with the guild.
	roles []snowflake.ID
}

// NewMemberCache returns an empty compact member cache, for
// disgocache.WithMemberCache. Its MemberCache method returns the same cache
// as a disgocache.GroupedCache[discord.Member]. Without [WithConfigOpts] it
// stores every member it is given; with it, it honours disgo's FlagMembers
// and member cache policy.
//
// Members are stored per guild as fixed-size records plus one packed string
// each (see the package documentation), about a third of the heap of disgo's
// default cache. Every read rebuilds a discord.Member that is equal to the
// one stored, except that JoinedAt comes back in UTC (compare times with
// Equal). Pointer fields that are rarely set (banners, premium_since,
// timeouts, decorations, collectibles, primary guild) are shared with the
// stored value, as disgo's default cache shares them; treat them as
// read-only.
//
// Costs: a read rebuilds the member and allocates once or twice (one box
// for the values its pointers point to, one string when it has avatar
// hashes), a few hundred nanoseconds where disgo's default cache copies a
// struct. A write encodes the member under the write lock and allocates its
// packed string, unless an update leaves the packed fields unchanged.
//
// The cache is safe for concurrent use. Iterators (Members, and the
// GroupedCache's GroupAll and All) hold the read lock while they run, as
// disgo's do: the loop body must not write to this cache.
func NewMemberCache(opts ...Option) disgocache.MemberCache {
	cfg := defaultConfig()
	cfg.apply(opts)
	if len(cfg.disgoOpts) == 0 {
		return newMemberCache(newAdmission[discord.Member](true, false, nil))
	}
	probe := probeCaches(cfg.disgoOpts)
	return newMemberCache(memberAdmission(probe, cfg.disgoOpts))
}

func memberAdmission(probe disgocache.Caches, opts []disgocache.ConfigOpt) *admission[discord.Member] {
	none := probe.CacheFlags().Missing(disgocache.FlagMembers)
	if !policySet(opts, "MemberCachePolicy") {
		return newAdmission[discord.Member](!none, none, nil)
	}
	return newAdmission(false, none, probe.MemberCache())
}

func newMemberCache(a *admission[discord.Member]) *memberCache {
	return &memberCache{admit: a, groups: make(map[snowflake.ID]*memberGroup)}
}

// MemberCache returns c itself, as a disgocache.GroupedCache.
func (c *memberCache) MemberCache() disgocache.GroupedCache[discord.Member] { return c }

// Member returns the member of guildID with userID.
func (c *memberCache) Member(guildID, userID snowflake.ID) (discord.Member, bool) {
	return c.Get(guildID, userID)
}

// Members iterates over the members of guildID, in no particular order.
func (c *memberCache) Members(guildID snowflake.ID) iter.Seq[discord.Member] {
	return c.GroupAll(guildID)
}

// MembersAllLen returns the number of members in all guilds. O(1).
func (c *memberCache) MembersAllLen() int { return c.Len() }

// MembersLen returns the number of members of guildID. O(1).
func (c *memberCache) MembersLen(guildID snowflake.ID) int { return c.GroupLen(guildID) }

// AddMember stores member under member.GuildID and member.User.ID,
// replacing any member stored there.
func (c *memberCache) AddMember(member discord.Member) {
	c.Put(member.GuildID, member.User.ID, member)
}

// RemoveMember removes the member of guildID with userID and returns it.
func (c *memberCache) RemoveMember(guildID, userID snowflake.ID) (discord.Member, bool) {
	return c.Remove(guildID, userID)
}

// RemoveMembersByGuildID removes every member of guildID.
func (c *memberCache) RemoveMembersByGuildID(guildID snowflake.ID) { c.GroupRemove(guildID) }

// Get returns the member stored under groupID (the guild) and id (the user).
func (c *memberCache) Get(groupID, id snowflake.ID) (discord.Member, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	g, i := c.findLocked(groupID, id)
	if g == nil {
		return discord.Member{}, false
	}
	return g.recs[i].decode(groupID, g.roles), true
}

// findLocked returns the group of groupID and the index of member id in
// it, or nil and -1. The caller holds the lock.
func (c *memberCache) findLocked(groupID, id snowflake.ID) (*memberGroup, int32) {
	g := c.groups[groupID]
	if g == nil {
		return nil, -1
	}
	i := g.index.find(g.recs, uint64(id))
	if i < 0 {
		return nil, -1
	}
	return g, i
}

// Put stores entity under groupID and id when the flags and policy allow it.
func (c *memberCache) Put(groupID, id snowflake.ID, entity discord.Member) {
	if !c.admit.allows(entity) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[groupID]
	if g == nil {
		g = &memberGroup{}
		c.groups[groupID] = g
	}
	var rec memberRec
	if i := g.index.find(g.recs, uint64(id)); i >= 0 {
		g.recs[i], c.scratch = encodeMember(groupID, id, &entity, &g.roles, &g.recs[i], c.scratch)
		return
	}
	rec, c.scratch = encodeMember(groupID, id, &entity, &g.roles, nil, c.scratch)
	if len(g.recs) == cap(g.recs) {
		g.recs = growQuarter(g.recs)
	}
	g.recs = append(g.recs, rec)
	g.index.added(g.recs)
	c.total++
}

// removeAt removes record i of g by moving the last record into its place.
// The caller holds the write lock.
func (c *memberCache) removeAt(groupID snowflake.ID, g *memberGroup, i int32) {
	last := int32(len(g.recs) - 1)
	g.index.removing(g.recs, i)
	if i != last {
		g.recs[i] = g.recs[last]
	}
	g.recs[last] = memberRec{}
	g.recs = g.recs[:last]
	c.total--
	if len(g.recs) == 0 {
		delete(c.groups, groupID)
	}
}

// Remove removes the member under groupID and id and returns it.
func (c *memberCache) Remove(groupID, id snowflake.ID) (discord.Member, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, i := c.findLocked(groupID, id)
	if g == nil {
		return discord.Member{}, false
	}
	m := g.recs[i].decode(groupID, g.roles)
	c.removeAt(groupID, g, i)
	return m, true
}

// GroupRemove removes every member of groupID.
func (c *memberCache) GroupRemove(groupID snowflake.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.groups[groupID]; g != nil {
		c.total -= len(g.recs)
		delete(c.groups, groupID)
	}
}

// RemoveIf removes every member for which filterFunc returns true. It
// decodes every member, so it costs a Get per member; filterFunc runs under
// the write lock and must not use this cache.
func (c *memberCache) RemoveIf(filterFunc disgocache.GroupedFilterFunc[discord.Member]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for gid, g := range c.groups {
		c.groupRemoveIf(gid, g, filterFunc)
	}
}

// GroupRemoveIf removes every member of groupID for which filterFunc returns
// true. filterFunc runs under the write lock and must not use this cache.
func (c *memberCache) GroupRemoveIf(groupID snowflake.ID, filterFunc disgocache.GroupedFilterFunc[discord.Member]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.groups[groupID]; g != nil {
		c.groupRemoveIf(groupID, g, filterFunc)
	}
}

func (c *memberCache) groupRemoveIf(gid snowflake.ID, g *memberGroup, f disgocache.GroupedFilterFunc[discord.Member]) {
	// Backwards, so that the record moved into a removed slot was already
	// visited.
	for i := int32(len(g.recs) - 1); i >= 0; i-- {
		if i >= int32(len(g.recs)) {
			continue
		}
		if f(gid, g.recs[i].decode(gid, g.roles)) {
			c.removeAt(gid, g, i)
		}
	}
}

// Len returns the number of members in all guilds. O(1).
func (c *memberCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.total
}

// GroupLen returns the number of members of groupID. O(1).
func (c *memberCache) GroupLen(groupID snowflake.ID) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if g := c.groups[groupID]; g != nil {
		return len(g.recs)
	}
	return 0
}

// All iterates over every member with its guild ID, holding the read lock.
func (c *memberCache) All() iter.Seq2[snowflake.ID, discord.Member] {
	return func(yield func(snowflake.ID, discord.Member) bool) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		for gid, g := range c.groups {
			for i := range g.recs {
				if !yield(gid, g.recs[i].decode(gid, g.roles)) {
					return
				}
			}
		}
	}
}

// GroupAll iterates over the members of groupID, holding the read lock.
func (c *memberCache) GroupAll(groupID snowflake.ID) iter.Seq[discord.Member] {
	return func(yield func(discord.Member) bool) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		g := c.groups[groupID]
		if g == nil {
			return
		}
		for i := range g.recs {
			if !yield(g.recs[i].decode(groupID, g.roles)) {
				return
			}
		}
	}
}
