package discordtest

import (
	"net"
	"testing"
)

// TestTrafficGivesBackUnwrittenEmits runs a writer's traffic step with 5
// Emit MESSAGE_CREATEs (already taken from the session's count) and 3 rate
// dispatches. Whatever the writer does not get to assign must go back to
// the session's Emit count, so the connection that resumes the session
// writes it, as Emit promises. The writer used to drop them when a RESUME
// on another connection took the session over mid-batch, or a write failed.
func TestTrafficGivesBackUnwrittenEmits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		lost       bool // another connection owns the session
		writeFails bool
		wantOK     bool
		wantSeq    int64 // dispatches assigned
		wantEmit   int64 // Emit count back in the session
	}{
		{"owned", false, false, true, 8, 0},
		{"lost to a resume", true, false, true, 0, 5},
		{"write fails", false, true, false, 1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, WithGuilds(2))
			c := &conn{srv: s, num: 1}
			sess := &session{id: "s", guilds: []int{0, 1}, owner: c, limit: 16}
			if tc.lost {
				sess.owner = &conn{srv: s, num: 2}
			}
			w := &writer{c: c, s: s, t: plainTransport{}, sess: sess, live: true}
			if tc.writeFails {
				client, server := net.Pipe()
				_ = client.Close()
				_ = server.Close()
				c.nc = server
				w.out = make([]byte, flushAt) // the next frame flushes
			}
			if ok := w.traffic(5, 3); ok != tc.wantOK {
				t.Fatalf("traffic = %t, want %t", ok, tc.wantOK)
			}
			if got := sess.lastSeq(); got != tc.wantSeq {
				t.Fatalf("%d dispatches assigned, want %d", got, tc.wantSeq)
			}
			if got := sess.emit.Load(); got != tc.wantEmit {
				t.Fatalf("Emit count back in the session = %d, want %d", got, tc.wantEmit)
			}
		})
	}
}
