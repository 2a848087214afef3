package main

import (
	"math/bits"
	"sync"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"
)

// seqSet is a set of sequence numbers (a bitmap: 1 bit per number up to
// the largest). The zero value is an empty set.
type seqSet struct {
	words []uint64
	n     int // members
	max   int // largest member, 0 if empty
}

// add adds seq (> 0) and reports whether it was new.
func (s *seqSet) add(seq int) bool {
	w, b := seq/64, uint(seq%64)
	for len(s.words) <= w {
		s.words = append(s.words, 0)
	}
	if s.words[w]&(1<<b) != 0 {
		return false
	}
	s.words[w] |= 1 << b
	s.n++
	s.max = max(s.max, seq)
	return true
}

// has reports whether seq is in the set.
func (s *seqSet) has(seq int) bool {
	w := seq / 64
	return seq > 0 && w < len(s.words) && s.words[w]&(1<<uint(seq%64)) != 0
}

// countTo returns how many members are <= n.
func (s *seqSet) countTo(n int) int {
	c := 0
	for w, word := range s.words {
		if (w+1)*64-1 <= n {
			c += bits.OnesCount64(word)
			continue
		}
		for b := range 64 {
			if seq := w*64 + b; seq <= n && word&(1<<uint(b)) != 0 {
				c++
			}
		}
	}
	return c
}

// sessionLog is what the bot received of one session.
type sessionLog struct {
	seqs seqSet
	dups int // dispatches received again
}

// shardLog is what the bot received on one shard.
type shardLog struct {
	cur      *sessionLog // the session named by the last READY
	curID    string
	sessions map[string]*sessionLog
}

// recorder records every dispatch the bot's workers receive, per shard and
// session, whatever incarnation of whatever cluster received it. It is
// shared by every worker the soak's factory makes. Safe for concurrent
// use; each event costs one lock and a bit set.
//
// A dispatch's session is the one named by the last READY received on its
// shard (RESUMED continues it). disgo turns one dispatch into one or more
// events (MESSAGE_CREATE gives MessageCreate and GuildMessageCreate, with
// one sequence number): only the first of them, the primary, is recorded,
// so a repeated primary is a duplicate delivery. Events with sequence
// number 0 are not dispatches and are only counted.
type recorder struct {
	mu           sync.Mutex
	shards       map[int]*shardLog
	seq0         int // events with sequence number 0
	unattributed int // dispatches on a shard before any READY
	types        map[string]int
}

func newRecorder() *recorder {
	return &recorder{shards: map[int]*shardLog{}, types: map[string]int{}}
}

// secondary reports whether e is an event disgo dispatches after the
// primary event of the same dispatch (same sequence number), or an event
// that is no dispatch at all.
func secondary(e bot.Event) bool {
	switch e.(type) {
	case *events.GuildsReady, // after the last GuildReady
		*events.GuildMessageCreate, *events.DMMessageCreate, // after MessageCreate
		*events.GuildMessageReactionAdd, *events.DMMessageReactionAdd, // after MessageReactionAdd
		*events.GuildMemberTypingStart, *events.DMUserTypingStart, // after UserTypingStart
		*events.HeartbeatAck: // not a dispatch
		return true
	}
	return false
}

// typeName is a short name of a primary event's type.
func typeName(e bot.Event) string {
	switch e.(type) {
	case *events.Ready:
		return "READY"
	case *events.Resumed:
		return "RESUMED"
	case *events.GuildReady, *events.GuildAvailable, *events.GuildJoin:
		return "GUILD_CREATE"
	case *events.MessageCreate:
		return "MESSAGE_CREATE"
	case *events.MessageReactionAdd:
		return "MESSAGE_REACTION_ADD"
	case *events.UserTypingStart:
		return "TYPING_START"
	case *events.GuildMemberJoin:
		return "GUILD_MEMBER_ADD"
	}
	return "other"
}

// record records one event. It reports whether it was a dispatch's
// primary event (which a fault may then act on).
func (r *recorder) record(e bot.Event) bool {
	sh, ok := e.(interface{ ShardID() int })
	if !ok || secondary(e) {
		return false
	}
	seq := e.SequenceNumber()
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq <= 0 {
		r.seq0++
		return false
	}
	l := r.shards[sh.ShardID()]
	if l == nil {
		l = &shardLog{sessions: map[string]*sessionLog{}}
		r.shards[sh.ShardID()] = l
	}
	if ready, ok := e.(*events.Ready); ok {
		s := l.sessions[ready.SessionID]
		if s == nil {
			s = &sessionLog{}
			l.sessions[ready.SessionID] = s
		}
		l.cur, l.curID = s, ready.SessionID
	}
	if l.cur == nil {
		r.unattributed++
		return true
	}
	r.types[typeName(e)]++
	if !l.cur.seqs.add(seq) {
		l.cur.dups++
	}
	return true
}

// current returns the session the shard's last READY named and how many of
// its dispatches up to last arrived.
func (r *recorder) current(shard, last int) (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.shards[shard]
	if l == nil || l.cur == nil {
		return "", 0
	}
	return l.curID, l.cur.seqs.countTo(last)
}

// received is what the recorder holds for one session: its set and its
// duplicates. It returns a copy.
func (r *recorder) received(shard int, session string) (seqSet, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.shards[shard]
	if l == nil || l.sessions[session] == nil {
		return seqSet{}, 0
	}
	s := l.sessions[session]
	return seqSet{words: append([]uint64(nil), s.seqs.words...), n: s.seqs.n, max: s.seqs.max}, s.dups
}

// sessionIDs returns the sessions the recorder saw on shard.
func (r *recorder) sessionIDs(shard int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.shards[shard]
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l.sessions))
	for id := range l.sessions {
		out = append(out, id)
	}
	return out
}
