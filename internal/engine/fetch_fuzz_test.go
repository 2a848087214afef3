package engine

import (
	"encoding/json"
	"testing"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/clusterlink"
)

// FuzzFetchPayloads feeds arbitrary bytes to every decoder of the fetch
// topics' payloads and replies, as they would arrive from another host:
// none may panic, and whatever decodes must encode again.
func FuzzFetchPayloads(f *testing.F) {
	gid := snowflake.ID(81384788765712384)
	seeds := []any{
		FetchRequest{ID: gid, Members: true, MemberIDs: []snowflake.ID{1, 2}, MessageLimit: 5, MessageChannels: []snowflake.ID{3}},
		FetchRequest{IDs: []snowflake.ID{1, 2, 3}},
		FetchedGuild{
			Guild:    discord.Guild{ID: gid, Name: "g"},
			Channels: []discord.GuildChannel{discord.GuildTextChannel{}, discord.GuildVoiceChannel{}},
			Roles:    []discord.Role{{ID: gid, Name: "@everyone"}},
			Members:  []discord.Member{{User: discord.User{ID: 7, Username: "u"}, GuildID: gid}},
			Messages: map[snowflake.ID][]discord.Message{3: {{ID: 9, ChannelID: 3}}},
		},
		FetchedChannel{Channel: discord.GuildTextChannel{}, Messages: []discord.Message{{ID: 1}}},
	}
	for _, s := range seeds {
		data, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"channels":[{"type":1,"id":"1"}]}`))
	f.Add([]byte(`{"channel":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if req, err := decodePayload[FetchRequest](&bus.Message{Topic: clusterlink.TopicFetchGuild, Payload: json.RawMessage(data)}); err == nil {
			if _, err := json.Marshal(req); err != nil {
				t.Fatalf("decoded request does not encode: %v", err)
			}
		}
		var g FetchedGuild
		if err := json.Unmarshal(data, &g); err == nil {
			if _, err := json.Marshal(g); err != nil {
				t.Fatalf("decoded guild does not encode: %v", err)
			}
		}
		var c FetchedChannel
		if err := json.Unmarshal(data, &c); err == nil {
			if c.Channel == nil {
				t.Fatal("a decoded channel without a channel")
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("decoded channel does not encode: %v", err)
			}
		}
	})
}
