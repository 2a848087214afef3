package discordtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
)

func restClient(s *Server, token string) rest.Rest {
	return rest.New(rest.NewClient(token,
		rest.WithURL(s.APIURL()),
		rest.WithHTTPClient(noKeepAlive),
		rest.WithRateLimiter(rest.NewNoopRateLimiter())))
}

// TestCreateMessageWithDisgo posts messages with disgo's REST client and
// checks that disgo decodes the answers and that the server recorded them.
func TestCreateMessageWithDisgo(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(3), WithChannels(7))
	client := restClient(s, s.Token())
	ref := snowflake.ID(12345 << 22)
	cases := []struct {
		name    string
		channel snowflake.ID
		guild   snowflake.ID
		msg     discord.MessageCreate
	}{
		{"text channel", s.world.channelID(1, 1), s.world.guildID(1), discord.MessageCreate{Content: "pong"}},
		{"reply", s.world.channelID(2, 2), s.world.guildID(2),
			discord.MessageCreate{Content: "pong", MessageReference: &discord.MessageReference{MessageID: &ref}}},
		{"unicode, quotes and 2000 characters", s.world.channelID(0, 1), s.world.guildID(0),
			discord.MessageCreate{Content: "«\"é\"»\n" + strings.Repeat("ü", MaxMessageLength-6)}},
		{"voice channel chat", s.world.channelID(0, 3), s.world.guildID(0), discord.MessageCreate{Content: "hi"}},
		{"DM channel", makeID(dmBase, 0), 0, discord.MessageCreate{Content: "psst"}},
	}
	var ids []snowflake.ID
	for _, tc := range cases {
		m, err := client.CreateMessage(tc.channel, tc.msg)
		if err != nil {
			t.Fatalf("%s: CreateMessage: %v", tc.name, err)
		}
		ids = append(ids, m.ID)
		if m.ID == 0 || m.ChannelID != tc.channel || m.Content != tc.msg.Content || m.Author.ID != s.ApplicationID() ||
			!m.Author.Bot || m.CreatedAt.IsZero() || m.ID.Time().IsZero() {
			t.Errorf("%s: message %+v", tc.name, m)
		}
		if (tc.guild == 0) != (m.GuildID == nil) || m.GuildID != nil && *m.GuildID != tc.guild {
			t.Errorf("%s: guild %v, want %v", tc.name, m.GuildID, tc.guild)
		}
		if tc.msg.MessageReference != nil {
			if m.Type != discord.MessageTypeReply || m.MessageReference == nil || *m.MessageReference.MessageID != ref {
				t.Errorf("%s: type %d reference %+v, want a reply to %v", tc.name, m.Type, m.MessageReference, ref)
			}
		}
	}
	posted := s.Posted()
	if len(posted) != len(cases) {
		t.Fatalf("Posted() holds %d messages, want %d", len(posted), len(cases))
	}
	for i, p := range posted {
		tc := cases[i]
		var replyTo snowflake.ID
		if tc.msg.MessageReference != nil {
			replyTo = ref
		}
		if p.ID != ids[i] || p.ChannelID != tc.channel || p.GuildID != tc.guild || p.Content != tc.msg.Content ||
			p.ReplyTo != replyTo || p.Timestamp.IsZero() {
			t.Errorf("Posted()[%d] = %+v, want %s", i, p, tc.name)
		}
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("message IDs %v are not unique and growing", ids)
	}
	if n := s.Counters().MessagesPosted; n != int64(len(cases)) {
		t.Errorf("MessagesPosted = %d, want %d", n, len(cases))
	}
}

// TestCreateMessageErrors checks the refusals of POST
// /channels/{id}/messages: status, Discord's error body, and that nothing
// was recorded.
func TestCreateMessageErrors(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2), WithChannels(5))
	text := s.world.channelID(0, 1).String()
	category := s.world.channelID(0, 0).String()
	auth := "Bot " + s.Token()
	cases := []struct {
		name, method, channel, auth, body string
		status                            int
		code                              int
		message                           string
	}{
		{"no token", "POST", text, "", `{"content":"x"}`, 401, 0, "401: Unauthorized"},
		{"wrong token", "POST", text, "Bot nope", `{"content":"x"}`, 401, 0, "401: Unauthorized"},
		{"unknown channel", "POST", "1234567890123456789", auth, `{"content":"x"}`, 404, 10003, "Unknown Channel"},
		{"not a snowflake", "POST", "general", auth, `{"content":"x"}`, 404, 10003, "Unknown Channel"},
		{"too long", "POST", text, auth, `{"content":"` + strings.Repeat("a", MaxMessageLength+1) + `"}`, 400, 50035, "Invalid Form Body"},
		{"empty", "POST", text, auth, `{"content":""}`, 400, 50006, "Cannot send an empty message"},
		{"invalid JSON", "POST", text, auth, `{"content":`, 400, 50109, "The request body contains invalid JSON."},
		{"category", "POST", category, auth, `{"content":"x"}`, 400, 50008, "Cannot send messages in a non-text channel"},
		{"GET", "GET", text, auth, "", 405, 0, "405: Method Not Allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, s.APIURL()+"/channels/"+tc.channel+"/messages", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := noKeepAlive.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Message string          `json:"message"`
				Code    int             `json:"code"`
				Errors  json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if resp.StatusCode != tc.status || got.Code != tc.code || got.Message != tc.message {
				t.Errorf("%d %s, want %d {%q, %d}", resp.StatusCode, body, tc.status, tc.message, tc.code)
			}
			if tc.code == 50035 && !strings.Contains(string(got.Errors), `"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH"`) {
				t.Errorf("errors %s, want content BASE_TYPE_MAX_LENGTH", got.Errors)
			}
		})
	}
	t.Cleanup(func() {
		if n := s.Counters().MessagesPosted; n != 0 || len(s.Posted()) != 0 {
			t.Errorf("refused messages were recorded: %d, %v", n, s.Posted())
		}
	})

	// disgo surfaces the refusal as a *rest.Error with Discord's code.
	_, err := restClient(s, s.Token()).CreateMessage(snowflake.ID(42<<22), discord.MessageCreate{Content: "x"})
	if re, ok := errors.AsType[*rest.Error](err); !ok || re.Code != rest.JSONErrorCodeUnknownChannel || re.Response.StatusCode != 404 {
		t.Errorf("disgo CreateMessage to an unknown channel: %v", err)
	}
}

// TestPostedIsBounded posts more than PostedLimit messages: Posted keeps
// the most recent ones in order, the counter counts them all.
func TestPostedIsBounded(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1))
	channel := s.world.textChannelID(0, 0)
	const n = PostedLimit + 5
	for i := range n {
		s.createMessage(channel, 0, &createMessage{Content: string(rune('a' + i%26))})
	}
	posted := s.Posted()
	if len(posted) != PostedLimit || s.Counters().MessagesPosted != n {
		t.Fatalf("Posted() holds %d, counter %d; want %d and %d", len(posted), s.Counters().MessagesPosted, PostedLimit, n)
	}
	for i, p := range posted {
		if want := string(rune('a' + (i+5)%26)); p.Content != want {
			t.Fatalf("Posted()[%d] = %q, want %q (the most recent, oldest first)", i, p.Content, want)
		}
	}
}

// messageCreate reads frames until a MESSAGE_CREATE and decodes it with
// disgo's gateway types.
func messageCreate(t *testing.T, c *client) (gateway.EventMessageCreate, int) {
	t.Helper()
	f := c.until(isEvent("MESSAGE_CREATE"))
	m := decodeDisgo(t, f.raw)
	d, ok := m.D.(gateway.EventMessageCreate)
	if !ok {
		t.Fatalf("MESSAGE_CREATE decodes to %T", m.D)
	}
	return d, m.S
}

// TestEmitMessage sends chosen contents and checks that they arrive intact
// through disgo's types, in one of the shard's text channels, recorded in
// the ledger, and replayed with the same content after a RESUME.
func TestEmitMessage(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(4), WithShards(2))
	st := startSession(t, s, [2]int{1, 2}, gateway.CompressionNone)
	owned := s.GuildIDs(1, 2)
	contents := []string{"!ping", "!stats", `quotes " and \ backslash`, "line\nbreak <&> «unicode» 🎉", ""}
	for _, c := range contents {
		if err := s.EmitMessage(1, c); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int
	for _, want := range contents {
		d, seq := messageCreate(t, st.client)
		seqs = append(seqs, seq)
		if d.Content != want {
			t.Errorf("content %q, want %q", d.Content, want)
		}
		if d.GuildID == nil || !slices.Contains(owned, *d.GuildID) || d.Author.Bot || d.Member == nil {
			t.Errorf("message %+v: want a member's message in a guild of shard 1", d.Message)
		}
		if g, typ, ok := s.world.channelOf(d.ChannelID); !ok || typ != 0 || s.world.guildID(g) != *d.GuildID {
			t.Errorf("channel %v is not a text channel of guild %v", d.ChannelID, d.GuildID)
		}
	}
	if got := s.Ledger().LastSeq(1, st.ready.SessionID); got != lastOf(seqs) {
		t.Errorf("ledger last seq %d, want %d", got, lastOf(seqs))
	}
	if err := s.EmitMessage(0, "x"); !errors.Is(err, ErrNoSession) {
		t.Errorf("EmitMessage to a shard without a session = %v, want ErrNoSession", err)
	}

	// A RESUME replays the messages with their contents.
	st.close()
	c := resumeClient(t, s, st, seqs[0], gateway.CompressionNone)
	for i, want := range contents[1:] {
		d, seq := messageCreate(t, c)
		if seq != seqs[i+1] || d.Content != want {
			t.Errorf("replay: s=%d %q, want s=%d %q", seq, d.Content, seqs[i+1], want)
		}
	}
}

// TestContentsMix checks WithContents: every n-th MESSAGE_CREATE of rate
// traffic carries the next chosen content in turn, the others lorem ipsum.
func TestContentsMix(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2), WithContents(3, "!ping", "!stats"))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	s.SetRate(-1)
	want := []string{msgContent, msgContent, "!ping", msgContent, msgContent, "!stats", msgContent, msgContent, "!ping"}
	for i, w := range want {
		if d, _ := messageCreate(t, st.client); d.Content != w {
			t.Fatalf("message %d: content %q, want %q", i+1, d.Content, w)
		}
	}
	s.SetRate(0)
}

func TestContentsOptions(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithContents(-1, "x"), WithContents(2)} {
		if _, err := Start(opt); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("Start with a bad WithContents = %v, want ErrInvalidOption", err)
		}
	}
	s := New(t)
	cases := []struct {
		every    int
		contents []string
		want     error
	}{
		{-1, []string{"x"}, ErrInvalidOption},
		{1, nil, ErrInvalidOption},
		{0, nil, nil},
		{5, []string{"!ping"}, nil},
	}
	for _, tc := range cases {
		if err := s.SetContents(tc.every, tc.contents...); !errors.Is(err, tc.want) {
			t.Errorf("SetContents(%d, %q) = %v, want %v", tc.every, tc.contents, err, tc.want)
		}
	}
}

func TestTextChannels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		channels int
		want     int // text channels per guild
	}{
		{"mixed channels", 7, 5}, // channel 0 is a category, 3 a voice channel, the other five text
		{"two text channels", 2, 2},
		{"no channels", 0, 1}, // the guild's own ID
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, WithGuilds(3), WithChannels(tc.channels))
			for _, g := range s.GuildIDs(0, 1) {
				got := s.TextChannels(g)
				if len(got) != tc.want {
					t.Fatalf("guild %v: %d text channels, want %d", g, len(got), tc.want)
				}
				for _, c := range got {
					if gi, typ, ok := s.world.channelOf(c); !ok || typ != 0 || s.world.guildID(gi) != g {
						t.Errorf("channel %v of guild %v resolves to guild %d type %d (%v)", c, g, gi, typ, ok)
					}
				}
			}
			if got := s.TextChannels(snowflake.ID(42 << 22)); got != nil {
				t.Errorf("TextChannels of an unknown guild = %v", got)
			}
		})
	}
}

func TestContentTableIsBounded(t *testing.T) {
	t.Parallel()
	var tab contentTable
	tab.init()
	for i := 1; i < MaxContents; i++ {
		if _, err := tab.intern(string(rune(0x10000 + i))); err != nil {
			t.Fatalf("intern %d: %v", i, err)
		}
	}
	if _, err := tab.intern("one too many"); !errors.Is(err, ErrTooManyContents) {
		t.Errorf("intern past MaxContents = %v, want ErrTooManyContents", err)
	}
	if i, err := tab.intern(msgContent); i != 0 || err != nil {
		t.Errorf("intern of a known content = %d, %v; want 0", i, err)
	}
}
