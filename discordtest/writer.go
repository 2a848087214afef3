package discordtest

import (
	"time"

	"github.com/gorilla/websocket"
)

// trafficBatch is how many traffic dispatches the writer writes between two
// looks at its control queue, so controls and ACKs are never starved.
const trafficBatch = 64

// flushAt is the size at which the writer writes its batch of frames even
// in the middle of a step (READY and many GUILD_CREATEs, a long replay).
const flushAt = 64 << 10

// writer is the state of a connection's writer goroutine, the only
// goroutine that writes to the websocket. It produces rate and Emit
// traffic itself, without a channel per frame.
type writer struct {
	c    *conn
	s    *Server
	t    transport
	buf  []byte  // one rendered payload
	held []entry // guild events taken from the session, to write before the next dispatch
	out  []byte  // frames not yet written: one write per loop step
	acks ackQueue

	sess *session // the bound session, nil before IDENTIFY/RESUME or after loss
	live bool     // the session has started: traffic may flow

	k      int64  // traffic counter: picks guild, channel, user and kind
	msgN   uint64 // rate MESSAGE_CREATEs written: picks their content (contentMix)
	idN    uint64 // local snowflake counter
	rate   float64
	credit float64
	rateAt time.Time
	sent   int64 // dispatches written since the last counter flush
}

// writeLoop runs the writer until the connection ends. first is the
// connection's first instruction: a close for a bad query, else HELLO.
func (c *conn) writeLoop(first ctrl) {
	defer c.srv.wg.Done()
	defer close(c.done)
	w := &writer{c: c, s: c.srv, acks: ackQueue{delay: c.srv.cfg.ackDelay}}
	t, err := newTransport(c.comp)
	if err != nil || first.kind == ctrlClose {
		t = plainTransport{}
	}
	w.t = t
	defer w.t.close()
	defer w.flushCounters()
	if first.kind == ctrlClose {
		w.closeFrame(first.code, first.text)
		return
	}
	if !w.frame(w.s.helloFrame()) || !w.flush() {
		c.kill()
		return
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		now := time.Now()
		for n := w.acks.pop(now); n > 0; n-- {
			if !w.frame(frameAck) {
				c.kill()
				return
			}
			w.s.ctr.acks.Add(1)
		}
		guild := w.live && w.sess.queued.Load()
		if guild && !w.guildEvents() {
			c.kill()
			return
		}
		if emits, mixed := w.trafficDue(now); emits+mixed > 0 || guild {
			if !w.traffic(emits, mixed) || !w.flush() {
				c.kill()
				return
			}
			w.flushCounters()
			select {
			case m := <-c.ctrl:
				if !w.handle(m) {
					return
				}
			case <-c.stop:
				return
			default:
			}
			continue
		}
		if !w.flush() {
			c.kill()
			return
		}
		if d, ok := w.nextWake(now); ok {
			timer.Reset(d)
		}
		select {
		case m := <-c.ctrl:
			if !w.handle(m) {
				return
			}
		case <-c.stop:
			return
		case <-c.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (w *writer) flushCounters() {
	if w.sent > 0 {
		w.s.ctr.dispatches.Add(w.sent)
		w.sent = 0
	}
}

// frame queues one payload as a frame, writing the batch once it is large;
// false means the connection is broken.
func (w *writer) frame(p []byte) bool {
	out, err := w.t.appendFrame(w.out, p)
	w.out = out
	if err != nil {
		return false
	}
	if len(w.out) >= flushAt {
		return w.flush()
	}
	return true
}

// flush writes the queued frames with one system call. A single Write is
// never interleaved with gorilla's control frames (pong, close reply),
// because the socket serialises whole writes. The write deadline is set
// here, right before the write: a deadline set before the writer idled
// would already have passed when a late IDENTIFY arrives.
func (w *writer) flush() bool {
	if len(w.out) == 0 {
		return true
	}
	_ = w.c.nc.SetWriteDeadline(time.Now().Add(w.s.cfg.writeTimeout))
	_, err := w.c.nc.Write(w.out)
	if err != nil {
		w.c.logger().Debug("gateway write failed; dropping the connection", "err", err)
	}
	if cap(w.out) > 4*flushAt {
		w.out = nil // do not keep a huge READY batch around
	} else {
		w.out = w.out[:0]
	}
	return err == nil
}

// closeFrame writes a close frame and gives the client closeGrace to close
// the TCP connection, so it reads the frame before any reset.
func (w *writer) closeFrame(code int, text string) {
	w.flush()
	w.c.closeSent.Store(true)
	msg := websocket.FormatCloseMessage(code, text)
	_ = w.c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(w.s.cfg.writeTimeout))
	_ = w.c.nc.SetReadDeadline(time.Now().Add(w.s.cfg.closeGrace))
	w.c.logger().Debug("closed gateway connection", "code", code)
}

// handle runs one instruction; false means the writer must stop.
func (w *writer) handle(m ctrl) bool {
	c := w.c
	switch m.kind {
	case ctrlFrame:
		if !w.frame(m.frame) {
			c.kill()
			return false
		}
	case ctrlAck:
		w.acks.add(m.at)
	case ctrlClose:
		w.closeFrame(m.code, m.text)
		return false
	case ctrlDrop:
		w.flush()
		w.s.ctr.drops.Add(1)
		c.kill()
		return false
	case ctrlInvalidate:
		w.s.ctr.invalidSessions.Add(1)
		p := frameInvalidTrue
		if !m.resumable {
			p = frameInvalidFalse
			if w.sess != nil && !w.sess.ownedBy(c) {
				w.sess, w.live = nil, false
			}
		}
		if !w.frame(p) {
			c.kill()
			return false
		}
	case ctrlStart:
		return w.start(m)
	case ctrlMalformed:
		seq := int64(1)
		if w.sess != nil {
			seq = w.sess.nextSeq()
		}
		vals := holeVals{holeSeq: uint64(seq), holeID: w.nextID(), holeChannel: uint64(makeID(dmBase, 0))}
		w.buf = tplMalformed.render(w.buf[:0], &vals)
		w.s.ctr.malformed.Add(1)
		if !w.frame(w.buf) {
			c.kill()
			return false
		}
	case ctrlDMGuild:
		if w.sess == nil || len(w.sess.guilds) == 0 {
			return true
		}
		e := entry{kind: kindDMGuildCreate, guild: int32(w.sess.guilds[0]), id: w.nextID()}
		if !w.dispatch(e) {
			c.kill()
			return false
		}
	}
	return true
}

// start begins a session: READY and one GUILD_CREATE per owned guild after
// IDENTIFY, or the replay and RESUMED after RESUME.
func (w *writer) start(m ctrl) bool {
	w.sess, w.live = m.sess, false
	if m.resumed {
		for i := range m.replay {
			w.buf = w.render(w.buf[:0], &m.replay[i])
			if !w.frame(w.buf) {
				w.c.kill()
				return false
			}
			w.sent++
			w.s.ctr.replayed.Add(1)
		}
		if !w.dispatch(entry{kind: kindResumed, guild: -1}) {
			w.c.kill()
			return false
		}
	} else {
		if !w.dispatch(entry{kind: kindReady, guild: -1}) {
			w.c.kill()
			return false
		}
		for _, g := range m.sess.guilds {
			if !w.dispatch(entry{kind: kindGuildCreate, guild: int32(g)}) {
				w.c.kill()
				return false
			}
		}
		if w.sess != nil {
			w.sess.setOpen(w.c)
		}
	}
	w.flushCounters()
	w.live = w.sess != nil && w.sess.ownedBy(w.c)
	w.rate = 0 // restart rate accounting
	return true
}

// dispatch assigns e the session's next seq, records it and writes it,
// after the guild events queued before it. It returns false only when the
// write failed or the connection fell too far behind the guild events (see
// session.assign); a lost session ends traffic.
func (w *writer) dispatch(e entry) bool {
	if w.sess == nil {
		return true
	}
	held, res := w.sess.assign(w.c, &e, w.held[:0])
	w.held = held
	if res == lost {
		w.sess, w.live = nil, false
		return true
	}
	if !w.writeHeld() {
		return false
	}
	w.buf = w.render(w.buf[:0], &e)
	if !w.frame(w.buf) {
		return false
	}
	w.sent++
	return res == assigned
}

// guildEvents writes up to trafficBatch guild events queued for the
// session; false means the connection must end.
func (w *writer) guildEvents() bool {
	held, res := w.sess.take(w.c, w.held[:0], trafficBatch)
	w.held = held
	if res == lost {
		w.sess, w.live = nil, false
		return true
	}
	return w.writeHeld() && res == assigned
}

// writeHeld writes the guild events in held.
func (w *writer) writeHeld() bool {
	for i := range w.held {
		w.buf = w.render(w.buf[:0], &w.held[i])
		if !w.frame(w.buf) {
			return false
		}
		w.sent++
	}
	return true
}

func (w *writer) nextID() uint64 {
	w.idN++
	return uint64(messageBase+w.idN)<<22 | w.c.num&0x3fffff
}

// trafficDue returns how many Emit MESSAGE_CREATEs and how many rate
// dispatches to write now, at most trafficBatch in all.
func (w *writer) trafficDue(now time.Time) (emits, mixed int) {
	if !w.live {
		return 0, 0
	}
	if n := w.sess.emit.Load(); n > 0 {
		take := min(n, trafficBatch)
		w.sess.emit.Add(-take)
		emits = int(take)
	}
	r := w.s.currentRate()
	if r != w.rate {
		w.rate, w.rateAt, w.credit = r, now, 0
	}
	switch {
	case r == -1:
		mixed = trafficBatch - emits
	case r > 0:
		w.credit += now.Sub(w.rateAt).Seconds() * r
		w.rateAt = now
		w.credit = min(w.credit, trafficBatch)
		mixed = min(int(w.credit), trafficBatch-emits)
		w.credit -= float64(mixed)
	}
	return emits, mixed
}

// nextWake returns how long the writer may sleep: until the next ACK is due
// or the rate earns the next dispatch.
func (w *writer) nextWake(now time.Time) (time.Duration, bool) {
	var d time.Duration
	ok := false
	if at, has := w.acks.next(); has {
		d, ok = max(at.Sub(now), 0), true
	}
	if w.live && w.rate > 0 {
		rd := time.Duration((1 - w.credit) / w.rate * float64(time.Second))
		if !ok || rd < d {
			d, ok = max(rd, 0), true
		}
	}
	return d, ok
}

// traffic writes emits MESSAGE_CREATEs and mixed rate dispatches; the
// writer must hold a live session (trafficDue). The emits were taken from
// the session's Emit count: those this connection does not get to write (it
// lost the session to a RESUME elsewhere, or its write failed) go back to
// the session, for the connection that resumes it.
func (w *writer) traffic(emits, mixed int) bool {
	sess := w.sess
	for i := 0; i < emits+mixed; i++ {
		kind := kindMessage
		if i >= emits {
			switch w.k % 10 {
			case 7:
				kind = kindMemberAdd
			case 8:
				kind = kindReaction
			case 9:
				kind = kindTyping
			}
		}
		e := entry{kind: kind, k: w.k, guild: -1, id: w.nextID()}
		if g := sess.guilds; len(g) > 0 {
			e.guild = int32(g[int(w.k)%len(g)])
		} else {
			e.kind = kindMessage // without a guild, only DMs
		}
		popped := false
		if i < emits {
			e.text, popped = sess.popContent()
		} else if e.kind == kindMessage {
			w.msgN++
			e.text = w.s.mixedContent(w.msgN)
		}
		w.k++
		if !w.dispatch(e) {
			// e was assigned and kept for replay; the rest was not.
			if rest := emits - i - 1; rest > 0 {
				sess.emit.Add(int64(rest))
			}
			return false
		}
		if !w.live {
			// The session was lost: e was not assigned, nor the rest.
			if popped {
				sess.unpopContent(e.text)
			}
			if rest := emits - i; rest > 0 {
				sess.emit.Add(int64(rest))
			}
			return true
		}
	}
	return true
}
