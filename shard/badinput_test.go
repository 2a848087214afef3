package shard

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/internal/wire"
)

// The bad-input catalogue of the shard (README, "Bad input: what you
// get"). Other entries live in faults_test.go, conn_test.go,
// traffic_test.go, unit_test.go and internal/wire.

// TestReadLoopSurvivesBadFrames sends frames whose envelope does not
// parse, each over a live connection: every one is dropped and counted,
// and the connection stays up (the frame after them is still handled).
func TestReadLoopSurvivesBadFrames(t *testing.T) {
	t.Parallel()
	bad := []struct {
		kind  int
		frame string
	}{
		{websocket.TextMessage, "not json"},
		{websocket.TextMessage, `{"op":`},   // truncated
		{websocket.TextMessage, `{"op":1,`}, // truncated after a member
		{websocket.TextMessage, ``},
		{websocket.TextMessage, `[1,2]`},
		{websocket.TextMessage, `"a string"`},
		{websocket.TextMessage, `{"op":"0"}`},                    // op not a number
		{websocket.TextMessage, `{"t":"X","s":"one","op":0}`},    // seq not a number
		{websocket.TextMessage, `{"t":7,"s":1,"op":0,"d":null}`}, // type not a string
		{websocket.BinaryMessage, "\xff\xfe\x00garbage"},
	}
	c := pipeConn(t, 1<<16, func(ws *websocket.Conn) {
		for _, b := range bad {
			_ = ws.WriteMessage(b.kind, []byte(b.frame))
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":42,"d":null}`)) // handled: the connection lives
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done"))
		_, _, _ = ws.ReadMessage()
	})
	logs := &syncBuffer{}
	s := New("token", 5, 8, nil, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	inflater, err := wire.NewInflater(gateway.CompressionNone)
	if err != nil {
		t.Fatal(err)
	}
	err = s.readLoop(&session{c: c, inflater: inflater})
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 {
		t.Fatalf("readLoop = %v, want the server's close 4000 after the bad frames", err)
	}
	st := s.Stats()
	if st.Dropped != uint64(len(bad)) || st.UnknownOpcodes != 1 {
		t.Fatalf("dropped %d (want %d), unknown opcodes %d (want 1)", st.Dropped, len(bad), st.UnknownOpcodes)
	}
	if n := strings.Count(logs.String(), "malformed gateway frame dropped"); n != len(bad) || !strings.Contains(logs.String(), "shard=5") {
		t.Fatalf("%d drops logged (want %d, with the shard):\n%s", n, len(bad), logs)
	}
}

// TestCorruptCompressedStream sends a compressed message that does not
// inflate: the read loop does not panic, and closes with 4000 (the
// session stays resumable) with a reason matching wire.ErrCorruptStream.
func TestCorruptCompressedStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		c       gateway.CompressionType
		garbage []byte
	}{
		{"zlib-stream", gateway.CompressionZlibStream, []byte{0x78, 0x9c, 0xff, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff}},
		{"zlib-stream, no zlib header", gateway.CompressionZlibStream, []byte{0x12, 0x34, 0x00, 0x00, 0xff, 0xff}},
		{"zstd-stream", gateway.CompressionZstdStream, []byte("not zstd at all")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			closed := make(chan int, 1)
			c := pipeConn(t, 1<<16, func(ws *websocket.Conn) {
				_ = ws.WriteMessage(websocket.BinaryMessage, tt.garbage)
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						var ce *websocket.CloseError
						if errors.As(err, &ce) {
							closed <- ce.Code
						}
						close(closed)
						return
					}
				}
			})
			s := New("token", 0, 1, nil, WithLogger(quietLogger()))
			inflater, err := wire.NewInflater(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			defer inflater.Close()
			err = s.readLoop(&session{c: c, inflater: inflater})
			if !errors.Is(err, wire.ErrCorruptStream) {
				t.Fatalf("readLoop = %v, want wire.ErrCorruptStream", err)
			}
			_ = c.ws.Close()
			if code, ok := <-closed; !ok || code != 4000 {
				t.Fatalf("the server saw close %d (%t), want 4000", code, ok)
			}
		})
	}
}

// TestOddDispatches decodes dispatches whose envelope is fine but whose
// data is not what disgo expects: snowflakes as JSON numbers (Discord
// sends strings) are a *MalformedDispatchError (the dispatch goroutine
// drops and counts it, see TestMalformedFrameDropped), an unknown event
// type becomes gateway.EventUnknown (skipped, not handed to the handler).
// No error quotes the payload.
func TestOddDispatches(t *testing.T) {
	t.Parallel()
	s := New("t", 0, 1, nil, WithLogger(quietLogger()))
	const secret = "payload-secret"
	bad := []struct {
		typ gateway.EventType
		raw string
	}{
		{gateway.EventTypeMessageCreate, `{"id":123,"channel_id":"2","content":"` + secret + `"}`},
		{gateway.EventTypeGuildCreate, `{"id":1,"name":"` + secret + `"}`},
		{gateway.EventTypeChannelPinsUpdate, `{"channel_id":5,"last_pin_timestamp":"` + secret + `"}`},
		{gateway.EventTypeGuildMemberAdd, `{"guild_id":"1","user":{"id":9,"username":"` + secret + `"}}`},
	}
	for _, unchecked := range []bool{false, true} {
		for _, b := range bad {
			data, err := s.decode(3, b.typ, []byte(b.raw), unchecked)
			var me *MalformedDispatchError
			if data != nil || !errors.As(err, &me) || me.Seq != 3 || me.Type != b.typ || !errors.Is(err, wire.ErrMalformedFrame) {
				t.Errorf("%s (unchecked %t): %v, %v; want a *MalformedDispatchError", b.typ, unchecked, data, err)
				continue
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error quotes the payload: %v", b.typ, err)
			}
		}
		data, err := s.decode(4, "A_FUTURE_EVENT", []byte(`{"id":"1"}`), unchecked)
		if _, ok := data.(gateway.EventUnknown); !ok || err != nil {
			t.Errorf("unknown type (unchecked %t): %T, %v; want gateway.EventUnknown", unchecked, data, err)
		}
	}
}
