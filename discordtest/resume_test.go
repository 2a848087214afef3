package discordtest

import (
	"errors"
	"slices"
	"testing"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
)

// resumeClient dials the resume URL and resumes st's session from seq.
func resumeClient(t *testing.T, s *Server, st *started, seq int, comp gateway.CompressionType) *client {
	t.Helper()
	c, err := dialURL(t, st.ready.ResumeGatewayURL, comp, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.resume(s.Token(), st.ready.SessionID, seq)
	return c
}

func lastOf(seqs []int) int {
	if len(seqs) == 0 {
		return 0
	}
	return seqs[len(seqs)-1]
}

// TestFaultsThenResumeLoseNothing applies each fault while traffic is
// queued, resumes, and checks that the client's seqs equal the ledger's.
func TestFaultsThenResumeLoseNothing(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name  string
		fault func(*Server) error
		until func(*client) // read until the fault shows
	}{
		{"op7", func(s *Server) error { return s.Reconnect(0) }, func(c *client) { c.until(isOp(opReconnect)) }},
		{"op9 resumable", func(s *Server) error { return s.InvalidSession(0, true) }, func(c *client) {
			f := c.until(isOp(opInvalidSession))
			if string(f.D) != "true" {
				c.t.Fatalf("op 9 d=%s, want true", f.D)
			}
		}},
		{"close 4000", func(s *Server) error { return s.CloseShard(0, 4000) }, func(c *client) {
			if code := c.closeCode(); code != 4000 {
				c.t.Fatalf("close %d, want 4000", code)
			}
		}},
		{"tcp drop", func(s *Server) error { return s.DropShard(0) }, func(c *client) {
			if code := c.closeCode(); code != websocket.CloseAbnormalClosure {
				c.t.Fatalf("close %d, want abnormal 1006", code)
			}
		}},
	}
	for _, comp := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		for _, f := range faults {
			t.Run(f.name+"/compress="+string(comp), func(t *testing.T) {
				t.Parallel()
				s := New(t, WithGuilds(3))
				st := startSession(t, s, [2]int{0, 1}, comp)
				if err := s.Emit(0, 30); err != nil {
					t.Fatal(err)
				}
				if err := f.fault(s); err != nil {
					t.Fatal(err)
				}
				if err := s.Emit(0, 30); err != nil {
					t.Fatal(err)
				}
				f.until(st.client)
				st.close()
				got := slices.Clone(st.seqs)
				c := resumeClient(t, s, st, lastOf(got), comp)
				messages, resumed := 0, false
				for _, q := range got {
					if q > 1+len(st.guilds) {
						messages++
					}
				}
				for messages < 60 || !resumed {
					fr := c.mustNext()
					switch fr.event() {
					case "MESSAGE_CREATE":
						messages++
					case "RESUMED":
						resumed = true
					}
				}
				got = append(got, c.seqs...)
				want := s.Ledger().Seqs(0, st.ready.SessionID)
				if !slices.Equal(got, want) {
					t.Fatalf("client seqs %v\nledger %v", got, want)
				}
				if messages != 60 {
					t.Errorf("%d messages, want 60", messages)
				}
				if n := s.Counters().Resumes; n != 1 {
					t.Errorf("Resumes = %d, want 1", n)
				}
			})
		}
	}
}

// TestResumeReplaysExactlyWhatWasMissed reads everything, "loses" the tail,
// and checks the replay is exactly that tail, then RESUMED.
func TestResumeReplaysExactlyWhatWasMissed(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if err := s.Emit(0, 10); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		st.mustNext()
	}
	kept := lastOf(st.seqs) - 5
	st.close()
	c := resumeClient(t, s, st, kept, gateway.CompressionNone)
	c.until(isEvent("RESUMED"))
	want := append(seqRange(kept+1, lastOf(st.seqs)), lastOf(st.seqs)+1)
	if !slices.Equal(c.seqs, want) {
		t.Fatalf("replay %v, want %v", c.seqs, want)
	}
	if n := s.Counters().Replayed; n != 5 {
		t.Errorf("Replayed = %d, want 5", n)
	}
}

func TestResumeRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts []Option
		prep func(t *testing.T, s *Server, st *started) (sessionID string, seq int)
	}{
		{"unknown session", nil, func(_ *testing.T, _ *Server, st *started) (string, int) {
			return "nope", lastOf(st.seqs)
		}},
		{"seq from the future", nil, func(_ *testing.T, _ *Server, st *started) (string, int) {
			return st.ready.SessionID, lastOf(st.seqs) + 5
		}},
		{"seq older than the replay buffer", []Option{WithReplayBuffer(4)}, func(t *testing.T, s *Server, st *started) (string, int) {
			if err := s.Emit(0, 10); err != nil {
				t.Fatal(err)
			}
			for range 10 {
				st.mustNext()
			}
			return st.ready.SessionID, lastOf(st.seqs) - 5
		}},
		{"invalidated session", nil, func(t *testing.T, s *Server, st *started) (string, int) {
			if err := s.InvalidSession(0, false); err != nil {
				t.Fatal(err)
			}
			f := st.until(isOp(opInvalidSession))
			if string(f.D) != "false" {
				t.Fatalf("op 9 d=%s", f.D)
			}
			if err := s.Emit(0, 1); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Emit after op 9 false: %v, want ErrNoSession", err)
			}
			return st.ready.SessionID, lastOf(st.seqs)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, append([]Option{WithGuilds(2)}, tc.opts...)...)
			st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
			id, seq := tc.prep(t, s, st)
			st.close()
			c, err := dialURL(t, s.ResumeURL(), gateway.CompressionNone, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.hello()
			c.resume(s.Token(), id, seq)
			f := c.until(isOp(opInvalidSession))
			if string(f.D) != "false" {
				t.Fatalf("op 9 d=%s, want false", f.D)
			}
			if n := s.Counters().ResumeFailures; n != 1 {
				t.Errorf("ResumeFailures = %d", n)
			}
		})
	}
}

// TestInvalidSessionFalseThenIdentifyAgain: after op 9 false the same
// connection can identify, and the ledger keeps both sessions.
func TestInvalidSessionFalseThenIdentifyAgain(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(2), WithIdentifyWindow(0))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if err := s.InvalidSession(0, false); err != nil {
		t.Fatal(err)
	}
	st.until(isOp(opInvalidSession))
	st.identify(s.Token(), [2]int{0, 1}, 0)
	st.until(isEvent("READY"))
	if got := s.Ledger().Sessions(0); len(got) != 2 || got[0] != st.ready.SessionID {
		t.Fatalf("sessions %v", got)
	}
}
