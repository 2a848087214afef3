package cache

import (
	"testing"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/discordtest"
)

func newDisgoAll() disgocache.Caches {
	return disgocache.New(disgocache.WithCaches(disgocache.FlagsAll))
}

func newCompactAll() disgocache.Caches { return New(allFlags) }

// BenchmarkGuildCacheHeap loads 1000 guilds of 100 members, 50 channels and
// 20 roles into disgo's default caches and into ours, in the same run, and
// reports the live heap per guild of each and their ratio. Run it alone:
//
//	go test -run '^$' -bench GuildCacheHeap -benchtime 1x ./cache
func BenchmarkGuildCacheHeap(b *testing.B) {
	for _, tc := range []struct {
		name  string
		shape discordtest.GuildShape
	}{{"plain", plainShape}, {"varied", variedShape}} {
		b.Run(tc.name, func(b *testing.B) {
			gs := guildsFor(b, 1000, tc.shape)
			var def, comp float64
			for b.Loop() {
				var err error
				if def, err = measureHeapPerGuild(newDisgoAll, gs); err != nil {
					b.Fatal(err)
				}
				if comp, err = measureHeapPerGuild(newCompactAll, gs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(def, "disgo-B/guild")
			b.ReportMetric(comp, "B/guild")
			b.ReportMetric(comp/def, "ratio")
		})
	}
}

// loaded returns both caches loaded with 200 varied guilds.
func loaded(b *testing.B) (def, comp disgocache.Caches, gs []discordGuildRef) {
	b.Helper()
	evs := guildsFor(b, 200, variedShape)
	def, comp = newDisgoAll(), newCompactAll()
	for _, g := range evs {
		AddGuildCreate(def, g)
		AddGuildCreate(comp, g)
		ref := discordGuildRef{id: g.ID}
		for _, m := range g.Members {
			ref.members = append(ref.members, m.User.ID)
		}
		for _, r := range g.Roles {
			ref.roles = append(ref.roles, r.ID)
		}
		for _, ch := range g.Channels {
			ref.channels = append(ref.channels, ch.ID())
		}
		gs = append(gs, ref)
	}
	return def, comp, gs
}

type discordGuildRef struct {
	id       snowflake.ID
	members  []snowflake.ID
	roles    []snowflake.ID
	channels []snowflake.ID
}

// BenchmarkReads compares the cost of reads on disgo's default caches and
// ours, loaded with the same 200 varied guilds. Each read is one step i of
// the loop, over the guilds in turn.
func BenchmarkReads(b *testing.B) {
	def, comp, gs := loaded(b)
	reads := []struct {
		name string
		read func(b *testing.B, c disgocache.Caches, g discordGuildRef, i int)
	}{
		{"MemberGet", func(b *testing.B, c disgocache.Caches, g discordGuildRef, i int) {
			if _, ok := c.Member(g.id, g.members[i%len(g.members)]); !ok {
				b.Fatal("member missing")
			}
		}},
		{"MembersOfGuild", func(_ *testing.B, c disgocache.Caches, g discordGuildRef, _ int) {
			for range c.Members(g.id) {
			}
		}},
		{"MemberCacheAll", func(_ *testing.B, c disgocache.Caches, _ discordGuildRef, _ int) {
			for range c.MemberCache().All() {
			}
		}},
		{"RoleGet", func(b *testing.B, c disgocache.Caches, g discordGuildRef, i int) {
			if _, ok := c.Role(g.id, g.roles[i%len(g.roles)]); !ok {
				b.Fatal("role missing")
			}
		}},
		{"ChannelsForGuild", func(_ *testing.B, c disgocache.Caches, g discordGuildRef, _ int) {
			for range c.ChannelsForGuild(g.id) {
			}
		}},
		{"ChannelGet", func(b *testing.B, c disgocache.Caches, g discordGuildRef, i int) {
			if _, ok := c.Channel(g.channels[i%len(g.channels)]); !ok {
				b.Fatal("channel missing")
			}
		}},
	}
	for _, impl := range []struct {
		name string
		c    disgocache.Caches
	}{{"disgo", def}, {"compact", comp}} {
		c := impl.c
		for _, r := range reads {
			b.Run(r.name+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					r.read(b, c, gs[i%len(gs)], i)
					i++
				}
			})
		}
		b.Run("MemberPermissions/"+impl.name, func(b *testing.B) {
			g := gs[0]
			m, _ := c.Member(g.id, g.members[1])
			b.ReportAllocs()
			for b.Loop() {
				_ = c.MemberPermissions(m)
			}
		})
	}
}

// BenchmarkMemberUpdate compares the cost of a MEMBER_UPDATE (AddMember of
// an existing member) on both caches.
func BenchmarkMemberUpdate(b *testing.B) {
	def, comp, gs := loaded(b)
	for _, impl := range []struct {
		name string
		c    disgocache.Caches
	}{{"disgo", def}, {"compact", comp}} {
		c := impl.c
		b.Run(impl.name, func(b *testing.B) {
			g := gs[3]
			m, _ := c.Member(g.id, g.members[7])
			b.ReportAllocs()
			for b.Loop() {
				c.AddMember(m)
			}
		})
	}
}
