package discordtest

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
)

func TestStartRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	cases := map[string]Option{
		"WithShards":            WithShards(0),
		"WithGuilds":            WithGuilds(-1),
		"WithMembers":           WithMembers(-1),
		"WithMaxConcurrency":    WithMaxConcurrency(-1),
		"WithSessionStartLimit": WithSessionStartLimit(1, 2, time.Hour),
		"WithSendLimit":         WithSendLimit(0, time.Second),
		"WithHeartbeatInterval": WithHeartbeatInterval(0),
		"WithMaxGuildsPerShard": WithMaxGuildsPerShard(0),
		"WithReplayBuffer":      WithReplayBuffer(0),
		"WithRate":              WithRate(-2),
		"WithCompressions":      WithCompressions("gzip"),
	}
	for name, opt := range cases {
		s, err := Start(opt)
		var oe *OptionError
		if err == nil {
			s.Close()
		}
		if !errors.As(err, &oe) || oe.Option != name || !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := Start(WithAddr("256.0.0.1:0")); err == nil {
		t.Error("bad address accepted")
	}
}

// TestWithCompressionsRejectsUnsupported: the fake speaks none,
// zlib-stream and zstd-stream; zlib-payload or an unknown name fails Start
// with an *OptionError that names the value.
func TestWithCompressionsRejectsUnsupported(t *testing.T) {
	t.Parallel()
	for _, c := range []gateway.CompressionType{gateway.CompressionZlibPayload, "brotli-stream"} {
		s, err := Start(WithCompressions(gateway.CompressionNone, c))
		if err == nil {
			s.Close()
		}
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != "WithCompressions" || !errors.Is(err, ErrInvalidOption) ||
			!strings.Contains(oe.Reason, string(c)) {
			t.Errorf("WithCompressions(none, %q): err %v", c, err)
		}
	}
	s, err := Start(WithCompressions(gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream))
	if err != nil {
		t.Fatalf("the three supported compressions: %v", err)
	}
	s.Close()
}

func TestTokenOption(t *testing.T) {
	t.Parallel()
	// "MTIzNDU2Nzg5MDEyMzQ1Njc4" is base64 of "123456789012345678".
	s := New(t, WithToken("MTIzNDU2Nzg5MDEyMzQ1Njc4.abc.def"))
	if s.ApplicationID() != 123456789012345678 || s.Token() != "MTIzNDU2Nzg5MDEyMzQ1Njc4.abc.def" {
		t.Errorf("app %v token %q", s.ApplicationID(), s.Token())
	}
	d := New(t, WithToken("not-a-token"))
	if d.ApplicationID() != defaultApplicationID {
		t.Errorf("app %v", d.ApplicationID())
	}
	g := New(t)
	if id, ok := appIDFromToken(g.Token()); !ok || id != g.ApplicationID() {
		t.Errorf("generated token does not carry the application ID: %v %v", id, ok)
	}
}

func TestShardWithoutGuildsGetsDMTraffic(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(0))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if err := s.Emit(0, 2); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		m := decodeDisgo(t, st.mustNext().raw)
		mc, ok := m.D.(gateway.EventMessageCreate)
		if !ok || mc.GuildID != nil || mc.ChannelID == 0 {
			t.Fatalf("%T %+v", m.D, m.D)
		}
	}
}

// TestResumeTakesOverALiveSession: a session has one connection; resuming
// it elsewhere drops the old one.
func TestResumeTakesOverALiveSession(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	c := resumeClient(t, s, st, lastOf(st.seqs), gateway.CompressionNone)
	c.until(isEvent("RESUMED"))
	if code := st.closeCode(); code != websocket.CloseAbnormalClosure {
		t.Fatalf("old connection ended with %d, want a drop", code)
	}
	if err := s.Emit(0, 1); err != nil {
		t.Fatal(err)
	}
	if f := c.mustNext(); f.event() != "MESSAGE_CREATE" {
		t.Fatalf("got %q", f.event())
	}
}

// TestCloseWithBusyAndStuckClients: Close ends connections whose writer is
// blocked on a client that stopped reading, and every goroutine stops
// (goleak checks that at the end of the package).
func TestCloseWithBusyAndStuckClients(t *testing.T) {
	t.Parallel()
	s, err := Start(WithGuilds(4), WithShards(4), WithMaxConcurrency(4), WithRate(-1))
	if err != nil {
		t.Fatal(err)
	}
	var clients []*started
	for id := range 4 {
		clients = append(clients, startSession(t, s, [2]int{id, 4}, gateway.CompressionNone))
	}
	for range 50 { // one client reads, the others are stuck
		clients[0].mustNext()
	}
	s.Close()
	for _, c := range clients {
		// Drain without decoding until the connection ends.
		for {
			_ = c.ws.SetReadDeadline(time.Now().Add(readTimeout))
			_, r, err := c.ws.NextReader()
			if err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure {
					t.Errorf("connection ended with %v, want a drop", err)
				}
				break
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				break
			}
		}
	}
	if err := s.Emit(AllShards, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Emit after Close: %v", err)
	}
	s.Close() // idempotent
}

func TestCountersAreJSONFriendly(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1))
	startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	b, err := json.Marshal(s.Counters())
	if err != nil {
		t.Fatal(err)
	}
	var back Counters
	if err := json.Unmarshal(b, &back); err != nil || back.Identifies != 1 || back.DispatchesSent != 2 || back.ActiveConnections != 1 {
		t.Errorf("%s", b)
	}
}
