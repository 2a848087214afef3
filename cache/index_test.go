package cache

import (
	"math/rand/v2"
	"testing"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// TestIDIndexMatchesMap drives a member group through random adds,
// updates and removals, checking every lookup against a map. Small ID
// ranges force collisions and long probe chains; the sizes cross the
// linear-scan threshold in both directions.
func TestIDIndexMatchesMap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ids  uint64 // IDs are drawn from [1, ids]
		ops  int
		mul  uint64 // spreads IDs; 1<<32 makes many share hash bits
	}{
		{"dense small", 12, 5000, 1},
		{"dense large", 600, 20000, 1},
		{"colliding", 300, 20000, 1 << 32},
		{"snowflake-like", 2000, 30000, 1 << 22},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, tc.ids))
			c := NewMemberCache().(*memberCache)
			want := map[uint64]bool{}
			const gid = 5
			for op := range tc.ops {
				id := (1 + rng.Uint64N(tc.ids)) * tc.mul
				if rng.IntN(3) == 0 {
					_, ok := c.removeID(gid, id)
					if ok != want[id] {
						t.Fatalf("op %d: remove %d = %v, want %v", op, id, ok, want[id])
					}
					delete(want, id)
				} else {
					c.putID(gid, id)
					want[id] = true
				}
				if op%97 == 0 || op == tc.ops-1 {
					for k := uint64(1); k <= tc.ids; k++ {
						_, ok := c.getID(gid, k*tc.mul)
						if ok != want[k*tc.mul] {
							t.Fatalf("op %d: find %d = %v, want %v", op, k*tc.mul, ok, want[k*tc.mul])
						}
					}
					if c.GroupLen(gid) != len(want) {
						t.Fatalf("op %d: GroupLen %d, want %d", op, c.GroupLen(gid), len(want))
					}
				}
			}
		})
	}
}

func (c *memberCache) putID(gid, id uint64) {
	c.AddMember(memberFor(gid, id))
}

func (c *memberCache) getID(gid, id uint64) (uint64, bool) {
	m, ok := c.Member(snowflakeID(gid), snowflakeID(id))
	if ok && uint64(m.User.ID) != id {
		panic("index returned the wrong member")
	}
	return uint64(m.User.ID), ok
}

func (c *memberCache) removeID(gid, id uint64) (uint64, bool) {
	m, ok := c.RemoveMember(snowflakeID(gid), snowflakeID(id))
	return uint64(m.User.ID), ok
}

func snowflakeID(v uint64) snowflake.ID { return snowflake.ID(v) }

func memberFor(gid, id uint64) discord.Member {
	return discord.Member{GuildID: snowflake.ID(gid), User: discord.User{ID: snowflake.ID(id), Username: "u"}}
}
