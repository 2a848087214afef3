package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one websocket connection. Frames are written by one writer at a
// time (wmu); close frames use gorilla's concurrency-safe WriteControl.
// Whoever ends the connection first records why (reason); the read loop
// returns that reason instead of the read error it then sees.
type conn struct {
	ws           *websocket.Conn
	writeTimeout time.Duration

	wmu sync.Mutex

	reasonMu sync.Mutex
	reason   error

	// Heartbeat bookkeeping. acked is set by the read loop on every ACK and
	// cleared by the heartbeat goroutine just before it writes a beat, so
	// an ACK read before the write returns still counts.
	acked      atomic.Bool
	beatSentAt atomic.Int64 // ns since Shard.epoch; 0 = no beat outstanding
	// stalled is true while the read loop is blocked (full dispatch queue
	// or identify queue); stalls counts stall starts and ends. A missing
	// ACK is not judged if the read loop is stalled or stalled at any time
	// since the beat.
	stalled atomic.Bool
	stalls  atomic.Uint64
}

// stallBegin and stallEnd bracket a wait of the read loop.
func (c *conn) stallBegin() {
	c.stalls.Add(1)
	c.stalled.Store(true)
}

func (c *conn) stallEnd() {
	c.stalled.Store(false)
	c.stalls.Add(1)
}

// newConn wraps ws. A frame larger than readLimit bytes ends the
// connection (gorilla answers it with close 1009) instead of being
// buffered whole: a frame's size comes from the peer.
func newConn(ws *websocket.Conn, writeTimeout time.Duration, readLimit int64) *conn {
	ws.SetReadLimit(readLimit)
	c := &conn{ws: ws, writeTimeout: writeTimeout}
	// Do not echo close frames from inside the read loop's call stack
	// through the default handler's error path; echo with a deadline.
	ws.SetCloseHandler(func(code int, text string) error {
		msg := websocket.FormatCloseMessage(code, "")
		_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		return nil
	})
	return c
}

// write sends one text frame. It is safe for concurrent use.
func (c *conn) write(payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, payload); err != nil {
		return fmt.Errorf("shard: write frame: %w", err)
	}
	return nil
}

type frame struct {
	Op int `json:"op"`
	D  any `json:"d"`
}

func marshalFrame(op int, d any) ([]byte, error) {
	payload, err := json.Marshal(frame{Op: op, D: d})
	if err != nil {
		return nil, fmt.Errorf("shard: encode op %d: %w", op, err)
	}
	return payload, nil
}

// setReason records why the connection ends; the first reason wins.
func (c *conn) setReason(err error) {
	c.reasonMu.Lock()
	if c.reason == nil {
		c.reason = err
	}
	c.reasonMu.Unlock()
}

func (c *conn) getReason() error {
	c.reasonMu.Lock()
	defer c.reasonMu.Unlock()
	return c.reason
}

// kill ends the connection now: it records reason, sends a close frame
// with code and drops the TCP connection, which unblocks the read loop.
func (c *conn) kill(code int, reason error) {
	c.setReason(reason)
	msg := websocket.FormatCloseMessage(code, "")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.ws.NetConn().Close()
}

// maxCloseText is the longest close reason sent: a control frame's payload
// is at most 125 bytes, two of which hold the code.
const maxCloseText = 123

// closeGracefully sends a close frame with code and gives the peer timeout
// to answer; the read loop sees the answer (or the read deadline) and ends.
func (c *conn) closeGracefully(code int, text string, timeout time.Duration) {
	c.setReason(ErrClosed)
	if len(text) > maxCloseText {
		// Cut on a rune boundary: a peer rejects a close reason that is
		// not valid UTF-8 as a protocol error and never sees the code.
		text = strings.ToValidUTF8(text[:maxCloseText], "")
	}
	msg := websocket.FormatCloseMessage(code, text)
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(timeout))
	_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(timeout))
}

// drop closes the TCP connection without ceremony.
func (c *conn) drop() {
	c.setReason(ErrClosed)
	_ = c.ws.NetConn().Close()
}

// classifyReadError turns a read error into the reason the connection
// ended: a *CloseError for a close frame, else the error itself.
func classifyReadError(err error) error {
	var wsClose *websocket.CloseError
	if errors.As(err, &wsClose) {
		return &CloseError{Code: wsClose.Code, Reason: wsClose.Text}
	}
	if errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("shard: connection closed: %w", err)
	}
	return fmt.Errorf("shard: read frame: %w", err)
}
