package cache

import (
	"iter"
	"sync"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

var (
	_ disgocache.RoleCache                  = (*roleCache)(nil)
	_ disgocache.GroupedCache[discord.Role] = (*roleCache)(nil)
)

// roleCache is the compact role cache that [NewRoleCache] documents. It
// implements both disgocache.RoleCache and disgocache.GroupedCache[discord.Role]
// (its RoleCache method returns itself). The zero value is not usable, and
// it must not be copied.
type roleCache struct {
	admit *admission[discord.Role]

	mu     sync.RWMutex
	groups map[snowflake.ID][]roleRec
	total  int
}

type roleRec struct {
	id       uint64
	name     string
	perms    discord.Permissions
	color    int32
	position int32
	flags    int32
	bits     uint8
	extra    *roleExtra
}

const (
	roleHoist uint8 = 1 << iota
	roleManaged
	roleMentionable
	roleColorsPrimary // RoleColors is {PrimaryColor: Color}
)

type roleExtra struct {
	guildID     snowflake.ID
	roleID      snowflake.ID
	gidOverride bool
	idOverride  bool
	wide        bool // the ints below are authoritative
	color       int
	position    int
	flags       discord.RoleFlags
	description *string
	colors      discord.RoleColors
	icon        *string
	emoji       *string
	tags        *discord.RoleTag
}

// NewRoleCache returns an empty compact role cache, for
// disgocache.WithRoleCache. Its RoleCache method returns the same cache as a
// disgocache.GroupedCache[discord.Role]. Without [WithConfigOpts] it stores
// every role it is given; with it, it honours disgo's FlagRoles and role
// cache policy.
//
// A guild's roles are stored in one slice of 56-byte records (disgo's
// discord.Role is 144 bytes, in a map of maps); a lookup scans the guild's
// slice, which is fast for Discord's limit of 250 roles per guild. The
// colours Discord now sends (primary = color, no secondary or tertiary) cost
// nothing; rarer fields live behind a pointer. Reads return a discord.Role
// equal to the one stored and do not allocate; pointer fields are shared
// with the stored value, as in disgo's default cache, and are read-only.
//
// The cache is safe for concurrent use. Iterators hold the read lock while
// they run: the loop body must not write to this cache.
func NewRoleCache(opts ...Option) disgocache.RoleCache {
	cfg := defaultConfig()
	cfg.apply(opts)
	if len(cfg.disgoOpts) == 0 {
		return newRoleCache(newAdmission[discord.Role](true, false, nil))
	}
	return newRoleCache(roleAdmission(probeCaches(cfg.disgoOpts), cfg.disgoOpts))
}

func roleAdmission(probe disgocache.Caches, opts []disgocache.ConfigOpt) *admission[discord.Role] {
	none := probe.CacheFlags().Missing(disgocache.FlagRoles)
	if !policySet(opts, "RoleCachePolicy") {
		return newAdmission[discord.Role](!none, none, nil)
	}
	return newAdmission(false, none, probe.RoleCache())
}

func newRoleCache(a *admission[discord.Role]) *roleCache {
	return &roleCache{admit: a, groups: make(map[snowflake.ID][]roleRec)}
}

func encodeRole(groupID, id snowflake.ID, r *discord.Role) roleRec {
	rec := roleRec{id: uint64(id), name: r.Name, perms: r.Permissions}
	var x roleExtra
	if r.ID != id {
		x.idOverride, x.roleID = true, r.ID
	}
	if fitsInt32(r.Color) && fitsInt32(r.Position) && fitsInt32(int(r.Flags)) {
		rec.color, rec.position, rec.flags = int32(r.Color), int32(r.Position), int32(r.Flags)
	} else {
		x.wide, x.color, x.position, x.flags = true, r.Color, r.Position, r.Flags
	}
	setBit8(&rec.bits, roleHoist, r.Hoist)
	setBit8(&rec.bits, roleManaged, r.Managed)
	setBit8(&rec.bits, roleMentionable, r.Mentionable)
	switch {
	case r.RoleColors == discord.RoleColors{}:
	case r.RoleColors == discord.RoleColors{PrimaryColor: r.Color}:
		rec.bits |= roleColorsPrimary
	default:
		x.colors = r.RoleColors
	}
	if r.GuildID != groupID {
		x.gidOverride, x.guildID = true, r.GuildID
	}
	x.description, x.icon, x.emoji, x.tags = r.Description, r.Icon, r.Emoji, r.Tags
	if x != (roleExtra{}) {
		e := x // only a role with rare fields pays for the allocation
		rec.extra = &e
	}
	return rec
}

func setBit8(bits *uint8, bit uint8, on bool) {
	if on {
		*bits |= bit
	}
}

func (rec *roleRec) decode(groupID snowflake.ID) discord.Role {
	r := discord.Role{
		ID: snowflake.ID(rec.id), GuildID: groupID, Name: rec.name, Permissions: rec.perms,
		Color: int(rec.color), Position: int(rec.position), Flags: discord.RoleFlags(rec.flags),
		Hoist: rec.bits&roleHoist != 0, Managed: rec.bits&roleManaged != 0, Mentionable: rec.bits&roleMentionable != 0,
	}
	if rec.bits&roleColorsPrimary != 0 {
		r.RoleColors.PrimaryColor = r.Color
	}
	if x := rec.extra; x != nil {
		if x.wide {
			r.Color, r.Position, r.Flags = x.color, x.position, x.flags
			if rec.bits&roleColorsPrimary != 0 {
				r.RoleColors.PrimaryColor = r.Color
			}
		}
		if x.gidOverride {
			r.GuildID = x.guildID
		}
		if x.idOverride {
			r.ID = x.roleID
		}
		if rec.bits&roleColorsPrimary == 0 {
			r.RoleColors = x.colors
		}
		r.Description, r.Icon, r.Emoji, r.Tags = x.description, x.icon, x.emoji, x.tags
	}
	return r
}

func findRole(recs []roleRec, id snowflake.ID) int {
	for i := range recs {
		if recs[i].id == uint64(id) {
			return i
		}
	}
	return -1
}

// RoleCache returns c itself, as a disgocache.GroupedCache.
func (c *roleCache) RoleCache() disgocache.GroupedCache[discord.Role] { return c }

// Role returns the role of guildID with roleID.
func (c *roleCache) Role(guildID, roleID snowflake.ID) (discord.Role, bool) {
	return c.Get(guildID, roleID)
}

// Roles iterates over the roles of guildID, in the order they were added.
func (c *roleCache) Roles(guildID snowflake.ID) iter.Seq[discord.Role] { return c.GroupAll(guildID) }

// RolesAllLen returns the number of roles in all guilds. O(1).
func (c *roleCache) RolesAllLen() int { return c.Len() }

// RolesLen returns the number of roles of guildID. O(1).
func (c *roleCache) RolesLen(guildID snowflake.ID) int { return c.GroupLen(guildID) }

// AddRole stores role under role.GuildID and role.ID.
func (c *roleCache) AddRole(role discord.Role) { c.Put(role.GuildID, role.ID, role) }

// RemoveRole removes the role of guildID with roleID and returns it.
func (c *roleCache) RemoveRole(guildID, roleID snowflake.ID) (discord.Role, bool) {
	return c.Remove(guildID, roleID)
}

// RemoveRolesByGuildID removes every role of guildID.
func (c *roleCache) RemoveRolesByGuildID(guildID snowflake.ID) { c.GroupRemove(guildID) }

// Get returns the role stored under groupID (the guild) and id.
func (c *roleCache) Get(groupID, id snowflake.ID) (discord.Role, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	recs := c.groups[groupID]
	if i := findRole(recs, id); i >= 0 {
		return recs[i].decode(groupID), true
	}
	return discord.Role{}, false
}

// Put stores entity under groupID and id when the flags and policy allow it.
func (c *roleCache) Put(groupID, id snowflake.ID, entity discord.Role) {
	if !c.admit.allows(entity) {
		return
	}
	rec := encodeRole(groupID, id, &entity)
	c.mu.Lock()
	defer c.mu.Unlock()
	recs := c.groups[groupID]
	if i := findRole(recs, id); i >= 0 {
		recs[i] = rec
		return
	}
	if len(recs) == cap(recs) {
		recs = growQuarter(recs) // a quarter at a time: less idle capacity
	}
	c.groups[groupID] = append(recs, rec)
	c.total++
}

// Remove removes the role under groupID and id and returns it. The order of
// the remaining roles is kept.
func (c *roleCache) Remove(groupID, id snowflake.ID) (discord.Role, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	recs := c.groups[groupID]
	i := findRole(recs, id)
	if i < 0 {
		return discord.Role{}, false
	}
	r := recs[i].decode(groupID)
	c.removeAt(groupID, recs, i)
	return r, true
}

func (c *roleCache) removeAt(groupID snowflake.ID, recs []roleRec, i int) {
	copy(recs[i:], recs[i+1:])
	recs[len(recs)-1] = roleRec{}
	recs = recs[:len(recs)-1]
	c.total--
	if len(recs) == 0 {
		delete(c.groups, groupID)
		return
	}
	c.groups[groupID] = recs
}

// GroupRemove removes every role of groupID.
func (c *roleCache) GroupRemove(groupID snowflake.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total -= len(c.groups[groupID])
	delete(c.groups, groupID)
}

// RemoveIf removes every role for which filterFunc returns true.
// filterFunc runs under the write lock and must not use this cache.
func (c *roleCache) RemoveIf(filterFunc disgocache.GroupedFilterFunc[discord.Role]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for gid := range c.groups {
		c.groupRemoveIf(gid, filterFunc)
	}
}

// GroupRemoveIf removes every role of groupID for which filterFunc returns
// true. filterFunc runs under the write lock and must not use this cache.
func (c *roleCache) GroupRemoveIf(groupID snowflake.ID, filterFunc disgocache.GroupedFilterFunc[discord.Role]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groupRemoveIf(groupID, filterFunc)
}

func (c *roleCache) groupRemoveIf(gid snowflake.ID, f disgocache.GroupedFilterFunc[discord.Role]) {
	recs := c.groups[gid]
	kept := recs[:0]
	for i := range recs {
		if !f(gid, recs[i].decode(gid)) {
			kept = append(kept, recs[i])
		}
	}
	clear(recs[len(kept):])
	c.total -= len(recs) - len(kept)
	if len(kept) == 0 {
		delete(c.groups, gid)
		return
	}
	c.groups[gid] = kept
}

// Len returns the number of roles in all guilds. O(1).
func (c *roleCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.total
}

// GroupLen returns the number of roles of groupID. O(1).
func (c *roleCache) GroupLen(groupID snowflake.ID) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.groups[groupID])
}

// All iterates over every role with its guild ID, holding the read lock.
func (c *roleCache) All() iter.Seq2[snowflake.ID, discord.Role] {
	return func(yield func(snowflake.ID, discord.Role) bool) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		for gid, recs := range c.groups {
			for i := range recs {
				if !yield(gid, recs[i].decode(gid)) {
					return
				}
			}
		}
	}
}

// GroupAll iterates over the roles of groupID, holding the read lock.
func (c *roleCache) GroupAll(groupID snowflake.ID) iter.Seq[discord.Role] {
	return func(yield func(discord.Role) bool) {
		c.mu.RLock()
		defer c.mu.RUnlock()
		recs := c.groups[groupID]
		for i := range recs {
			if !yield(recs[i].decode(groupID)) {
				return
			}
		}
	}
}
