package shard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// silentGateway is a websocket server that runs script for each
// connection (numbered from 1) and then reads until the connection ends.
type silentGateway struct {
	url   string
	conns atomic.Int64
}

func newSilentGateway(t *testing.T, script func(n int64, ws *websocket.Conn)) *silentGateway {
	t.Helper()
	g := &silentGateway{}
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		script(g.conns.Add(1), ws)
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	g.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return g
}

// hello writes HELLO and reads the client's answer (IDENTIFY or RESUME),
// checking its opcode.
func hello(t *testing.T, ws *websocket.Conn, wantOp int) {
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":10,"d":{"heartbeat_interval":45000}}`)); err != nil {
		return
	}
	for {
		_, p, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if strings.HasPrefix(string(p), `{"op":1,`) {
			continue // a heartbeat
		}
		if !strings.HasPrefix(string(p), fmt.Sprintf(`{"op":%d,`, wantOp)) {
			t.Errorf("got %s, want op %d", p, wantOp)
		}
		return
	}
}

// TestReadyTimeoutFailsStart: a gateway that accepts the connection but
// never answers (no HELLO, or no READY after IDENTIFY, or no RESUMED after
// RESUME) used to make Open wait forever. It must fail Open with
// ErrReadyTimeout after the ready timeout, without retrying on its own.
func TestReadyTimeoutFailsStart(t *testing.T) {
	t.Parallel()
	resumable := State{SessionID: "s1", Seq: 7, ResumeURL: ""}
	cases := []struct {
		name   string
		state  State
		script func(t *testing.T) func(int64, *websocket.Conn)
	}{
		{"no HELLO", State{}, func(*testing.T) func(int64, *websocket.Conn) {
			return func(int64, *websocket.Conn) {}
		}},
		{"no READY after IDENTIFY", State{}, func(t *testing.T) func(int64, *websocket.Conn) {
			return func(_ int64, ws *websocket.Conn) { hello(t, ws, 2) }
		}},
		{"no RESUMED after RESUME", resumable, func(t *testing.T) func(int64, *websocket.Conn) {
			return func(_ int64, ws *websocket.Conn) { hello(t, ws, 6) }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newSilentGateway(t, tc.script(t))
			opts := []Option{WithURL(g.url), WithLogger(quietLogger()), WithQueue(testQueue()),
				WithReadyTimeout(50 * time.Millisecond), WithBackoff(time.Millisecond, time.Millisecond)}
			if tc.state.Resumable() {
				opts = append(opts, WithState(tc.state))
			}
			s := New("token", 0, 1, nil, opts...)
			ctx, cancel := context.WithTimeout(t.Context(), testWait)
			defer cancel()
			err := s.Open(ctx)
			if !errors.Is(err, ErrReadyTimeout) {
				t.Fatalf("Open = %v, want ErrReadyTimeout", err)
			}
			<-s.Done()
			if !errors.Is(s.Err(), ErrReadyTimeout) {
				t.Fatalf("Err = %v, want ErrReadyTimeout", s.Err())
			}
			if n := g.conns.Load(); n != 1 {
				t.Fatalf("%d connections, want 1: the shard retried by itself", n)
			}
			s.Close(context.Background())
		})
	}
}

// TestReadyTimeoutAfterReadyReconnects: once the shard has had a ready
// session, a connection that gets no answer is only dropped, and the
// shard resumes on the next one.
func TestReadyTimeoutAfterReadyReconnects(t *testing.T) {
	t.Parallel()
	var g *silentGateway
	g = newSilentGateway(t, func(n int64, ws *websocket.Conn) {
		switch n {
		case 1: // a session, then a close that keeps it resumable
			hello(t, ws, 2)
			ready := fmt.Sprintf(`{"op":0,"s":1,"t":"READY","d":{"v":10,"user":{"id":"1","username":"bot","discriminator":"0"},`+
				`"guilds":[],"session_id":"s1","resume_gateway_url":%q,"shard":[0,1],"application":{"id":"1","flags":0}}}`, g.url)
			_ = ws.WriteMessage(websocket.TextMessage, []byte(ready))
			_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "again"))
		case 2: // RESUME read, never answered
			hello(t, ws, 6)
		default:
			hello(t, ws, 6)
			_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":0,"s":2,"t":"RESUMED","d":null}`))
		}
	})
	events := make(chan Event, 64)
	s := New("token", 0, 1, nil, WithURL(g.url), WithLogger(quietLogger()), WithQueue(testQueue()),
		WithReadyTimeout(50*time.Millisecond), WithBackoff(time.Millisecond, time.Millisecond),
		WithEventHook(func(e Event) {
			select {
			case events <- e:
			default:
			}
		}))
	ctx, cancel := context.WithTimeout(t.Context(), testWait)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	sawTimeout := false
	for {
		select {
		case e := <-events:
			if d, ok := e.(Disconnected); ok && errors.Is(d.Err, ErrReadyTimeout) {
				sawTimeout = true
			}
			if _, ok := e.(Resumed); ok {
				if !sawTimeout {
					t.Fatal("resumed without the ready timeout on the way")
				}
				if n := g.conns.Load(); n != 3 {
					t.Fatalf("%d connections, want 3", n)
				}
				return
			}
		case <-ctx.Done():
			t.Fatalf("no RESUMED after the ready timeout; err %v", s.Err())
		}
	}
}
