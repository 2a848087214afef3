package discordtest

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
)

func TestFaultsWithoutSession(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2))
	// A connection that has not identified is not a session.
	c := dial(t, s, gateway.CompressionNone)
	c.hello()
	calls := map[string]func(shard int) error{
		"Emit":              func(id int) error { return s.Emit(id, 1) },
		"Reconnect":         s.Reconnect,
		"InvalidSession":    func(id int) error { return s.InvalidSession(id, true) },
		"CloseShard":        func(id int) error { return s.CloseShard(id, 4000) },
		"DropShard":         s.DropShard,
		"WithholdAcks":      func(id int) error { return s.WithholdAcks(id, true) },
		"SendMalformed":     s.SendMalformed,
		"SendDMGuildCreate": s.SendDMGuildCreate,
		"RequestHeartbeat":  s.RequestHeartbeat,
	}
	for name, call := range calls {
		for _, shard := range []int{0, 3, AllShards} {
			if err := call(shard); !errors.Is(err, ErrNoSession) {
				t.Errorf("%s(%d) = %v, want ErrNoSession", name, shard, err)
			}
		}
	}
}

func TestFaultsOnAllShards(t *testing.T) {
	t.Parallel()
	const shards = 3
	cases := []struct {
		name   string
		fault  func(*Server) error
		expect func(t *testing.T, c *client)
	}{
		{"Emit", func(s *Server) error { return s.Emit(AllShards, 4) }, func(t *testing.T, c *client) {
			for range 4 {
				if f := c.mustNext(); f.event() != "MESSAGE_CREATE" {
					t.Fatalf("got %q", f.event())
				}
			}
		}},
		{"Reconnect", func(s *Server) error { return s.Reconnect(AllShards) }, func(t *testing.T, c *client) {
			if f := c.mustNext(); f.Op != opReconnect {
				t.Fatalf("op %d", f.Op)
			}
		}},
		{"InvalidSession false", func(s *Server) error { return s.InvalidSession(AllShards, false) }, func(t *testing.T, c *client) {
			if f := c.mustNext(); f.Op != opInvalidSession || string(f.D) != "false" {
				t.Fatalf("op %d d=%s", f.Op, f.D)
			}
		}},
		{"CloseShard", func(s *Server) error { return s.CloseShard(AllShards, 4009) }, func(t *testing.T, c *client) {
			if code := c.closeCode(); code != 4009 {
				t.Fatalf("close %d", code)
			}
		}},
		{"DropShard", func(s *Server) error { return s.DropShard(AllShards) }, func(t *testing.T, c *client) {
			if code := c.closeCode(); code != websocket.CloseAbnormalClosure {
				t.Fatalf("close %d", code)
			}
		}},
		{"RequestHeartbeat", func(s *Server) error { return s.RequestHeartbeat(AllShards) }, func(t *testing.T, c *client) {
			if f := c.mustNext(); f.Op != opHeartbeat {
				t.Fatalf("op %d", f.Op)
			}
		}},
		{"SendMalformed", func(s *Server) error { return s.SendMalformed(AllShards) }, func(t *testing.T, c *client) {
			if _, err := c.next(); err == nil {
				t.Fatal("malformed frame decoded")
			}
		}},
		{"SendDMGuildCreate", func(s *Server) error { return s.SendDMGuildCreate(AllShards) }, func(t *testing.T, c *client) {
			if f := c.mustNext(); f.event() != "GUILD_CREATE" {
				t.Fatalf("got %q", f.event())
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, WithGuilds(9), WithShards(shards), WithMaxConcurrency(shards))
			var cs []*started
			for id := range shards {
				cs = append(cs, startSession(t, s, [2]int{id, shards}, gateway.CompressionNone))
			}
			if err := tc.fault(s); err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				tc.expect(t, c.client)
			}
		})
	}
}

func TestWithholdAcksAllShards(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2), WithShards(2), WithMaxConcurrency(2))
	a := startSession(t, s, [2]int{0, 2}, gateway.CompressionNone)
	b := startSession(t, s, [2]int{1, 2}, gateway.CompressionNone)
	if err := s.WithholdAcks(AllShards, true); err != nil {
		t.Fatal(err)
	}
	a.send(opHeartbeat, 1)
	b.send(opHeartbeat, 1)
	waitFor(t, func() bool { return s.Counters().Heartbeats == 2 })
	if err := s.WithholdAcks(AllShards, false); err != nil {
		t.Fatal(err)
	}
	a.send(opHeartbeat, 1)
	b.send(opHeartbeat, 1)
	a.until(isOp(opHeartbeatACK))
	b.until(isOp(opHeartbeatACK))
	if n := s.Counters().Acks; n != 2 {
		t.Fatalf("Acks = %d, want 2 (the withheld beats get none)", n)
	}
}

// TestMalformedFrameIsNotALostDispatch: the malformed frame names the seq
// the next dispatch carries, takes no seq, and leaves no gap.
func TestMalformedFrameIsNotALostDispatch(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if err := s.SendMalformed(0); err != nil {
		t.Fatal(err)
	}
	f, err := st.next()
	if err == nil || json.Valid(f.raw) {
		t.Fatalf("malformed frame %q decoded (err %v)", f.raw, err)
	}
	next := lastOf(st.seqs) + 1
	if !strings.Contains(string(f.raw), `"s":`+strconv.Itoa(next)+`,`) {
		t.Errorf("malformed frame %q does not name seq %d", f.raw, next)
	}
	if err := s.Emit(0, 1); err != nil {
		t.Fatal(err)
	}
	if m := st.mustNext(); m.seq() != next {
		t.Fatalf("next dispatch seq %d, want %d", m.seq(), next)
	}
	if got := s.Ledger().Seqs(0, st.ready.SessionID); !slices.Equal(got, st.seqs) {
		t.Errorf("ledger %v, client %v", got, st.seqs)
	}
	if n := s.Counters().MalformedSent; n != 1 {
		t.Errorf("MalformedSent = %d", n)
	}
}

func TestDMGuildCreate(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(3))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if err := s.SendDMGuildCreate(0); err != nil {
		t.Fatal(err)
	}
	f := st.mustNext()
	var g guildEvent
	if err := json.Unmarshal(f.D, &g); err != nil || f.event() != "GUILD_CREATE" {
		t.Fatalf("%q: %v", f.event(), err)
	}
	if g.ID != s.GuildIDs(0, 1)[0] {
		t.Errorf("guild %v", g.ID)
	}
	dms := 0
	for _, c := range g.Channels {
		if c.Type == 1 {
			dms++
		}
	}
	if dms != 1 {
		t.Errorf("%d DM channels, want 1", dms)
	}
	if got := s.Ledger().LastSeq(0, st.ready.SessionID); got != f.seq() {
		t.Errorf("ledger last seq %d, frame seq %d", got, f.seq())
	}

	empty := New(t, WithGuilds(0))
	startSession(t, empty, [2]int{0, 1}, gateway.CompressionNone)
	if err := empty.SendDMGuildCreate(0); !errors.Is(err, ErrNoGuild) {
		t.Errorf("no guild: %v, want ErrNoGuild", err)
	}
}

func TestRateTraffic(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(5))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	s.SetRate(-1)
	kinds := map[string]int{}
	for range 200 {
		kinds[st.mustNext().event()]++
	}
	s.SetRate(0)
	for _, k := range []string{"MESSAGE_CREATE", "GUILD_MEMBER_ADD", "MESSAGE_REACTION_ADD", "TYPING_START"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in %v", k, kinds)
		}
	}
	if kinds["MESSAGE_CREATE"] < kinds["TYPING_START"] {
		t.Errorf("mix %v", kinds)
	}
}

func TestFixedRateTraffic(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2), WithRate(2000))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	for range 20 {
		if f := st.mustNext(); f.Op != opDispatch {
			t.Fatalf("op %d", f.Op)
		}
	}
	if got := s.Ledger().Seqs(0, st.ready.SessionID); !slices.Equal(got[:len(st.seqs)], st.seqs) {
		t.Errorf("ledger %v, client %v", got, st.seqs)
	}
}
