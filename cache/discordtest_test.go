package cache

import (
	"encoding/json"
	"testing"
	"time"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/discordtest"
)

// TestSameAsDisgoOnDiscordtestFrames reads the GUILD_CREATE frames that the
// fake Discord sends after an IDENTIFY, decodes them with disgo's decoder,
// and compares disgo's default caches with ours loaded from them. The other
// tests decode discordtest.GuildCreatePayloads directly; this one takes the
// same guilds through a real connection and the server's framing.
func TestSameAsDisgoOnDiscordtestFrames(t *testing.T) {
	t.Parallel()
	const guilds = 5
	s := discordtest.New(t, discordtest.WithGuilds(guilds), discordtest.WithMembers(40),
		discordtest.WithChannels(12), discordtest.WithRoles(6))
	ws, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?v=10&encoding=json", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.Close()
	// A safety net so that a broken server fails the test instead of
	// hanging it; nothing depends on the deadline's length.
	if err := ws.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	type frame struct {
		Op int             `json:"op"`
		T  string          `json:"t"`
		D  json.RawMessage `json:"d"`
	}
	read := func() frame {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("read: %v", err)
		}
		return f
	}
	if f := read(); f.Op != 10 {
		t.Fatalf("first frame op %d, want HELLO (10)", f.Op)
	}
	identify := map[string]any{"op": 2, "d": map[string]any{
		"token": s.Token(), "intents": gateway.IntentGuilds | gateway.IntentGuildMembers, "shard": [2]int{0, 1},
		"properties": map[string]string{"os": "linux", "browser": "megane", "device": "megane"},
	}}
	if err := ws.WriteJSON(identify); err != nil {
		t.Fatalf("identify: %v", err)
	}
	want := disgocache.New(disgocache.WithCaches(disgocache.FlagsAll))
	got := New(allFlags)
	var ids []snowflake.ID
	for len(ids) < guilds {
		f := read()
		if f.Op != 0 || f.T != "GUILD_CREATE" {
			continue
		}
		var ev gateway.EventGuildCreate
		if err := json.Unmarshal(f.D, &ev); err != nil {
			t.Fatalf("decoding GUILD_CREATE: %v", err)
		}
		AddGuildCreate(want, ev)
		AddGuildCreate(got, ev)
		ids = append(ids, ev.ID)
	}
	if got.MembersAllLen() != guilds*40 || got.RolesAllLen() != guilds*6 || got.ChannelsLen() != guilds*12 {
		t.Fatalf("cached %d members, %d roles, %d channels; want %d, %d, %d",
			got.MembersAllLen(), got.RolesAllLen(), got.ChannelsLen(), guilds*40, guilds*6, guilds*12)
	}
	assertSameCaches(t, want, got, ids)
}
