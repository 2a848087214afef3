package cache

import (
	"sync"
	"testing"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
)

// TestConcurrentReadsDuringEvents reads from several goroutines while one
// goroutine applies GUILD_CREATE, MEMBER_UPDATE, MEMBER_REMOVE, role
// updates and GUILD_DELETE, as disgo's event goroutine does. Run under -race
// it proves the locking; the readers also check that every member they see
// is whole (its user, guild and roles belong together), and the end state is
// compared with disgo's default cache fed the same events.
func TestConcurrentReadsDuringEvents(t *testing.T) {
	t.Parallel()
	gs := guildsFor(t, 12, variedShape)
	want := disgocache.New(disgocache.WithCaches(disgocache.FlagsAll))
	got := New(allFlags)
	valid := map[string]bool{} // "guild/user" pairs that exist in gs
	for _, g := range gs {
		for _, m := range g.Members {
			valid[g.ID.String()+"/"+m.User.ID.String()] = true
		}
	}

	done := make(chan struct{})
	errs := make(chan string, 64) // readers report at most one error each
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check := func(gid string, m discord.Member) bool {
				if !valid[gid+"/"+m.User.ID.String()] || m.GuildID.String() != gid || m.User.Username == "" {
					errs <- "torn member read: " + gid + " " + m.User.ID.String()
					return false
				}
				return true
			}
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				g := gs[(i+r)%len(gs)]
				gid := g.ID.String()
				switch i % 5 {
				case 0:
					for m := range got.Members(g.ID) {
						if !check(gid, m) {
							return
						}
					}
				case 1:
					if m, ok := got.Member(g.ID, g.Members[i%len(g.Members)].User.ID); ok && !check(gid, m) {
						return
					}
				case 2:
					for id, m := range got.MemberCache().All() {
						if !check(id.String(), m) {
							return
						}
						break
					}
				case 3:
					for range got.Roles(g.ID) {
					}
					_ = got.RolesLen(g.ID) + got.MembersAllLen()
				case 4:
					if m, ok := got.Member(g.ID, g.Members[0].User.ID); ok {
						_ = got.MemberPermissions(m)
					}
				}
			}
		}()
	}

	apply := func(f func(c disgocache.Caches)) { f(want); f(got) }
	for round := range 3 {
		for _, g := range gs {
			apply(func(c disgocache.Caches) { AddGuildCreate(c, g) })
		}
		for gi, g := range gs {
			for mi, m := range g.Members {
				m.GuildID = g.ID
				switch (mi + round + gi) % 4 {
				case 0:
					apply(func(c disgocache.Caches) { c.RemoveMember(g.ID, m.User.ID) })
				case 1:
					nick := "n" + m.User.Username
					m.Nick = &nick
					apply(func(c disgocache.Caches) { c.AddMember(m) })
				}
			}
			if len(g.Roles) > 2 {
				apply(func(c disgocache.Caches) { c.RemoveRole(g.ID, g.Roles[1].ID) })
			}
			if gi%5 == round {
				apply(func(c disgocache.Caches) {
					c.RemoveMembersByGuildID(g.ID)
					c.RemoveRolesByGuildID(g.ID)
				})
			}
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	assertSameCaches(t, want, got, guildIDsOf(gs))
}
