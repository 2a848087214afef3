package discordtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/megane-go/megane/discordtest"
)

// Start a fake Discord and read GET /gateway/bot from it, as a bot does
// before connecting its shards.
func ExampleStart() {
	s, err := discordtest.Start(discordtest.WithShards(4), discordtest.WithGuilds(40), discordtest.WithMaxConcurrency(2))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+"/gateway/bot", nil)
	req.Header.Set("Authorization", "Bot "+s.Token())
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var gb struct {
		URL               string `json:"url"`
		Shards            int    `json:"shards"`
		SessionStartLimit struct {
			MaxConcurrency int `json:"max_concurrency"`
		} `json:"session_start_limit"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&gb); err != nil {
		panic(err)
	}
	fmt.Println(gb.URL == s.GatewayURL(), gb.Shards, gb.SessionStartLimit.MaxConcurrency)
	fmt.Println(len(s.GuildIDs(0, 4)), "guilds on shard 0 of 4")
	// Output:
	// true 4 2
	// 10 guilds on shard 0 of 4
}

// Faults need a live session; without one they report ErrNoSession.
func ExampleServer_Reconnect() {
	s, err := discordtest.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	fmt.Println(s.Reconnect(discordtest.AllShards))
	// Output:
	// discordtest: no live session for shard
}
