package discordtest

import (
	"sync"
	"time"
)

// Ledger records, per shard, every session the server created and every
// sequence number it assigned to each, so a test can compare what a client
// received with what the server sent.
//
// A sequence number is recorded when the server's writer assigns it to a
// dispatch, immediately before writing the frame to the session's live
// connection; from then on the dispatch is also kept for replay, so a
// client that lost the connection gets it again by RESUME. Replays re-send
// already recorded numbers and are not recorded again, so Seqs lists each
// number once, and within a session the numbers are 1, 2, 3... without
// gaps (READY is 1). Malformed frames ([Server.SendMalformed]) are not
// dispatches: they carry the number the next dispatch will carry but are
// never recorded, never replayed and never consume a number, so a client
// that drops them sees no gap.
//
// A Ledger is safe for concurrent use. Its zero value is not usable; get
// one from [Server.Ledger]. Each recorded session costs a few hundred bytes
// whatever its traffic.
type Ledger struct {
	mu      sync.Mutex
	byShard map[int][]*session
}

func newLedger() *Ledger { return &Ledger{byShard: make(map[int][]*session)} }

func (l *Ledger) add(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byShard[s.shardID] = append(l.byShard[s.shardID], s)
}

func (l *Ledger) find(shardID int, sessionID string) *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.byShard[shardID] {
		if s.id == sessionID {
			return s
		}
	}
	return nil
}

// Sessions returns the IDs of the sessions created for shardID (whatever
// the shard count), in order of creation, including invalidated ones.
func (l *Ledger) Sessions(shardID int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.byShard[shardID]))
	for _, s := range l.byShard[shardID] {
		out = append(out, s.id)
	}
	return out
}

// Started returns when the session became the shard's live session: just
// after the server admitted the IDENTIFY that created it (with
// [WithClientLatency], after that frame's delay), read from the server's
// clock (time.Now), before READY was written. A fault method called after
// Started returned acts on this session or a newer one; one that returned
// before it acted on an older one. It returns the zero time for an unknown
// session, and for a session whose IDENTIFY is still being admitted.
func (l *Ledger) Started(shardID int, sessionID string) time.Time {
	s := l.find(shardID, sessionID)
	if s == nil {
		return time.Time{}
	}
	return s.startedAt()
}

// Seqs returns every sequence number assigned to the session, in order,
// each once (see the type's doc for replays and malformed frames). It
// returns nil for an unknown session. It allocates one int per number.
func (l *Ledger) Seqs(shardID int, sessionID string) []int {
	s := l.find(shardID, sessionID)
	if s == nil {
		return nil
	}
	n := int(s.lastSeq())
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// LastSeq returns the last sequence number assigned to the session, or 0
// (also for an unknown session). It does not allocate.
func (l *Ledger) LastSeq(shardID int, sessionID string) int {
	s := l.find(shardID, sessionID)
	if s == nil {
		return 0
	}
	return int(s.lastSeq())
}

// Total returns the number of sequence numbers assigned over all of the
// shard's sessions.
func (l *Ledger) Total(shardID int) int {
	l.mu.Lock()
	ss := append([]*session(nil), l.byShard[shardID]...)
	l.mu.Unlock()
	total := 0
	for _, s := range ss {
		total += int(s.lastSeq())
	}
	return total
}
