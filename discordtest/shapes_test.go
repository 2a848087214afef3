package discordtest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// decodeDisgo decodes a frame the way disgo's gateway does.
func decodeDisgo(t *testing.T, raw []byte) gateway.Message {
	t.Helper()
	var m gateway.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("disgo cannot decode %s: %v", raw, err)
	}
	return m
}

// TestFramesDecodeWithDisgoTypes decodes every kind of frame the server
// sends with disgo's gateway.Message and checks the IDs.
func TestFramesDecodeWithDisgoTypes(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(6), WithShards(2), WithMembers(4), WithChannels(7), WithRoles(3))
	c := dial(t, s, gateway.CompressionNone)
	hello := decodeDisgo(t, c.hello().raw)
	if h, ok := hello.D.(gateway.MessageDataHello); !ok || h.HeartbeatInterval != 41250 {
		t.Fatalf("HELLO %#v", hello.D)
	}
	c.identify(s.Token(), [2]int{1, 2}, 0)
	owned := s.GuildIDs(1, 2)

	ready := decodeDisgo(t, c.mustNext().raw)
	r, ok := ready.D.(gateway.EventReady)
	if !ok || ready.S != 1 {
		t.Fatalf("READY %#v", ready)
	}
	if r.User.ID != s.ApplicationID() || !r.User.Bot || r.Application.ID != s.ApplicationID() ||
		r.Shard != [2]int{1, 2} || r.SessionID == "" || r.ResumeGatewayURL != s.ResumeURL() || r.Version != 10 {
		t.Errorf("READY %+v", r)
	}
	var readyGuilds []snowflake.ID
	for _, g := range r.Guilds {
		readyGuilds = append(readyGuilds, g.ID)
	}
	if !slices.Equal(readyGuilds, owned) {
		t.Errorf("READY guilds %v, want %v", readyGuilds, owned)
	}

	for i, want := range owned {
		m := decodeDisgo(t, c.mustNext().raw)
		g, ok := m.D.(gateway.EventGuildCreate)
		if !ok {
			t.Fatalf("GUILD_CREATE %T", m.D)
		}
		if g.ID != want || m.S != 2+i || g.MemberCount != 4 || len(g.Members) != 4 || len(g.Channels) != 7 ||
			len(g.Roles) != 3 || g.JoinedAt.IsZero() || g.Unavailable || g.Name == "" {
			t.Errorf("GUILD_CREATE %d: %+v", i, g.GatewayGuild)
		}
		types := map[discord.ChannelType]int{}
		for _, ch := range g.Channels {
			types[ch.Type()]++
			if ch.GuildID() != want {
				t.Errorf("channel %v has guild %v", ch.ID(), ch.GuildID())
			}
		}
		if types[discord.ChannelTypeGuildText] == 0 || types[discord.ChannelTypeGuildVoice] == 0 || types[discord.ChannelTypeGuildCategory] != 1 {
			t.Errorf("channel types %v", types)
		}
		if g.Roles[0].ID != want || g.Roles[0].Name != "@everyone" || g.Roles[1].Permissions == 0 {
			t.Errorf("roles %+v", g.Roles)
		}
		if u := g.Members[0].User; u.ID == 0 || u.Username == "" || u.Discriminator != "0" || g.OwnerID != u.ID {
			t.Errorf("member %+v owner %v", g.Members[0], g.OwnerID)
		}
	}

	s.SetRate(-1)
	seen := map[gateway.EventType]int{}
	for range 100 {
		m := decodeDisgo(t, c.mustNext().raw)
		seen[m.T]++
		var guild snowflake.ID
		switch d := m.D.(type) {
		case gateway.EventMessageCreate:
			guild = *d.GuildID
			if d.ID == 0 || d.ChannelID == 0 || d.Author.ID == 0 || d.Member == nil || d.Content == "" || d.CreatedAt.IsZero() || len(d.Mentions) != 1 {
				t.Errorf("MESSAGE_CREATE %+v", d)
			}
		case gateway.EventGuildMemberAdd:
			guild = d.GuildID
			if d.User.ID == 0 {
				t.Errorf("GUILD_MEMBER_ADD %+v", d)
			}
		case gateway.EventMessageReactionAdd:
			guild = *d.GuildID
			if d.UserID == 0 || d.MessageID == 0 || d.Emoji.Name == nil {
				t.Errorf("MESSAGE_REACTION_ADD %+v", d)
			}
		case gateway.EventTypingStart:
			guild = *d.GuildID
			if d.UserID == 0 || d.Timestamp.IsZero() {
				t.Errorf("TYPING_START %+v", d)
			}
		default:
			t.Fatalf("unexpected %s %T", m.T, m.D)
		}
		if !slices.Contains(owned, guild) {
			t.Errorf("%s for guild %v, which shard 1 does not own", m.T, guild)
		}
	}
	s.SetRate(0)
	if len(seen) != 4 {
		t.Errorf("event kinds %v", seen)
	}

	// MESSAGE_CREATE is about 1.1 KB, like a real one.
	if err := s.Emit(1, 1); err != nil {
		t.Fatal(err)
	}
	msg := c.until(isEvent("MESSAGE_CREATE"))
	if n := len(msg.raw); n < 1000 || n > 1400 {
		t.Errorf("MESSAGE_CREATE is %d bytes", n)
	}

	for _, raw := range [][]byte{frameAck, frameReconnect, frameInvalidTrue, frameInvalidFalse, frameHeartbeatCall} {
		decodeDisgo(t, raw)
	}
}

func TestResumedAndDMFramesDecodeWithDisgo(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if err := s.SendDMGuildCreate(0); err != nil {
		t.Fatal(err)
	}
	dm := st.mustNext()
	// disgo v0.19.6 panics on a DM channel inside GUILD_CREATE (an
	// unchecked type assertion); the fake must produce exactly that shape.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("disgo decoded a GUILD_CREATE with a DM channel; the trap is gone")
			}
		}()
		var m gateway.Message
		_ = json.Unmarshal(dm.raw, &m)
	}()
	st.close()
	c := resumeClient(t, s, st, lastOf(st.seqs), gateway.CompressionNone)
	m := decodeDisgo(t, c.until(isEvent("RESUMED")).raw)
	if _, ok := m.D.(gateway.EventResumed); !ok || m.S != lastOf(st.seqs)+1 {
		t.Errorf("RESUMED %#v", m)
	}
}

func TestTemplatesRenderValidJSON(t *testing.T) {
	t.Parallel()
	vals := holeVals{1, 2, 3, 4, 5, 6, 7}
	for i, tpl := range []*template{tplMessageCreate, tplDMMessageCreate, tplMemberAdd, tplReactionAdd, tplTypingStart, tplResumed} {
		if b := tpl.render(nil, &vals); !json.Valid(b) {
			t.Errorf("template %d renders invalid JSON: %s", i, b)
		}
	}
	if json.Valid(tplMalformed.render(nil, &vals)) {
		t.Error("the malformed template is valid JSON")
	}
}

// TestDataNotLast checks that WithDataNotLast puts a member after "d" in
// every dispatch frame (READY, GUILD_CREATE, traffic) and that the frames
// stay valid JSON with the same data.
func TestDataNotLast(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2), WithDataNotLast())
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if len(st.guilds) == 0 {
		t.Fatal("no GUILD_CREATE")
	}
	if err := s.Emit(0, 1); err != nil {
		t.Fatal(err)
	}
	f := st.mustNext()
	if f.event() != "MESSAGE_CREATE" || !strings.HasSuffix(string(f.raw), dataTrailer) || !json.Valid(f.raw) {
		t.Fatalf("frame %q: want a valid MESSAGE_CREATE ending in %s", f.raw, dataTrailer)
	}
	var m struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(f.D, &m); err != nil || m.Content == "" {
		t.Fatalf("data %q: %v", f.D, err)
	}
}
