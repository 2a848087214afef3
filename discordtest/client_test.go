package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"github.com/gorilla/websocket"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// readTimeout is a safety net so a broken test fails instead of hanging; no
// assertion depends on it.
const readTimeout = 20 * time.Second

// testDialer reads with a large buffer, so the benchmark's client is cheap.
var testDialer = &websocket.Dialer{ReadBufferSize: 1 << 16, HandshakeTimeout: readTimeout}

// frame is one decoded server payload.
type frame struct {
	Op  int             `json:"op"`
	S   *int            `json:"s"`
	T   *string         `json:"t"`
	D   json.RawMessage `json:"d"`
	raw []byte
}

func (f frame) event() string {
	if f.T == nil {
		return ""
	}
	return *f.T
}

func (f frame) seq() int {
	if f.S == nil {
		return 0
	}
	return *f.S
}

// pipeBuffer hands the inflater what has arrived without ever reporting
// EOF, as disgo's transport does.
type pipeBuffer struct{ buf bytes.Buffer }

func (p *pipeBuffer) Read(b []byte) (int, error) {
	n, err := p.buf.Read(b)
	if err == io.EOF {
		return n, nil
	}
	return n, err
}

// client is a minimal gateway client for tests, used by one goroutine.
type client struct {
	t    testing.TB
	ws   *websocket.Conn
	comp gateway.CompressionType
	pipe *pipeBuffer
	zr   io.ReadCloser
	zd   *zstd.Decoder

	seqs []int // dispatch seqs received, in order
}

func dialURL(t testing.TB, base string, comp gateway.CompressionType, extra url.Values) (*client, error) {
	t.Helper()
	q := url.Values{"v": {"10"}, "encoding": {"json"}}
	if comp != gateway.CompressionNone {
		q.Set("compress", string(comp))
	}
	for k, v := range extra {
		q[k] = v
	}
	ws, _, err := testDialer.Dial(base+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	c := &client{t: t, ws: ws, comp: comp, pipe: &pipeBuffer{}}
	t.Cleanup(c.close)
	return c, nil
}

func dial(t testing.TB, s *Server, comp gateway.CompressionType) *client {
	t.Helper()
	c, err := dialURL(t, s.GatewayURL(), comp, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func (c *client) close() { _ = c.ws.Close() }

// next reads one payload. A close from the server is a *websocket.CloseError.
func (c *client) next() (frame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	mt, data, err := c.ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	raw := data
	switch c.comp {
	case gateway.CompressionZlibStream, gateway.CompressionZstdStream:
		if mt != websocket.BinaryMessage {
			return frame{}, fmt.Errorf("compressed message type %d", mt)
		}
		c.pipe.buf.Write(data)
		var r io.Reader
		if c.comp == gateway.CompressionZlibStream {
			if !bytes.HasSuffix(data, []byte{0, 0, 0xff, 0xff}) {
				return frame{}, errors.New("zlib-stream message without sync flush suffix")
			}
			if c.zr == nil {
				if c.zr, err = zlib.NewReader(c.pipe); err != nil {
					return frame{}, err
				}
			}
			r = c.zr
		} else {
			if c.zd == nil {
				if c.zd, err = zstd.NewReader(c.pipe, zstd.WithDecoderConcurrency(1)); err != nil {
					return frame{}, err
				}
			}
			r = c.zd
		}
		var m json.RawMessage
		if err := json.NewDecoder(r).Decode(&m); err != nil {
			return frame{}, err
		}
		c.pipe.buf.Reset()
		raw = m
	default:
		if mt != websocket.TextMessage {
			return frame{}, fmt.Errorf("plain message type %d", mt)
		}
	}
	var f frame
	if err := json.Unmarshal(raw, &f); err != nil {
		return frame{raw: raw}, err
	}
	f.raw = raw
	if f.Op == opDispatch {
		c.seqs = append(c.seqs, f.seq())
	}
	return f, nil
}

func (c *client) mustNext() frame {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// until reads until match returns true and returns that frame.
func (c *client) until(match func(frame) bool) frame {
	c.t.Helper()
	for {
		f := c.mustNext()
		if match(f) {
			return f
		}
	}
}

func isOp(op int) func(frame) bool { return func(f frame) bool { return f.Op == op } }

func isEvent(name string) func(frame) bool {
	return func(f frame) bool { return f.Op == opDispatch && f.event() == name }
}

// closeCode reads until the connection ends and returns the close code, or
// websocket.CloseAbnormalClosure for a TCP close without a close frame.
func (c *client) closeCode() int {
	c.t.Helper()
	for {
		_, err := c.next()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		c.t.Fatalf("read ended with %v, not a close", err)
	}
}

func (c *client) send(op int, d any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(map[string]any{"op": op, "d": d}); err != nil {
		c.t.Fatalf("send op %d: %v", op, err)
	}
}

func (c *client) sendRaw(p []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, p); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) hello() frame {
	c.t.Helper()
	f := c.mustNext()
	if f.Op != opHello {
		c.t.Fatalf("first frame op %d, want HELLO", f.Op)
	}
	return f
}

func (c *client) identify(token string, shard [2]int, intents int64) {
	c.send(opIdentify, map[string]any{
		"token": token, "intents": intents, "shard": shard,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"},
	})
}

func (c *client) resume(token, sessionID string, seq int) {
	c.send(opResume, map[string]any{"token": token, "session_id": sessionID, "seq": seq})
}

type readyEvent struct {
	SessionID        string `json:"session_id"`
	ResumeGatewayURL string `json:"resume_gateway_url"`
	Shard            [2]int `json:"shard"`
	Guilds           []struct {
		ID          snowflake.ID `json:"id"`
		Unavailable bool         `json:"unavailable"`
	} `json:"guilds"`
}

type guildEvent struct {
	ID       snowflake.ID `json:"id"`
	Channels []struct {
		ID   snowflake.ID `json:"id"`
		Type int          `json:"type"`
	} `json:"channels"`
}

// started is a client with a READY session whose GUILD_CREATEs are read.
type started struct {
	*client
	ready  readyEvent
	guilds []snowflake.ID // from GUILD_CREATE, in order
}

// startSession dials, identifies as shard [id, count] and reads READY and
// every GUILD_CREATE.
func startSession(t testing.TB, s *Server, shard [2]int, comp gateway.CompressionType) *started {
	t.Helper()
	c := dial(t, s, comp)
	c.hello()
	c.identify(s.Token(), shard, 0)
	f := c.mustNext()
	if f.event() != "READY" || f.seq() != 1 {
		t.Fatalf("got op %d %q s=%d, want READY s=1", f.Op, f.event(), f.seq())
	}
	st := &started{client: c}
	if err := json.Unmarshal(f.D, &st.ready); err != nil {
		t.Fatalf("READY: %v", err)
	}
	for range st.ready.Guilds {
		g := c.mustNext()
		if g.event() != "GUILD_CREATE" {
			t.Fatalf("got %q, want GUILD_CREATE", g.event())
		}
		var ge guildEvent
		if err := json.Unmarshal(g.D, &ge); err != nil {
			t.Fatalf("GUILD_CREATE: %v", err)
		}
		st.guilds = append(st.guilds, ge.ID)
	}
	return st
}

func seqRange(from, to int) []int {
	out := []int{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}
