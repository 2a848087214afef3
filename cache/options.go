package cache

import (
	"reflect"
	"sync"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/snowflake/v2"
)

// config holds the options of [New] and of the individual constructors.
type config struct {
	// disgoOpts are disgo's own cache options, passed through.
	disgoOpts []disgocache.ConfigOpt
}

func defaultConfig() config {
	return config{}
}

// Option configures [New], [NewMemberCache], [NewRoleCache] and
// [NewChannelCache].
type Option func(*config)

// WithConfigOpts passes disgo's own cache options through: the cache flags
// (disgocache.WithCaches), the per-entity policies
// (disgocache.WithMemberCachePolicy, WithRoleCachePolicy, ...) and any
// sub-cache replacement (disgocache.WithChannelCache, ...). The compact
// caches honour the flags and policies exactly as disgo's default caches do:
// an entity is stored only when disgo's default cache, built from the same
// options, would store it. Options accumulate over repeated calls.
//
// For [New], as for disgo's cache.New, no options means no flags, so
// nothing is cached. The individual constructors store everything when they
// get no disgo options; with options, they follow the flags and policies.
func WithConfigOpts(opts ...disgocache.ConfigOpt) Option {
	return func(c *config) {
		c.disgoOpts = append(c.disgoOpts, opts...)
	}
}

func (c *config) apply(opts []Option) {
	for _, o := range opts {
		o(c)
	}
}

// probeCaches returns disgo's default caches built from opts, with the
// member, role and channel caches forced back to disgo's defaults, so that
// admission probes never touch a cache the caller passed in.
func probeCaches(opts []disgocache.ConfigOpt) disgocache.Caches {
	all := make([]disgocache.ConfigOpt, 0, len(opts)+3)
	all = append(all, opts...)
	all = append(all, disgocache.WithMemberCache(nil), disgocache.WithRoleCache(nil), disgocache.WithChannelCache(nil))
	return disgocache.New(all...)
}

// applyToZero applies opts to a zero value of the configuration type they
// configure. For disgo's ConfigOpt that type is unexported; type inference
// names it for us.
func applyToZero[C any, F ~func(*C)](opts []F) *C {
	c := new(C)
	for _, o := range opts {
		o(c)
	}
	return c
}

// policySet reports whether opts set disgo's policy field (for example
// "MemberCachePolicy"). It reads the field through reflection, only to ask
// whether it is nil. When it cannot tell (a disgo version whose config has
// no such field), it reports true, which keeps the exact but slower path.
func policySet(opts []disgocache.ConfigOpt, field string) bool {
	f := reflect.ValueOf(applyToZero(opts)).Elem().FieldByName(field)
	if !f.IsValid() || f.Kind() != reflect.Func {
		return true
	}
	return !f.IsNil()
}

// admission decides whether an entity may be cached, by asking a private
// instance of disgo's default grouped cache built from the same options: its
// Put applies the flags and the policy, and the entity is removed again at
// once. This keeps the exact semantics of every disgo policy, including
// composed ones, without calling disgo's unexported configuration.
//
// When the options set no policy for the cache (the usual case), only the
// flags decide and there is no probe. With a policy, a check costs the
// policy call plus a Put and a Remove on disgo's map, about 1 µs and one
// allocation of the entity (232 bytes for a member), serialised by mu. A
// policy runs under mu, outside the caller's locks, so it may read other
// caches (PolicyMembersInVoice does) but must not write to the cache it
// guards.
type admission[T any] struct {
	all   bool // admit everything, no probe
	none  bool // the flags exclude this cache
	mu    sync.Mutex
	probe func(T) bool // puts into and removes from disgo's cache; under mu
}

const probeKey = snowflake.ID(0)

// newAdmission returns an admission that asks probe, a grouped cache, when
// neither all nor none is set.
func newAdmission[T any](all, none bool, probe disgocache.GroupedCache[T]) *admission[T] {
	a := &admission[T]{all: all, none: none}
	if probe != nil {
		a.probe = func(v T) bool {
			probe.Put(probeKey, probeKey, v)
			_, ok := probe.Remove(probeKey, probeKey)
			return ok
		}
	}
	return a
}

// newFlatAdmission is newAdmission for a flat (ungrouped) cache.
func newFlatAdmission[T any](all, none bool, probe disgocache.Cache[T]) *admission[T] {
	a := &admission[T]{all: all, none: none}
	if probe != nil {
		a.probe = func(v T) bool {
			probe.Put(probeKey, v)
			_, ok := probe.Remove(probeKey)
			return ok
		}
	}
	return a
}

// allows reports whether v may be cached.
func (a *admission[T]) allows(v T) bool {
	if a.all {
		return true
	}
	if a.none {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.probe(v)
}
