package shard

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/internal/wire"
)

// TestReadLoopBoundsFrameSize sends frames around the read limit: one that
// fits is handled, one over it ends the connection with gorilla's
// ErrReadLimit instead of being buffered whole (a peer could otherwise make
// the shard allocate without bound).
func TestReadLoopBoundsFrameSize(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	cases := []struct {
		name    string
		size    int
		wantErr error
	}{
		{"at the limit", limit, nil},
		{"over the limit", limit + 1, websocket.ErrReadLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// An unknown opcode padded to size: harmless when read.
			head := []byte(`{"op":42,"d":"`)
			frame := append(head, bytes.Repeat([]byte("x"), tc.size-len(head)-2)...)
			frame = append(frame, '"', '}')
			c := pipeConn(t, limit, func(ws *websocket.Conn) {
				_ = ws.WriteMessage(websocket.TextMessage, frame)
				_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done"))
				_, _, _ = ws.ReadMessage() // until the client goes
			})
			s := New("token", 0, 1, nil, WithLogger(quietLogger()))
			inflater, err := wire.NewInflater(gateway.CompressionNone)
			if err != nil {
				t.Fatal(err)
			}
			err = s.readLoop(&session{c: c, inflater: inflater})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("readLoop = %v, want %v", err, tc.wantErr)
				}
				if got := s.Stats().UnknownOpcodes; got != 0 {
					t.Fatalf("the oversized frame was handled (%d unknown opcodes)", got)
				}
				return
			}
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4000 {
				t.Fatalf("readLoop = %v, want the server's close 4000", err)
			}
			if got := s.Stats().UnknownOpcodes; got != 1 {
				t.Fatalf("UnknownOpcodes = %d, want the frame at the limit handled", got)
			}
		})
	}
}

// TestCloseReasonStaysValid closes with long reasons: the peer must get
// the code and a reason cut to fit a control frame on a rune boundary. A
// cut through a rune made the peer fail with a protocol error instead.
func TestCloseReasonStaysValid(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, text string }{
		{"ascii", strings.Repeat("x", 300)},
		{"two-byte runes across the cut", "xx" + strings.Repeat("é", 100)},
		{"short", "bye"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan error, 1)
			c := pipeConn(t, wire.MaxPayload, func(ws *websocket.Conn) {
				_, _, err := ws.ReadMessage()
				got <- err
			})
			c.closeGracefully(4000, tc.text, time.Second)
			err := <-got
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 4000 {
				t.Fatalf("peer read %v, want close 4000", err)
			}
			if !utf8.ValidString(ce.Text) || len(ce.Text) > maxCloseText || !strings.HasPrefix(tc.text, ce.Text) {
				t.Fatalf("peer got reason %q (%d bytes)", ce.Text, len(ce.Text))
			}
		})
	}
}
