package cache

import (
	disgocache "github.com/disgoorg/disgo/cache"
)

// New returns disgo Caches whose member and role caches are the compact ones
// of [NewMemberCache] and [NewRoleCache], whose channel cache is the
// guild-indexed one of [NewChannelCache], and whose other caches are disgo's
// defaults.
// Pass it to a client with bot.WithCaches.
//
// Everything disgo's cache.New accepts is honoured through
// [WithConfigOpts]: the flags, the policies (the compact caches store an
// entity exactly when disgo's default cache would), and sub-cache
// replacements, which win over the compact ones. As with disgo's cache.New,
// nothing is cached unless the flags enable it, e.g.
// WithConfigOpts(disgocache.WithCaches(disgocache.FlagsAll)).
//
// The result is safe for concurrent use, as disgo's is.
func New(opts ...Option) disgocache.Caches {
	cfg := defaultConfig()
	cfg.apply(opts)
	// probe is a private set of disgo's default caches built from the same
	// options; the compact caches ask it what to admit.
	probe := probeCaches(cfg.disgoOpts)
	members := newMemberCache(memberAdmission(probe, cfg.disgoOpts))
	roles := newRoleCache(roleAdmission(probe, cfg.disgoOpts))
	channels := newChannelCache(channelAdmission(probe, cfg.disgoOpts))
	all := make([]disgocache.ConfigOpt, 0, len(cfg.disgoOpts)+3)
	all = append(all, disgocache.WithMemberCache(members), disgocache.WithRoleCache(roles), disgocache.WithChannelCache(channels))
	all = append(all, cfg.disgoOpts...)
	return disgocache.New(all...)
}
