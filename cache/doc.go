// Package cache provides compact caches for disgo that hold the same data as
// disgo's default caches in about half the heap. Callers usually import it
// as mcache, next to disgo's own cache package:
//
//	caches := mcache.New(mcache.WithConfigOpts(disgocache.WithCaches(disgocache.FlagsAll)))
//	client, err := disgo.New(token, bot.WithCaches(caches), ...)
//
// [New] returns disgo's Caches with three sub-caches replaced:
//
//   - The member cache ([NewMemberCache]) stores each member as a 56-byte
//     record plus one packed string, per guild, with an int32 hash index.
//     Snowflakes are uint64, times are unix nanoseconds, flags and booleans
//     are bits, role IDs are indices into the guild's interned role table,
//     avatar hashes are 16 bytes of binary, and the fields that are rarely
//     set (banners, premium_since, timeouts, decorations, collectibles,
//     primary guild) live behind one pointer that is usually nil.
//   - The role cache ([NewRoleCache]) stores a guild's roles as one slice of
//     56-byte records.
//   - The channel cache ([NewChannelCache]) keeps disgo's channel values
//     (their fields are unexported, so only disgo's decoder can build them)
//     and adds an index by guild, so per-guild reads and removals no longer
//     scan every channel.
//
// Each constructor returns disgo's own interface (disgocache.MemberCache,
// RoleCache, ChannelCache); its MemberCache, RoleCache or ChannelCache
// method returns the same cache as disgo's generic GroupedCache or Cache.
//
// The guild cache stays disgo's: at about 600 bytes per guild it is 1 to 2%
// of the total, and compacting it would not pay for itself.
//
// # Equality with disgo
//
// Every read rebuilds a value equal (reflect.DeepEqual) to the one disgo's
// default cache returns for the same events, with one documented
// difference: member JoinedAt times come back in UTC, so compare times with
// Equal. The tests load the same GUILD_CREATE, member, role and channel
// events into both caches and compare every Get, All and per-guild read.
//
// # Memory and cost
//
// Measured as the live heap per guild after loading 1000 guilds of 100
// members, 50 channels and 20 roles (BenchmarkGuildCacheHeap in the package
// tests): about 0.5 of disgo's default heap for discordtest's plain guilds
// and about 0.55 for varied, realistic ones. The price is paid on reads: a
// member read allocates (usually twice) and costs a few hundred
// nanoseconds, where disgo's copies a struct; writes encode the member. Role
// and channel reads cost what disgo's cost.
//
// # Flags and policies
//
// disgo's flags and policies, passed with [WithConfigOpts], are honoured
// exactly: an entity is stored when disgo's default cache built from the
// same options would store it. When the options set no policy for a cache,
// only the flags are checked; when they do, the policy runs through a
// private instance of disgo's default cache (about 1 µs per write).
//
// All caches are safe for concurrent use: the event goroutine writes while
// any goroutine reads. Like disgo's, iterators hold a read lock while they
// run, so a loop body must not write to the cache it iterates.
package cache
