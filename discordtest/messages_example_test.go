package discordtest_test

import (
	"fmt"
	"net/http"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"

	"github.com/megane-go/megane/discordtest"
)

// A bot's replies go through disgo's REST client to the fake, which answers
// with a Discord message and records what was posted.
func ExampleServer_Posted() {
	s, err := discordtest.Start(discordtest.WithGuilds(2))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	client := rest.New(rest.NewClient(s.Token(),
		rest.WithURL(s.APIURL()),
		rest.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}),
		rest.WithRateLimiter(rest.NewNoopRateLimiter())))

	guild := s.GuildIDs(0, 1)[0]
	channel := s.TextChannels(guild)[0]
	m, err := client.CreateMessage(channel, discord.MessageCreate{Content: "pong"})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Content, m.Author.ID == s.ApplicationID(), *m.GuildID == guild)

	_, err = client.CreateMessage(1, discord.MessageCreate{Content: "pong"})
	fmt.Println(err)

	for _, p := range s.Posted() {
		fmt.Println(p.Content, p.ChannelID == channel)
	}
	fmt.Println(s.Counters().MessagesPosted, "posted")
	// Output:
	// pong true true
	// 10003: Unknown Channel
	// pong true
	// 1 posted
}
