package discordtest

// Faults and traffic on demand. Each method acts on the newest connection
// bound to a session for the shard, of every shard count that has one
// (shard 3 of 8 and shard 3 of 16 during a re-shard both), or on every such
// connection for AllShards, and returns ErrNoSession when there is none. Instructions are
// queued to the connection's writer in order; a method returns once its
// instruction is queued, not once it is written. When the writer's queue is
// full the method blocks until there is room or the connection ends.

// each queues m (built per connection) on every target; ErrNoSession if no
// target took it.
func (s *Server) each(shardID int, build func(c *conn) (ctrl, bool)) error {
	cs, err := s.targets(shardID)
	if err != nil {
		return err
	}
	ok := false
	for _, c := range cs {
		m, send := build(c)
		if send && c.send(m) {
			ok = true
		}
	}
	if !ok {
		return ErrNoSession
	}
	return nil
}

func fixed(m ctrl) func(*conn) (ctrl, bool) {
	return func(*conn) (ctrl, bool) { return m, true }
}

// Emit queues n MESSAGE_CREATE dispatches to the shard's live session (or
// every live session for AllShards), written as soon as the writer gets to
// them, before rate traffic. The count belongs to the session: what a lost
// connection did not write, the connection that resumes the session writes.
// Each is recorded in the ledger when it is written. Emit never blocks.
func (s *Server) Emit(shardID, n int) error {
	cs, err := s.targets(shardID)
	if err != nil {
		return err
	}
	ok := false
	for _, c := range cs {
		if sess := c.sess.Load(); sess != nil {
			sess.emit.Add(int64(max(n, 0)))
			c.poke()
			ok = true
		}
	}
	if !ok {
		return ErrNoSession
	}
	return nil
}

// Reconnect sends op 7 RECONNECT. The connection stays open; a client is
// expected to close it and RESUME.
func (s *Server) Reconnect(shardID int) error {
	return s.each(shardID, func(*conn) (ctrl, bool) {
		s.ctr.reconnects.Add(1)
		return ctrl{kind: ctrlFrame, frame: frameReconnect}, true
	})
}

// InvalidSession sends op 9 with d:resumable. With resumable false the
// session is forgotten first: it can no longer be resumed and gets no more
// dispatches, and the connection may IDENTIFY again. The connection stays
// open.
func (s *Server) InvalidSession(shardID int, resumable bool) error {
	return s.each(shardID, func(c *conn) (ctrl, bool) {
		if !resumable {
			if sess := c.sess.Load(); sess != nil {
				s.forget(sess)
				c.sess.CompareAndSwap(sess, nil)
			}
		}
		return ctrl{kind: ctrlInvalidate, resumable: resumable}, true
	})
}

// CloseShard writes a close frame with code (any code, e.g. 4000 to make a
// client resume or 4004 to make it give up), then closes the connection
// once the client has, or after the close grace. The session survives and
// can be resumed.
func (s *Server) CloseShard(shardID, code int) error {
	return s.each(shardID, func(*conn) (ctrl, bool) {
		s.ctr.faultCloses.Add(1)
		return ctrl{kind: ctrlClose, code: code, text: "discordtest fault"}, true
	})
}

// DropShard closes the TCP connection without a close frame, between two
// frames. The session survives and can be resumed.
func (s *Server) DropShard(shardID int) error {
	return s.each(shardID, fixed(ctrl{kind: ctrlDrop}))
}

// WithholdAcks turns the zombie fault on or off: while on, heartbeats are
// read and counted but not ACKed. It applies to the current connection
// only; a new connection ACKs again.
func (s *Server) WithholdAcks(shardID int, on bool) error {
	cs, err := s.targets(shardID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		c.withhold.Store(on)
	}
	return nil
}

// SendMalformed writes one malformed frame: a MESSAGE_CREATE dispatch cut
// off mid-JSON that names the seq the next real dispatch will carry. It is
// not a dispatch: it consumes no sequence number, is not recorded in the
// ledger and is never replayed, so a client that drops it (as it should)
// loses nothing. It is counted in Counters.MalformedSent.
func (s *Server) SendMalformed(shardID int) error {
	return s.each(shardID, fixed(ctrl{kind: ctrlMalformed}))
}

// SendDMGuildCreate dispatches a GUILD_CREATE for the shard's first guild
// whose "channels" also holds a DM channel (type 1), the shape that makes
// disgo v0.19.6 panic. It is a real dispatch: it gets a seq, is recorded
// and replayed. It returns ErrNoGuild if the shard owns no guild.
func (s *Server) SendDMGuildCreate(shardID int) error {
	noGuild := false
	err := s.each(shardID, func(c *conn) (ctrl, bool) {
		if sess := c.sess.Load(); sess == nil || len(sess.guilds) == 0 {
			noGuild = true
			return ctrl{}, false
		}
		return ctrl{kind: ctrlDMGuild}, true
	})
	if err != nil && noGuild {
		return ErrNoGuild
	}
	return err
}

// RequestHeartbeat sends op 1, asking the client to heartbeat at once.
func (s *Server) RequestHeartbeat(shardID int) error {
	return s.each(shardID, fixed(ctrl{kind: ctrlFrame, frame: frameHeartbeatCall}))
}
