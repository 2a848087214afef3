package cache

import (
	"testing"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/discordtest"
)

// TestNewHonoursFlagsAndPolicies builds disgo's default caches and ours from
// the same disgo options and checks they store the same things.
func TestNewHonoursFlagsAndPolicies(t *testing.T) {
	t.Parallel()
	gs := guildsFor(t, 12, variedShape)
	cases := []struct {
		name string
		opts []disgocache.ConfigOpt
	}{
		{"no options caches nothing", nil},
		{"roles only", []disgocache.ConfigOpt{disgocache.WithCaches(disgocache.FlagRoles)}},
		{"members only", []disgocache.ConfigOpt{disgocache.WithCaches(disgocache.FlagMembers)}},
		{"member policy include", []disgocache.ConfigOpt{
			disgocache.WithCaches(disgocache.FlagsAll),
			disgocache.WithMemberCachePolicy(disgocache.PolicyMembersInclude(gs[1].ID, gs[4].ID)),
		}},
		{"composed member policy", []disgocache.ConfigOpt{
			disgocache.WithCaches(disgocache.FlagMembers, disgocache.FlagRoles),
			disgocache.WithMemberCachePolicy(disgocache.AnyPolicy(
				disgocache.PolicyMembersPending,
				func(m discord.Member) bool { return m.Nick != nil },
			)),
		}},
		{"role policy", []disgocache.ConfigOpt{
			disgocache.WithCaches(disgocache.FlagsAll),
			disgocache.WithRoleCachePolicy(func(r discord.Role) bool { return r.Hoist }),
		}},
		{"channel policy", []disgocache.ConfigOpt{
			disgocache.WithCaches(disgocache.FlagChannels),
			disgocache.WithChannelCachePolicy(func(ch discord.GuildChannel) bool { return ch.Type() != discord.ChannelTypeGuildVoice }),
		}},
		{"policy none", []disgocache.ConfigOpt{
			disgocache.WithCaches(disgocache.FlagsAll),
			disgocache.WithMemberCachePolicy(disgocache.PolicyNone[discord.Member]),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := disgocache.New(tc.opts...)
			got := New(WithConfigOpts(tc.opts...))
			if want.CacheFlags() != got.CacheFlags() {
				t.Errorf("CacheFlags = %v, want %v", got.CacheFlags(), want.CacheFlags())
			}
			for _, g := range gs {
				AddGuildCreate(want, g)
				AddGuildCreate(got, g)
			}
			assertSameCaches(t, want, got, guildIDsOf(gs))
		})
	}
}

// TestNewUsesCompactCaches checks which sub-caches New installs, and that
// a sub-cache the user passes through wins.
func TestNewUsesCompactCaches(t *testing.T) {
	t.Parallel()
	c := New(allFlags)
	if _, ok := c.MemberCache().(*memberCache); !ok {
		t.Errorf("MemberCache() is %T, want *memberCache", c.MemberCache())
	}
	if _, ok := c.RoleCache().(*roleCache); !ok {
		t.Errorf("RoleCache() is %T, want *roleCache", c.RoleCache())
	}
	if _, ok := c.ChannelCache().(*channelCache); !ok {
		t.Errorf("ChannelCache() is %T, want *channelCache", c.ChannelCache())
	}
	own := disgocache.NewMemberCache(disgocache.NewGroupedCache[discord.Member](disgocache.FlagsAll, disgocache.FlagMembers, nil))
	c = New(allFlags, WithConfigOpts(disgocache.WithMemberCache(own)))
	if c.MemberCache() != own.MemberCache() {
		t.Errorf("MemberCache() is %T, want the one passed with disgocache.WithMemberCache", c.MemberCache())
	}
	if _, ok := c.RoleCache().(*roleCache); !ok {
		t.Errorf("RoleCache() is %T, want *roleCache", c.RoleCache())
	}
}

// TestStandaloneAdmission covers the individual constructors: everything
// without disgo options, disgo's flags and policies with them.
func TestStandaloneAdmission(t *testing.T) {
	t.Parallel()
	pending := discord.Member{GuildID: 1, User: discord.User{ID: 2}, Pending: true}
	settled := discord.Member{GuildID: 1, User: discord.User{ID: 3}}
	hoisted := discord.Role{ID: 4, GuildID: 1, Hoist: true}
	plain := discord.Role{ID: 5, GuildID: 1}
	gs := guildsFor(t, 1, discordtest.GuildShape{Channels: 4}) // a category, two text channels, a voice channel
	voice := discord.ApplyGuildIDToChannel(gs[0].Channels[3], gs[0].ID)
	text := discord.ApplyGuildIDToChannel(gs[0].Channels[1], gs[0].ID)
	cases := []struct {
		name                  string
		opts                  []Option
		wantMembers, wantRole int
		wantChannels          int
	}{
		{"no options stores all", nil, 2, 2, 2},
		{"flags without members, roles and channels", []Option{WithConfigOpts(disgocache.WithCaches(disgocache.FlagGuilds))}, 0, 0, 0},
		{"flags all", []Option{allFlags}, 2, 2, 2},
		{"policies", []Option{allFlags, WithConfigOpts(
			disgocache.WithMemberCachePolicy(disgocache.PolicyMembersPending),
			disgocache.WithRoleCachePolicy(func(r discord.Role) bool { return r.Hoist }),
			disgocache.WithChannelCachePolicy(func(ch discord.GuildChannel) bool { return ch.Type() == discord.ChannelTypeGuildVoice }),
		)}, 1, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mc, rc, cc := NewMemberCache(tc.opts...), NewRoleCache(tc.opts...), NewChannelCache(tc.opts...)
			cc.AddChannel(voice)
			cc.AddChannel(text)
			if cc.ChannelsLen() != tc.wantChannels {
				t.Fatalf("stored %d channels, want %d", cc.ChannelsLen(), tc.wantChannels)
			}
			mc.AddMember(pending)
			mc.AddMember(settled)
			rc.AddRole(hoisted)
			rc.AddRole(plain)
			if mc.MembersAllLen() != tc.wantMembers || rc.RolesAllLen() != tc.wantRole {
				t.Fatalf("stored %d members and %d roles, want %d and %d", mc.MembersAllLen(), rc.RolesAllLen(), tc.wantMembers, tc.wantRole)
			}
			if tc.wantMembers == 1 {
				if _, ok := mc.Member(1, 2); !ok {
					t.Error("the pending member was not stored")
				}
			}
		})
	}
}

// TestPolicyDetection pins the fast path: with disgo v0.19.6, options that
// set no policy are recognised, so admission needs no probe.
func TestPolicyDetection(t *testing.T) {
	t.Parallel()
	member := disgocache.WithMemberCachePolicy(disgocache.PolicyMembersPending)
	cases := []struct {
		name       string
		opts       []disgocache.ConfigOpt
		field      string
		wantPolicy bool
	}{
		{"no options", nil, "MemberCachePolicy", false},
		{"flags only", []disgocache.ConfigOpt{disgocache.WithCaches(disgocache.FlagsAll)}, "MemberCachePolicy", false},
		{"member policy", []disgocache.ConfigOpt{member}, "MemberCachePolicy", true},
		{"member policy, role field", []disgocache.ConfigOpt{member}, "RoleCachePolicy", false},
		{"unknown field falls back to the probe", nil, "NoSuchField", true},
		{"non-func field falls back to the probe", nil, "CacheFlags", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := policySet(tc.opts, tc.field); got != tc.wantPolicy {
				t.Fatalf("policySet(%s) = %v, want %v", tc.field, got, tc.wantPolicy)
			}
		})
	}
	if a := New(allFlags).MemberCache().(*memberCache).admit; !a.all || a.probe != nil {
		t.Errorf("New with flags only: admission %+v, want admit-all without a probe", a)
	}
}

// TestProbeNeverTouchesCallersCache: when the caller passes its own member
// cache and a policy, admission probes a private cache, not the caller's.
func TestProbeNeverTouchesCallersCache(t *testing.T) {
	t.Parallel()
	counted := &countingPuts{GroupedCache: disgocache.NewGroupedCache[discord.Member](disgocache.FlagsAll, disgocache.FlagMembers, nil)}
	theirs := disgocache.NewMemberCache(counted)
	var seen int
	spy := func(discord.Member) bool { seen++; return true }
	mc := NewMemberCache(WithConfigOpts(disgocache.WithCaches(disgocache.FlagsAll),
		disgocache.WithMemberCache(theirs), disgocache.WithMemberCachePolicy(spy)))
	mc.AddMember(discord.Member{GuildID: 1, User: discord.User{ID: 2}})
	if seen != 1 || mc.MembersAllLen() != 1 {
		t.Fatalf("policy calls %d, members %d; want 1, 1", seen, mc.MembersAllLen())
	}
	if counted.puts != 0 {
		t.Fatalf("the caller's cache saw %d puts, want 0", counted.puts)
	}
}

// countingPuts counts Put calls; the test using it is single-goroutine.
type countingPuts struct {
	disgocache.GroupedCache[discord.Member]
	puts int
}

func (c *countingPuts) Put(groupID, id snowflake.ID, m discord.Member) {
	c.puts++
	c.GroupedCache.Put(groupID, id, m)
}
