package discordtest

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
)

// ctrlQueueSize bounds a connection's control queue. When it is full, the
// sender (the connection's reader or a fault method) blocks until the
// writer makes room or the connection ends.
const ctrlQueueSize = 256

type ctrlKind uint8

const (
	ctrlFrame      ctrlKind = iota // write frame as is
	ctrlAck                        // schedule the ACK of a beat read at at
	ctrlStart                      // start the session: READY + GUILD_CREATEs, or replay + RESUMED
	ctrlClose                      // write a close frame with code, then stop writing
	ctrlDrop                       // close the TCP connection without a close frame
	ctrlMalformed                  // write one malformed dispatch
	ctrlDMGuild                    // dispatch a GUILD_CREATE with a DM channel
	ctrlInvalidate                 // write op 9; if !resumable the session is gone
)

// ctrl is one instruction to a connection's writer.
type ctrl struct {
	kind      ctrlKind
	frame     []byte
	at        time.Time
	sess      *session
	replay    []entry
	resumed   bool
	resumable bool
	code      int
	text      string
}

// conn is one gateway websocket connection. The reader runs on the HTTP
// handler's goroutine; the writer is the only goroutine that writes to ws.
type conn struct {
	srv  *Server
	ws   *websocket.Conn
	nc   net.Conn
	num  uint64
	comp gateway.CompressionType

	ctrl     chan ctrl     // bounded, see ctrlQueueSize
	wake     chan struct{} // capacity 1: traffic or rate changed
	stop     chan struct{} // closed by kill
	done     chan struct{} // closed when the writer returns
	killOnce sync.Once

	withhold  atomic.Bool  // do not ACK heartbeats
	closeSent atomic.Bool  // the writer has written a close frame
	shardID   atomic.Int64 // -1 until IDENTIFY or RESUME
	count     atomic.Int64 // the shard count, 0 until IDENTIFY or RESUME
	sess      atomic.Pointer[session]

	// reader-owned
	closing     bool
	windowStart time.Time
	sent        int
}

func (c *conn) shard() int { return int(c.shardID.Load()) }

// key is the connection's shard and shard count; before IDENTIFY or RESUME
// it matches no live entry.
func (c *conn) key() shardKey { return shardKey{c.shard(), int(c.count.Load())} }

// logger returns the server's logger with the connection's attributes:
// its number, and its shard once it has identified or resumed.
func (c *conn) logger() *slog.Logger {
	if id := c.shard(); id >= 0 {
		return c.srv.log.With(slog.Uint64("conn", c.num), slog.Int("shard", id))
	}
	return c.srv.log.With(slog.Uint64("conn", c.num))
}

// kill ends the connection at once: both goroutines stop.
func (c *conn) kill() {
	c.killOnce.Do(func() {
		close(c.stop)
		_ = c.nc.Close()
	})
}

// poke wakes the writer; it never blocks.
func (c *conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// send queues m for the writer, blocking while the queue is full. It
// reports false if the writer has stopped.
func (c *conn) send(m ctrl) bool {
	select {
	case c.ctrl <- m:
		return true
	case <-c.done:
		return false
	}
}

// serveGateway upgrades to a websocket and runs the connection's reader.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	c := &conn{
		srv:  s,
		ws:   ws,
		nc:   ws.NetConn(),
		num:  s.connN.Add(1),
		comp: gateway.CompressionType(q.Get("compress")),
		ctrl: make(chan ctrl, ctrlQueueSize),
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	c.shardID.Store(-1)
	ws.SetReadLimit(1 << 20) // a safety net; the 4096-byte limit is enforced below
	ws.SetCloseHandler(c.clientClose)
	if !s.track(c) {
		_ = ws.Close()
		return
	}
	s.ctr.connections.Add(1)
	s.ctr.active.Add(1)
	defer func() {
		c.kill()
		<-c.done
		s.untrack(c)
		if sess := c.sess.Load(); sess != nil {
			sess.release(c)
		}
		s.ctr.active.Add(-1)
		s.wg.Done()
	}()

	first := ctrl{kind: ctrlFrame}
	switch {
	case q.Has("v") && q.Get("v") != "10":
		first = ctrl{kind: ctrlClose, code: closeInvalidAPIVersion, text: "Invalid API version."}
	case q.Has("encoding") && q.Get("encoding") != "json":
		first = ctrl{kind: ctrlClose, code: closeDecodeError, text: "Invalid encoding."}
	case !slices.Contains(s.cfg.compressions, c.comp):
		first = ctrl{kind: ctrlClose, code: closeDecodeError, text: "Invalid compression."}
	}
	go c.writeLoop(first)
	c.readLoop()
}

// closeWith asks the writer to close with code; the reader then only
// drains until the client closes or the grace period ends.
func (c *conn) closeWith(code int, text string) {
	c.closing = true
	c.send(ctrl{kind: ctrlClose, code: code, text: text})
}

func (c *conn) readLoop() {
	var buf bytes.Buffer
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(io.LimitReader(r, maxPayload+1)); err != nil {
			return
		}
		if c.closing {
			continue
		}
		now := time.Now()
		if d := c.srv.latency.next(); d > 0 {
			// WithClientLatency: the frame arrives d later, and Discord
			// times a frame when it arrives.
			now = now.Add(d)
			if !c.srv.sleepUntil(now, c.stop) {
				return
			}
		}
		if now.Sub(c.windowStart) >= c.srv.cfg.sendWindow {
			c.windowStart, c.sent = now, 0
		}
		c.sent++
		switch {
		case c.sent > c.srv.cfg.sendLimit:
			c.srv.ctr.sendLimitCloses.Add(1)
			c.closeWith(closeRateLimited, "You are being rate limited.")
			continue
		case buf.Len() > maxPayload:
			c.srv.ctr.oversizeCloses.Add(1)
			c.closeWith(closeDecodeError, "Decode error.")
			continue
		}
		c.handle(buf.Bytes(), now)
	}
}

// clientClose is the websocket's close handler, run on the reader when the
// client's close frame arrives. A close with 1000 or 1001 ends the session,
// as on Discord: it can no longer be resumed and gets no more dispatches. A
// close that answers the server's own close frame (with any code) leaves
// the session resumable. The session is gone before the close is echoed, so
// a client that has read the echo finds it gone.
func (c *conn) clientClose(code int, _ string) error {
	if (code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway) && !c.closing && !c.closeSent.Load() {
		if sess := c.sess.Load(); sess != nil && sess.ownedBy(c) {
			c.srv.forget(sess)
			c.logger().Debug("client closed the session", slog.Int("code", code), slog.String("session", sess.id))
		}
	}
	// What gorilla's default close handler does: echo the code.
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(c.srv.cfg.writeTimeout))
	return nil
}

// handle acts on one client payload read at now.
func (c *conn) handle(data []byte, now time.Time) {
	s := c.srv
	p, err := parseClientPayload(data)
	switch {
	case errors.Is(err, errUnknownOpcode):
		s.ctr.unknownOpcodeCloses.Add(1)
		c.closeWith(closeUnknownOpcode, "Unknown opcode.")
		return
	case err != nil:
		s.ctr.decodeCloses.Add(1)
		c.closeWith(closeDecodeError, "Decode error.")
		return
	}
	switch p.op {
	case opHeartbeat:
		if parseHeartbeat(p.d) != nil {
			s.ctr.decodeCloses.Add(1)
			c.closeWith(closeDecodeError, "Decode error.")
			return
		}
		s.ctr.heartbeats.Add(1)
		if !c.withhold.Load() {
			c.send(ctrl{kind: ctrlAck, at: now})
		}
	case opIdentify:
		c.identify(p, now)
	case opResume:
		c.resume(p)
	default: // presence, voice state, member and soundboard requests: accepted, ignored
		if c.sess.Load() == nil {
			c.closeWith(closeNotAuthenticated, "Not authenticated.")
		}
	}
}

// identify handles an IDENTIFY that arrived at now.
func (c *conn) identify(p clientPayload, now time.Time) {
	s := c.srv
	if c.sess.Load() != nil {
		c.closeWith(closeAlreadyAuthenticated, "Already authenticated.")
		return
	}
	id, err := parseIdentify(p.d)
	if err != nil {
		s.ctr.decodeCloses.Add(1)
		c.closeWith(closeDecodeError, "Decode error.")
		return
	}
	if id.Token != s.token && id.Token != "Bot "+s.token {
		s.ctr.authFailures.Add(1)
		c.closeWith(closeAuthenticationFailed, "Authentication failed.")
		return
	}
	shard := [2]int{0, 1}
	if id.Shard != nil {
		shard = *id.Shard
	}
	if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
		s.ctr.invalidShards.Add(1)
		c.closeWith(closeInvalidShard, "Invalid shard.")
		return
	}
	guilds := s.world.guildsOf(shard[0], shard[1])
	if len(guilds) > s.cfg.maxGuildsPerShard {
		s.ctr.shardingRequired.Add(1)
		c.closeWith(closeShardingRequired, "Sharding required.")
		return
	}
	intents := gateway.Intents(id.Intents)
	if id.Intents < 0 || intents&^gateway.IntentsAll != 0 {
		s.ctr.intentCloses.Add(1)
		c.closeWith(closeInvalidIntents, "Invalid intent(s).")
		return
	}
	if intents&gateway.IntentsPrivileged&^s.cfg.allowedIntents != 0 {
		s.ctr.intentCloses.Add(1)
		c.closeWith(closeDisallowedIntents, "Disallowed intent(s).")
		return
	}
	// Not c.logger(): the connection has no shard yet.
	log := c.srv.log.With(slog.Uint64("conn", c.num), slog.Int("shard", shard[0]), slog.Int("shards", shard[1]))
	switch s.gate.admit(shard[0], now) {
	case bucketBreached:
		s.ctr.bucketBreaches.Add(1)
		log.Warn("identify bucket breached; answering op 9")
		c.invalidSession(false)
		return
	case limitExhausted:
		s.ctr.sessionLimitRefusals.Add(1)
		log.Warn("session start limit exhausted; answering op 9")
		c.invalidSession(false)
		return
	}
	sess := &session{
		id:         newSessionID(),
		shardID:    shard[0],
		shardCount: shard[1],
		guilds:     guilds,
		owner:      c,
		limit:      s.cfg.replayBuffer,
	}
	sess.ready = s.readyData(sess)
	s.ctr.identifies.Add(1)
	c.shardID.Store(int64(shard[0]))
	c.count.Store(int64(shard[1]))
	c.sess.Store(sess)
	s.ledger.add(sess)
	s.bindLive(c, sess)
	sess.setStarted(time.Now())
	log.Debug("identified", slog.String("session", sess.id))
	c.send(ctrl{kind: ctrlStart, sess: sess})
}

func (c *conn) resume(p clientPayload) {
	s := c.srv
	if c.sess.Load() != nil {
		c.closeWith(closeAlreadyAuthenticated, "Already authenticated.")
		return
	}
	r, err := parseResume(p.d)
	if err != nil {
		s.ctr.decodeCloses.Add(1)
		c.closeWith(closeDecodeError, "Decode error.")
		return
	}
	if r.Token != s.token && r.Token != "Bot "+s.token {
		s.ctr.authFailures.Add(1)
		c.closeWith(closeAuthenticationFailed, "Authentication failed.")
		return
	}
	sess := s.session(r.SessionID)
	if sess == nil {
		s.ctr.resumeFailures.Add(1)
		c.invalidSession(false)
		return
	}
	replay, prev, ok := sess.resume(c, *r.Seq)
	if !ok {
		s.ctr.resumeFailures.Add(1)
		c.invalidSession(false)
		return
	}
	if prev != nil && prev != c {
		prev.kill() // a session has one connection; the old one is stale
	}
	s.ctr.resumes.Add(1)
	c.shardID.Store(int64(sess.shardID))
	c.count.Store(int64(sess.shardCount))
	c.sess.Store(sess)
	s.bindLive(c, sess)
	c.logger().Debug("resumed", slog.String("session", sess.id), slog.Int64("seq", *r.Seq), slog.Int("replay", len(replay)))
	c.send(ctrl{kind: ctrlStart, sess: sess, replay: replay, resumed: true})
}

// invalidSession sends op 9 from the reader.
func (c *conn) invalidSession(resumable bool) {
	c.send(ctrl{kind: ctrlInvalidate, resumable: resumable})
}
