package cache_test

import (
	"encoding/json"
	"fmt"
	"reflect"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"

	mcache "github.com/megane-go/megane/cache"
	"github.com/megane-go/megane/discordtest"
)

// New gives disgo Caches with the compact member and role caches. A bot
// passes it with bot.WithCaches(caches); here a GUILD_CREATE is applied by
// hand, the way disgo's handler applies it.
func ExampleNew() {
	caches := mcache.New(mcache.WithConfigOpts(disgocache.WithCaches(disgocache.FlagsAll)))

	// A Discord-shaped GUILD_CREATE from the fake Discord's generator.
	var g gateway.EventGuildCreate
	payload := discordtest.GuildCreatePayloads(1, discordtest.GuildShape{Members: 3, Channels: 4, Roles: 2})[0]
	if err := json.Unmarshal(payload, &g); err != nil {
		fmt.Println(err)
		return
	}
	mcache.AddGuildCreate(caches, g)

	fmt.Println("members:", caches.MembersLen(g.ID), "roles:", caches.RolesLen(g.ID), "channels:", caches.ChannelsLen())
	m, _ := caches.Member(g.ID, g.Members[1].User.ID)
	fmt.Println(m.User.Username, m.EffectiveName(), len(m.RoleIDs), m.JoinedAt.Format("2006-01-02"))
	fmt.Println("can send messages:", caches.MemberPermissions(m).Has(discord.PermissionSendMessages))

	// The same member, read from disgo's own cache, is equal.
	plain := disgocache.New(disgocache.WithCaches(disgocache.FlagsAll))
	mcache.AddGuildCreate(plain, g)
	want, _ := plain.Member(g.ID, m.User.ID)
	fmt.Println("equal to disgo's:", reflect.DeepEqual(want.User, m.User) && want.JoinedAt.Equal(*m.JoinedAt) && want.RoleIDs[0] == m.RoleIDs[0])
	// Output:
	// members: 3 roles: 2 channels: 4
	// user1 User 1 1 2023-03-14
	// can send messages: true
	// equal to disgo's: true
}

// A member cache on its own stores every member it is given; it rebuilds
// disgo's Member on every read.
func ExampleNewMemberCache() {
	members := mcache.NewMemberCache()
	nick := "Mina"
	members.AddMember(discord.Member{
		GuildID: 10,
		User:    discord.User{ID: 20, Username: "mina", Discriminator: "0"},
		Nick:    &nick,
		RoleIDs: []snowflake.ID{30, 31},
	})
	m, ok := members.Member(10, 20)
	fmt.Println(ok, m.EffectiveName(), m.RoleIDs, members.MembersLen(10))
	// Output: true Mina [30 31] 1
}
