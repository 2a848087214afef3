package discordtest

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

func TestShardsReadyWithTheirGuilds(t *testing.T) {
	t.Parallel()
	for _, comp := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		t.Run("compress="+string(comp), func(t *testing.T) {
			t.Parallel()
			const shards = 4
			s := New(t, WithShards(shards), WithGuilds(41), WithMaxConcurrency(shards))
			total := 0
			for id := range shards {
				st := startSession(t, s, [2]int{id, shards}, comp)
				want := s.GuildIDs(id, shards)
				if len(want) == 0 {
					t.Fatalf("shard %d owns no guild", id)
				}
				if !slices.Equal(st.guilds, want) {
					t.Errorf("shard %d GUILD_CREATEs %v, want %v", id, st.guilds, want)
				}
				for i, g := range st.ready.Guilds {
					if g.ID != want[i] || !g.Unavailable {
						t.Errorf("shard %d READY guild %d = %+v, want %v unavailable", id, i, g, want[i])
					}
				}
				if st.ready.Shard != [2]int{id, shards} {
					t.Errorf("READY shard %v", st.ready.Shard)
				}
				for _, g := range want {
					if int(uint64(g)>>22%shards) != id {
						t.Errorf("guild %v is not shard %d's", g, id)
					}
				}
				sess := s.Ledger().Sessions(id)
				if len(sess) != 1 || sess[0] != st.ready.SessionID {
					t.Errorf("ledger sessions %v, want [%s]", sess, st.ready.SessionID)
				}
				if got := s.Ledger().Seqs(id, st.ready.SessionID); !slices.Equal(got, st.seqs) {
					t.Errorf("ledger seqs %v, client got %v", got, st.seqs)
				}
				total += len(want)
			}
			if total != 41 {
				t.Errorf("shards own %d guilds in all, want 41", total)
			}
			if c := s.Counters(); c.Identifies != shards || c.Connections != shards {
				t.Errorf("counters %+v", c)
			}
		})
	}
}

func TestTrafficAfterReadyOverEveryCompression(t *testing.T) {
	t.Parallel()
	for _, comp := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		t.Run("compress="+string(comp), func(t *testing.T) {
			t.Parallel()
			s := New(t, WithGuilds(3))
			st := startSession(t, s, [2]int{0, 1}, comp)
			if err := s.Emit(0, 25); err != nil {
				t.Fatal(err)
			}
			for range 25 {
				f := st.mustNext()
				if f.event() != "MESSAGE_CREATE" {
					t.Fatalf("got %q, want MESSAGE_CREATE", f.event())
				}
			}
			if got := s.Ledger().Seqs(0, st.ready.SessionID); !slices.Equal(got, st.seqs) {
				t.Errorf("ledger %v, client %v", got, st.seqs)
			}
		})
	}
}

func TestCloseCodes(t *testing.T) {
	t.Parallel()
	type tc struct {
		name  string
		opts  []Option
		query url.Values
		act   func(c *client, s *Server)
		code  int
		count func(Counters) int64
	}
	identify := func(shard [2]int, intents int64) func(*client, *Server) {
		return func(c *client, s *Server) { c.identify(s.Token(), shard, intents) }
	}
	cases := []tc{
		{name: "wrong token", act: func(c *client, s *Server) { c.identify("bad.token.x", [2]int{0, 1}, 0) },
			code: 4004, count: func(c Counters) int64 { return c.AuthFailures }},
		{name: "shard id equals count", act: identify([2]int{1, 1}, 0), code: 4010,
			count: func(c Counters) int64 { return c.InvalidShards }},
		{name: "shard count zero", act: identify([2]int{0, 0}, 0), code: 4010,
			count: func(c Counters) int64 { return c.InvalidShards }},
		{name: "too many guilds", opts: []Option{WithGuilds(10), WithMaxGuildsPerShard(3)},
			act: identify([2]int{0, 1}, 0), code: 4011, count: func(c Counters) int64 { return c.ShardingRequired }},
		{name: "disallowed intents", opts: []Option{WithAllowedIntents(gateway.IntentGuildPresences)},
			act: identify([2]int{0, 1}, int64(gateway.IntentGuilds|gateway.IntentGuildMembers)), code: 4014,
			count: func(c Counters) int64 { return c.IntentCloses }},
		{name: "invalid intents", act: identify([2]int{0, 1}, 1<<40), code: 4013,
			count: func(c Counters) int64 { return c.IntentCloses }},
		{name: "unknown opcode", act: func(c *client, _ *Server) { c.send(99, nil) }, code: 4001,
			count: func(c Counters) int64 { return c.UnknownOpcodeCloses }},
		{name: "server-only opcode", act: func(c *client, _ *Server) { c.send(opHeartbeatACK, nil) }, code: 4001,
			count: func(c Counters) int64 { return c.UnknownOpcodeCloses }},
		{name: "not json", act: func(c *client, _ *Server) { c.sendRaw([]byte(`{"op":1,`)) }, code: 4002,
			count: func(c Counters) int64 { return c.DecodeCloses }},
		{name: "bad heartbeat data", act: func(c *client, _ *Server) { c.send(opHeartbeat, "x") }, code: 4002,
			count: func(c Counters) int64 { return c.DecodeCloses }},
		{name: "oversize payload", act: func(c *client, _ *Server) {
			c.sendRaw([]byte(`{"op":3,"d":"` + strings.Repeat("x", maxPayload) + `"}`))
		}, code: 4002, count: func(c Counters) int64 { return c.OversizeCloses }},
		{name: "send limit", opts: []Option{WithSendLimit(3, time.Hour)}, act: func(c *client, _ *Server) {
			for range 4 {
				c.send(opHeartbeat, nil)
			}
		}, code: 4008, count: func(c Counters) int64 { return c.SendLimitCloses }},
		{name: "not authenticated", act: func(c *client, _ *Server) { c.send(opPresenceUpdate, map[string]any{}) }, code: 4003},
		{name: "identify twice", act: func(c *client, s *Server) {
			c.identify(s.Token(), [2]int{0, 1}, 0)
			c.until(isEvent("READY"))
			c.identify(s.Token(), [2]int{0, 1}, 0)
		}, code: 4005},
		{name: "api version", query: url.Values{"v": {"9"}}, code: 4012},
		{name: "encoding", query: url.Values{"encoding": {"etf"}}, code: 4002},
		{name: "compression", query: url.Values{"compress": {"gzip-stream"}}, code: 4002},
		{name: "compression not offered", opts: []Option{WithCompressions(gateway.CompressionNone)},
			query: url.Values{"compress": {"zstd-stream"}}, code: 4002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, append([]Option{WithGuilds(2)}, tc.opts...)...)
			c, err := dialURL(t, s.GatewayURL(), gateway.CompressionNone, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if tc.act != nil {
				c.hello()
				tc.act(c, s)
			}
			if code := c.closeCode(); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			if tc.count != nil {
				if n := tc.count(s.Counters()); n != 1 {
					t.Errorf("counter = %d, want 1", n)
				}
			}
		})
	}
}

func TestPrivilegedIntentAllowed(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1), WithAllowedIntents(gateway.IntentGuildMembers))
	c := dial(t, s, gateway.CompressionNone)
	c.hello()
	c.identify(s.Token(), [2]int{0, 1}, int64(gateway.IntentsNonPrivileged|gateway.IntentGuildMembers))
	c.until(isEvent("READY"))
}

func TestIdentifyTokenWithBotPrefixAndNoShard(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2))
	c := dial(t, s, gateway.CompressionNone)
	c.hello()
	c.send(opIdentify, map[string]any{"token": "Bot " + s.Token(), "intents": 0})
	f := c.until(isEvent("READY"))
	var r readyEvent
	if err := json.Unmarshal(f.D, &r); err != nil {
		t.Fatal(err)
	}
	if r.Shard != [2]int{0, 1} || len(r.Guilds) != 2 {
		t.Errorf("READY %+v", r)
	}
}

func TestResumeURLServesTheGateway(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if st.ready.ResumeGatewayURL != s.ResumeURL() || s.ResumeURL() == s.GatewayURL() {
		t.Fatalf("resume_gateway_url %q, ResumeURL %q", st.ready.ResumeGatewayURL, s.ResumeURL())
	}
	c, err := dialURL(t, st.ready.ResumeGatewayURL, gateway.CompressionNone, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := c.hello(); !strings.Contains(string(f.D), `"heartbeat_interval":41250`) {
		t.Errorf("HELLO %s", f.D)
	}
}
