package cache

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"go.uber.org/goleak"

	"github.com/megane-go/megane/discordtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// guildsFor returns n of discordtest's generated guilds of shape, decoded
// by disgo's own decoder, so the values are exactly what a bot receives.
// It keeps them per shape, since several tests share them.
var guildsFor = func() func(t testing.TB, n int, shape discordtest.GuildShape) []gateway.EventGuildCreate {
	type key struct {
		n     int
		shape discordtest.GuildShape
	}
	var mu sync.Mutex
	memo := map[key][]gateway.EventGuildCreate{}
	return func(t testing.TB, n int, shape discordtest.GuildShape) []gateway.EventGuildCreate {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if gs, ok := memo[key{n, shape}]; ok {
			return gs
		}
		gs, err := decodeGuilds(discordtest.GuildCreatePayloads(n, shape))
		if err != nil {
			t.Fatal(err)
		}
		memo[key{n, shape}] = gs
		return gs
	}
}()

// decodeGuilds decodes GUILD_CREATE data with disgo's decoder.
func decodeGuilds(payloads [][]byte) ([]gateway.EventGuildCreate, error) {
	out := make([]gateway.EventGuildCreate, len(payloads))
	for i, p := range payloads {
		if err := json.Unmarshal(p, &out[i]); err != nil {
			return nil, fmt.Errorf("decoding guild %d: %w", i, err)
		}
	}
	return out, nil
}

var (
	plainShape  = discordtest.GuildShape{Members: 100, Channels: 50, Roles: 20}
	variedShape = discordtest.GuildShape{Members: 100, Channels: 50, Roles: 20, Varied: true}
)

// allFlags is the disgo option that enables every cache.
var allFlags = WithConfigOpts(disgocache.WithCaches(disgocache.FlagsAll))

// utc returns a copy of t in UTC without a monotonic reading, or nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Round(0)
	return &u
}

// normMember normalises time zones, the one documented difference.
func normMember(m discord.Member) discord.Member {
	m.JoinedAt = utc(m.JoinedAt)
	m.PremiumSince = utc(m.PremiumSince)
	m.CommunicationDisabledUntil = utc(m.CommunicationDisabledUntil)
	return m
}

func sortedMembers(seq func(func(discord.Member) bool)) []discord.Member {
	var out []discord.Member
	for m := range seq {
		out = append(out, normMember(m))
	}
	slices.SortFunc(out, func(a, b discord.Member) int { return cmp.Compare(a.User.ID, b.User.ID) })
	return out
}

func sortedRoles(seq func(func(discord.Role) bool)) []discord.Role {
	var out []discord.Role
	for r := range seq {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b discord.Role) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

type pair[T any] struct {
	gid snowflake.ID
	v   T
}

func sortedAll[T any](seq func(func(snowflake.ID, T) bool), norm func(T) T, id func(T) snowflake.ID) []pair[T] {
	var out []pair[T]
	for g, v := range seq {
		out = append(out, pair[T]{g, norm(v)})
	}
	slices.SortFunc(out, func(a, b pair[T]) int {
		return cmp.Or(cmp.Compare(a.gid, b.gid), cmp.Compare(id(a.v), id(b.v)))
	})
	return out
}

// assertSameCaches compares every member and role read of want (disgo's
// default cache) and got (ours) for the given guilds.
func assertSameCaches(t *testing.T, want, got disgocache.Caches, guildIDs []snowflake.ID) {
	t.Helper()
	if w, g := want.MembersAllLen(), got.MembersAllLen(); w != g {
		t.Errorf("MembersAllLen = %d, want %d", g, w)
	}
	if w, g := want.RolesAllLen(), got.RolesAllLen(); w != g {
		t.Errorf("RolesAllLen = %d, want %d", g, w)
	}
	for _, gid := range guildIDs {
		if w, g := want.MembersLen(gid), got.MembersLen(gid); w != g {
			t.Errorf("guild %d: MembersLen = %d, want %d", gid, g, w)
		}
		if w, g := want.RolesLen(gid), got.RolesLen(gid); w != g {
			t.Errorf("guild %d: RolesLen = %d, want %d", gid, g, w)
		}
		wm, gm := sortedMembers(want.Members(gid)), sortedMembers(got.Members(gid))
		if !reflect.DeepEqual(wm, gm) {
			t.Errorf("guild %d: Members differ:\n got %+v\nwant %+v", gid, firstDiff(gm, wm), firstDiff(wm, gm))
		}
		for _, m := range wm {
			g, ok := got.Member(gid, m.User.ID)
			if !ok || !reflect.DeepEqual(normMember(g), m) {
				t.Errorf("guild %d: Member(%d) = %+v, %v; want %+v", gid, m.User.ID, g, ok, m)
			}
			if w, g := want.MemberPermissions(m), got.MemberPermissions(m); w != g {
				t.Errorf("guild %d: MemberPermissions(%d) = %d, want %d", gid, m.User.ID, g, w)
			}
			if w, g := len(want.MemberRoles(m)), len(got.MemberRoles(m)); w != g {
				t.Errorf("guild %d: len(MemberRoles(%d)) = %d, want %d", gid, m.User.ID, g, w)
			}
		}
		wr, gr := sortedRoles(want.Roles(gid)), sortedRoles(got.Roles(gid))
		if !reflect.DeepEqual(wr, gr) {
			t.Errorf("guild %d: Roles differ:\n got %+v\nwant %+v", gid, gr, wr)
		}
		for _, r := range wr {
			if g, ok := got.Role(gid, r.ID); !ok || !reflect.DeepEqual(g, r) {
				t.Errorf("guild %d: Role(%d) = %+v, %v; want %+v", gid, r.ID, g, ok, r)
			}
		}
	}
	assertSameChannels(t, want, got, guildIDs)
	memberID := func(m discord.Member) snowflake.ID { return m.User.ID }
	if w, g := sortedAll(want.MemberCache().All(), normMember, memberID), sortedAll(got.MemberCache().All(), normMember, memberID); !reflect.DeepEqual(w, g) {
		t.Errorf("MemberCache().All() differs: %d vs %d entries", len(g), len(w))
	}
	roleID := func(r discord.Role) snowflake.ID { return r.ID }
	same := func(r discord.Role) discord.Role { return r }
	if w, g := sortedAll(want.RoleCache().All(), same, roleID), sortedAll(got.RoleCache().All(), same, roleID); !reflect.DeepEqual(w, g) {
		t.Errorf("RoleCache().All() differs: %d vs %d entries", len(g), len(w))
	}
}

// firstDiff returns the first element of a that differs from b's element at
// the same index, to keep failure messages short.
func firstDiff[T any](a, b []T) any {
	for i := range a {
		if i >= len(b) || !reflect.DeepEqual(a[i], b[i]) {
			return a[i]
		}
	}
	return nil
}

func guildIDsOf(gs []gateway.EventGuildCreate) []snowflake.ID {
	ids := make([]snowflake.ID, len(gs))
	for i := range gs {
		ids[i] = gs[i].ID
	}
	return ids
}

func sortedChannels(seq func(func(discord.GuildChannel) bool)) []discord.GuildChannel {
	var out []discord.GuildChannel
	for ch := range seq {
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b discord.GuildChannel) int { return cmp.Compare(a.ID(), b.ID()) })
	return out
}

// assertSameChannels compares every channel read of want and got.
func assertSameChannels(t *testing.T, want, got disgocache.Caches, guildIDs []snowflake.ID) {
	t.Helper()
	if w, g := want.ChannelsLen(), got.ChannelsLen(); w != g {
		t.Errorf("ChannelsLen = %d, want %d", g, w)
	}
	wc, gc := sortedChannels(want.Channels()), sortedChannels(got.Channels())
	if !reflect.DeepEqual(wc, gc) {
		t.Errorf("Channels differ: %d vs %d", len(gc), len(wc))
	}
	for _, ch := range wc {
		if g, ok := got.Channel(ch.ID()); !ok || !reflect.DeepEqual(g, ch) {
			t.Errorf("Channel(%d) = %+v, %v; want %+v", ch.ID(), g, ok, ch)
		}
	}
	for _, gid := range guildIDs {
		w, g := sortedChannels(want.ChannelsForGuild(gid)), sortedChannels(got.ChannelsForGuild(gid))
		if !reflect.DeepEqual(w, g) {
			t.Errorf("guild %d: ChannelsForGuild differ: %d vs %d", gid, len(g), len(w))
		}
	}
}
