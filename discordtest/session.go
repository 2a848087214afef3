package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// entryKind says how to re-render a dispatch kept for replay.
type entryKind uint8

const (
	kindReady entryKind = iota
	kindGuildCreate
	kindDMGuildCreate
	kindMessage
	kindMemberAdd
	kindReaction
	kindTyping
	kindResumed
	kindGuildTyping // a guild event's TYPING_START: its timestamp is typingTime + id
)

// entry is one dispatch of a session: enough to render it again on RESUME
// (about 32 bytes), instead of a copy of the frame.
type entry struct {
	seq   int64
	id    uint64 // fresh snowflake or DM counter
	k     int64  // selector for channel and user
	guild int32  // guild index, -1 for none
	kind  entryKind
	text  uint16 // content index of a MESSAGE_CREATE (see contentTable); 0 is lorem ipsum
}

// session is a gateway session. It outlives its connections so a later
// connection can RESUME it. mu guards every field below it.
type session struct {
	id         string
	shardID    int
	shardCount int
	guilds     []int  // indices of the guilds the shard owns
	ready      []byte // READY data, encoded once

	// emit counts the MESSAGE_CREATEs requested by Emit and not yet
	// written. It belongs to the session, so a RESUME carries it over.
	emit atomic.Int64

	// queued says that the guild feed kept dispatches the owner's writer
	// has not taken yet (seq > sent); the writer reads it without mu.
	queued atomic.Bool

	mu    sync.Mutex
	seq   int64 // last sequence number assigned
	sent  int64 // last sequence number handed to the owner's writer (or covered by a RESUME's replay)
	owner *conn // the connection the session is bound to, or nil
	dead  bool  // invalidated: cannot be resumed
	open  bool  // READY and every GUILD_CREATE are assigned: guild events may follow
	ring  []entry
	head  int // index of the oldest entry once ring is full
	limit int

	started time.Time // when it became live (Ledger.Started); zero before

	// texts are the content indices of the EmitMessage calls not yet
	// written, oldest first; each is also counted in emit. 2 bytes each.
	// nTexts is len(texts), read without mu so that plain Emit traffic
	// does not take the lock to find there is none.
	texts  []uint16
	nTexts atomic.Int64
}

// pushContent queues the content of one EmitMessage.
func (s *session) pushContent(i uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, i)
	s.nTexts.Add(1)
}

// popContent takes the oldest queued EmitMessage content, or reports false.
func (s *session) popContent() (uint16, bool) {
	if s.nTexts.Load() == 0 {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.texts) == 0 {
		return 0, false
	}
	i := s.texts[0]
	s.texts = s.texts[1:]
	s.nTexts.Add(-1)
	if len(s.texts) == 0 {
		s.texts = nil // let the backing array go
	}
	return i, true
}

// unpopContent puts back a content taken by popContent but not written.
func (s *session) unpopContent(i uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append([]uint16{i}, s.texts...)
	s.nTexts.Add(1)
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// assignResult is the outcome of assign and take.
type assignResult uint8

const (
	assigned assignResult = iota
	lost                  // the connection no longer owns the session
	overrun               // guild events the writer had not taken fell out of the replay buffer
)

// assign gives e the next sequence number and keeps it for replay, if c
// still owns the session. The guild events queued before it (see deliver)
// are appended to dst, to be written before e. When some of those have
// already left the replay buffer, e is assigned anyway and the result is
// overrun: the connection cannot write a gapless stream and must end.
func (s *session) assign(c *conn, e *entry, dst []entry) ([]entry, assignResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != c || s.dead {
		return dst, lost
	}
	dst, ok := s.unsentLocked(dst, int(s.seq-s.sent))
	s.seq++
	e.seq = s.seq
	s.keepLocked(*e)
	s.sent = s.seq
	if !ok {
		return dst, overrun
	}
	return dst, assigned
}

// take appends to dst up to n guild events queued for c's writer, oldest
// first.
func (s *session) take(c *conn, dst []entry, n int) ([]entry, assignResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != c || s.dead {
		return dst, lost
	}
	dst, ok := s.unsentLocked(dst, min(n, int(s.seq-s.sent)))
	if !ok {
		return dst, overrun
	}
	return dst, assigned
}

// unsentLocked appends the n oldest kept dispatches after sent to dst and
// moves sent past them. It reports false, moving sent to seq, when they
// are no longer all kept.
func (s *session) unsentLocked(dst []entry, n int) ([]entry, bool) {
	if n <= 0 {
		if s.queued.Load() { // no store on the plain traffic path
			s.queued.Store(false)
		}
		return dst, true
	}
	first := len(s.ring) - int(s.seq-s.sent) // index of the entry after sent
	if first < 0 {
		s.sent = s.seq
		s.queued.Store(false)
		return dst, false
	}
	for i := first; i < first+n; i++ {
		dst = append(dst, s.ring[(s.head+i)%len(s.ring)])
	}
	s.sent += int64(n)
	s.queued.Store(s.sent < s.seq)
	return dst, true
}

// keepLocked keeps e for replay, overwriting the oldest once full.
func (s *session) keepLocked(e entry) {
	if len(s.ring) < s.limit {
		s.ring = append(s.ring, e)
	} else {
		s.ring[s.head] = e
		s.head = (s.head + 1) % s.limit
	}
}

// deliver gives a guild event the session's next sequence number and keeps
// it for replay, whether or not a connection is bound, once the session is
// open and while it is not dead. It returns the owner, whose writer writes
// it, or nil.
func (s *session) deliver(e entry) (owner *conn, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || !s.open {
		return nil, false
	}
	s.seq++
	e.seq = s.seq
	s.keepLocked(e)
	if s.owner != nil {
		s.queued.Store(true)
	}
	return s.owner, true
}

// setOpen marks the session open to guild events, if c owns it.
func (s *session) setOpen(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner == c {
		s.open = true
	}
}

// nextSeq is the sequence number the next dispatch will carry.
func (s *session) nextSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq + 1
}

// setStarted records when the session became live.
func (s *session) setStarted(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = t
}

// startedAt is when the session became live, or the zero time.
func (s *session) startedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// lastSeq is the last sequence number assigned.
func (s *session) lastSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// resume binds the session to c and returns every kept dispatch after seq,
// in order, and the previous owner. It reports false if the session is dead
// or seq is not within what the replay buffer can cover.
func (s *session) resume(c *conn, seq int64) (replay []entry, prev *conn, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	oldest := s.seq - int64(len(s.ring)) + 1
	if s.dead || seq > s.seq || seq < oldest-1 || seq < 0 {
		return nil, nil, false
	}
	n := int(s.seq - seq)
	replay = make([]entry, 0, n)
	for i := len(s.ring) - n; i < len(s.ring); i++ {
		replay = append(replay, s.ring[(s.head+i)%len(s.ring)])
	}
	prev, s.owner = s.owner, c
	s.sent = s.seq // the replay covers every queued guild event
	s.queued.Store(false)
	s.open = true // a session resumed before its GUILD_CREATEs were all written
	return replay, prev, true
}

// kill invalidates the session and returns its owner.
func (s *session) kill() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = true
	owner := s.owner
	s.owner = nil
	return owner
}

// release unbinds c if it still owns the session.
func (s *session) release(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner == c {
		s.owner = nil
	}
}

// ownedBy reports whether c owns the live session.
func (s *session) ownedBy(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner == c && !s.dead
}
