package discordtest

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
)

// TestShardCountsLiveSideBySide runs shard 0 of 1 and shards 0 and 1 of 2
// at once, as a re-shard does: each keeps its own session and seqs, and a
// fault or Emit for shard 0 reaches shard 0 of every count.
func TestShardCountsLiveSideBySide(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(6), WithIdentifyWindow(0))
	one := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	zero := startSession(t, s, [2]int{0, 2}, gateway.CompressionNone)
	other := startSession(t, s, [2]int{1, 2}, gateway.CompressionNone)
	if err := s.Emit(0, 4); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*started{one, zero} {
		for range 4 {
			if f := st.mustNext(); f.event() != "MESSAGE_CREATE" {
				t.Fatalf("got %q, want MESSAGE_CREATE", f.event())
			}
		}
		if want := seqRange(1, 1+len(st.guilds)+4); !slices.Equal(st.seqs, want) {
			t.Errorf("shard %v seqs %v, want %v", st.ready.Shard, st.seqs, want)
		}
		if got, want := s.Ledger().LastSeq(0, st.ready.SessionID), lastOf(st.seqs); got != want {
			t.Errorf("shard %v ledger last seq %d, want %d", st.ready.Shard, got, want)
		}
	}
	if got := s.Ledger().Sessions(0); !slices.Equal(got, []string{one.ready.SessionID, zero.ready.SessionID}) {
		t.Errorf("Sessions(0) = %v", got)
	}
	// Shard 1 of 2 got nothing; a fault for shard 1 reaches it alone.
	if err := s.Reconnect(1); err != nil {
		t.Fatal(err)
	}
	if f := other.mustNext(); f.Op != opReconnect {
		t.Fatalf("shard 1 of 2 got op %d %q, want op 7 only", f.Op, f.event())
	}
	// Closing shard 0 closes shard 0 of both counts; each resumes its own.
	if err := s.CloseShard(0, 4000); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*started{one, zero} {
		if code := st.closeCode(); code != 4000 {
			t.Fatalf("close %d, want 4000", code)
		}
		c := resumeClient(t, s, st, lastOf(st.seqs), gateway.CompressionNone)
		if f := c.mustNext(); f.event() != "RESUMED" || f.seq() != lastOf(st.seqs)+1 {
			t.Fatalf("got %q s=%d, want RESUMED s=%d", f.event(), f.seq(), lastOf(st.seqs)+1)
		}
	}
	if n := s.Counters().Resumes; n != 2 {
		t.Errorf("Resumes = %d, want 2", n)
	}
}

// closeFrom writes a close frame with code from the client and reads until
// the server's echo (or the end of the connection).
func (c *client) closeFrom(code int) {
	c.t.Helper()
	msg := websocket.FormatCloseMessage(code, "bye")
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(readTimeout)); err != nil {
		c.t.Fatalf("write close: %v", err)
	}
	for {
		if _, err := c.next(); err != nil {
			return
		}
	}
}

// TestClientCloseCodes: a client's close with 1000 or 1001 ends its session,
// as on Discord; any other code, or any answer to the server's own close,
// leaves it resumable.
func TestClientCloseCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		close     func(t *testing.T, s *Server, st *started)
		resumable bool
	}{
		{"1000", func(_ *testing.T, _ *Server, st *started) { st.closeFrom(websocket.CloseNormalClosure) }, false},
		{"1001", func(_ *testing.T, _ *Server, st *started) { st.closeFrom(websocket.CloseGoingAway) }, false},
		{"4000", func(_ *testing.T, _ *Server, st *started) { st.closeFrom(4000) }, true},
		{"1000 answering the server's close", func(t *testing.T, s *Server, st *started) {
			echoed := make(chan struct{})
			st.ws.SetCloseHandler(func(int, string) error {
				defer close(echoed)
				msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
				return st.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(readTimeout))
			})
			if err := s.CloseShard(0, 4000); err != nil {
				t.Fatal(err)
			}
			if code := st.closeCode(); code != 4000 {
				t.Fatalf("close %d, want 4000", code)
			}
			<-echoed
			// The server ends the TCP connection once it has read the
			// answer, so the answer has been handled before the RESUME.
			_ = st.ws.UnderlyingConn().SetReadDeadline(time.Now().Add(readTimeout))
			_, _ = io.Copy(io.Discard, st.ws.UnderlyingConn())
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, WithGuilds(2))
			st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
			tc.close(t, s, st)
			c := resumeClient(t, s, st, lastOf(st.seqs), gateway.CompressionNone)
			f := c.mustNext()
			switch {
			case tc.resumable && f.event() != "RESUMED":
				t.Fatalf("got op %d %q, want RESUMED", f.Op, f.event())
			case !tc.resumable && (f.Op != opInvalidSession || string(f.D) != "false"):
				t.Fatalf("got op %d d=%s, want op 9 false", f.Op, f.D)
			}
		})
	}
}
