package discordtest

import (
	"sync"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// Ledger records, per shard, every session the server created and every
// sequence number it assigned to each, so a test can compare what a client
// received with what the server sent.
//
// A sequence number is recorded when the server's writer assigns it to a
// dispatch, immediately before writing the frame to the session's live
// connection, or, for a guild event ([Server.SetGuildRate]), when the feed
// queues it to the session, connected or not; from then on the dispatch is
// also kept for replay, so a client that lost the connection gets it again
// by RESUME. Replays re-send
// already recorded numbers and are not recorded again, so Seqs lists each
// number once, and within a session the numbers are 1, 2, 3... without
// gaps (READY is 1). Malformed frames ([Server.SendMalformed]) are not
// dispatches: they carry the number the next dispatch will carry but are
// never recorded, never replayed and never consume a number, so a client
// that drops them sees no gap.
//
// [Ledger.GuildEvents] lists the guild feed's events, each once whatever the
// number of sessions (of every shard count) it went to.
//
// A Ledger is safe for concurrent use. Its zero value is not usable; get
// one from [Server.Ledger]. Each recorded session costs a few hundred bytes
// whatever its traffic.
type Ledger struct {
	world   *world
	mu      sync.Mutex
	byShard map[int][]*session
	guild   []guildRecord // the guild feed's events, by serial - 1
}

func newLedger(w *world) *Ledger { return &Ledger{world: w, byShard: make(map[int][]*session)} }

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

// GuildEvent is one event of the guild feed ([Server.SetGuildRate]) as the
// ledger records it: what a client sees of it, enough to tell it from any
// other guild event, and how many sessions it was queued to. It is a plain
// value.
//
// Its identity, which a client reads from the decoded event: for
// MESSAGE_CREATE the message ID; for MESSAGE_REACTION_ADD the message ID,
// user ID and emoji (the message ID alone is unique too); for TYPING_START,
// which carries no ID, the guild, channel, user and timestamp together.
type GuildEvent struct {
	Serial    int64             // 1, 2, 3... in the order the feed made them
	Type      gateway.EventType // MESSAGE_CREATE, MESSAGE_REACTION_ADD or TYPING_START
	GuildID   snowflake.ID
	ChannelID snowflake.ID
	UserID    snowflake.ID // the author, the reacting user or the typing user
	MessageID snowflake.ID // the message created or reacted to; 0 for TYPING_START
	Emoji     string       // the reaction's emoji name; "" for other types
	Time      time.Time    // TYPING_START's timestamp, distinct for each; zero for other types
	// Sessions is how many sessions it was queued to: every open session,
	// connected or resumable, of every shard count whose shard covers the
	// guild. 0 when none did.
	Sessions int
}

// guildRecord is a GuildEvent as kept: the entry it was made from (about
// 32 bytes).
type guildRecord struct {
	e        entry
	sessions int
}

func (l *Ledger) addGuildEvent(e entry, sessions int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.guild = append(l.guild, guildRecord{e: e, sessions: sessions})
}

// reactionEmoji is the emoji of every MESSAGE_REACTION_ADD of traffic.
const reactionEmoji = "👍"

// GuildEvents returns every event the guild feed made, oldest first, each
// once whatever the number of sessions it went to, so a test can check
// that a bot handled each exactly once. A feed event is listed once it has
// been queued to its sessions; after [Server.SetGuildRate](0) returns the
// list is complete. The caller owns the slice; it costs about 100 bytes
// per event (the ledger keeps about 40 per event).
func (l *Ledger) GuildEvents() []GuildEvent {
	l.mu.Lock()
	recs := append([]guildRecord(nil), l.guild...)
	l.mu.Unlock()
	out := make([]GuildEvent, len(recs))
	for i, r := range recs {
		g := int(r.e.guild)
		channel, user := l.world.actor(g, r.e.k)
		ev := GuildEvent{
			Serial:    int64(i + 1),
			GuildID:   l.world.guildID(g),
			ChannelID: channel,
			UserID:    l.world.userID(user),
			Sessions:  r.sessions,
		}
		switch r.e.kind {
		case kindReaction:
			ev.Type, ev.MessageID, ev.Emoji = gateway.EventTypeMessageReactionAdd, snowflake.ID(r.e.id), reactionEmoji
		case kindGuildTyping:
			ev.Type, ev.Time = gateway.EventTypeTypingStart, time.Unix(int64(typingTime+r.e.id), 0).UTC()
		default:
			ev.Type, ev.MessageID = gateway.EventTypeMessageCreate, snowflake.ID(r.e.id)
		}
		out[i] = ev
	}
	return out
}
