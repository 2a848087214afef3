package shard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/internal/wire"
)

// pipeConn returns a conn (reading frames of at most readLimit bytes)
// dialled to a loopback websocket server that runs serve on its side.
// Everything is closed at the end of the test.
func pipeConn(t *testing.T, readLimit int64, serve func(*websocket.Conn)) *conn {
	t.Helper()
	serverDone := make(chan struct{})
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer close(serverDone)
		defer ws.Close()
		serve(ws)
	}))
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ws.Close()
		<-serverDone
		srv.Close()
	})
	return newConn(ws, time.Second, readLimit)
}

// recordFrames is a pipeConn server side that sends every text frame it
// reads to frames until the connection ends.
func recordFrames(frames chan<- string) func(*websocket.Conn) {
	return func(ws *websocket.Conn) {
		for {
			_, p, err := ws.ReadMessage()
			if err != nil {
				return
			}
			frames <- string(p)
		}
	}
}

// TestHeartbeatBookkeeping checks what each kind of beat carries and what
// it does to the ACK flag the heartbeat goroutine judges. An answer to the
// gateway's op 1 sent just before a periodic tick used to clear the flag,
// so the tick took the still-travelling ACK for a zombie and reconnected a
// healthy connection.
func TestHeartbeatBookkeeping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		seq       int64
		requested bool
		wantFrame string
		wantAcked bool
	}{
		{"periodic before any dispatch", 0, false, `{"op":1,"d":null}`, false},
		{"periodic", 42, false, `{"op":1,"d":42}`, false},
		{"answer to op 1 keeps the previous ACK", 42, true, `{"op":1,"d":42}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			frames := make(chan string, 1) // one beat per case
			c := pipeConn(t, wire.MaxPayload, recordFrames(frames))
			s := New("token", 0, 1, nil, WithLogger(quietLogger()))
			s.seq.Store(tc.seq)
			c.acked.Store(true) // the last periodic beat was acknowledged
			if err := s.sendHeartbeat(c, tc.requested); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-frames:
				if got != tc.wantFrame {
					t.Fatalf("frame %s, want %s", got, tc.wantFrame)
				}
			case <-time.After(testWait):
				t.Fatal("no frame written")
			}
			if got := c.acked.Load(); got != tc.wantAcked {
				t.Fatalf("acked = %t after the beat, want %t", got, tc.wantAcked)
			}
			if c.beatSentAt.Load() == 0 {
				t.Fatal("no beat recorded as outstanding for the latency")
			}
			if got := s.Stats().Heartbeats; got != 1 {
				t.Fatalf("Heartbeats = %d, want 1", got)
			}
		})
	}
}
