package discordtest

import (
	"math"
	"time"
)

// guildBatch is how many guild events the feed makes in one step at most,
// so a late wake-up does not turn into a burst without bound.
const guildBatch = 64

// guildFeed is the world's one source of guild events (SetGuildRate). Its
// goroutine, run by runGuildFeed, owns the rate and the pacing; the other
// fields are set once.
type guildFeed struct {
	rate chan float64  // SetGuildRate → feed; unbuffered, so a send returns once the feed took it
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the feed's goroutine returns
}

func newGuildFeed() guildFeed {
	return guildFeed{rate: make(chan float64), stop: make(chan struct{}), done: make(chan struct{})}
}

// SetGuildRate sets the guild traffic of the whole fake, in guild events
// per second over every guild (not per shard): 0, the default, stops it.
// Negative values, NaN and infinities are treated as 0.
//
// Unlike [Server.SetRate], whose traffic each connection makes up for
// itself, guild traffic is made once, by one goroutine of the Server, and
// sent as Discord sends it: each guild event (a guild picked at random, 8
// in 10 MESSAGE_CREATE with a fresh message ID, 1 in 10
// MESSAGE_REACTION_ADD, 1 in 10 TYPING_START) goes to every session of
// every shard count whose shard covers the guild ((guild_id >> 22) %
// shard_count == shard_id), each with its own sequence number and
// byte-identical "d". A session with no connection (dropped, resumable)
// still gets it into its replay buffer, so a RESUME replays it; a session
// that was invalidated, or that its client closed with 1000 or 1001, gets
// no more. [Ledger.GuildEvents] lists each guild event once, with the
// number of sessions it was queued to. A connection that falls so far
// behind that guild events it has not written leave the replay buffer
// ([WithReplayBuffer]) is dropped.
//
// SetGuildRate returns once the feed runs at the new rate: after
// SetGuildRate(0) returns no guild event is made until the next call, and
// GuildEvents is complete. The feed is paced by a timer, up to 64 events
// per wake-up, with no sleep per event. After Close it does nothing.
func (s *Server) SetGuildRate(eventsPerSecond float64) {
	if eventsPerSecond < 0 || math.IsNaN(eventsPerSecond) || math.IsInf(eventsPerSecond, 0) {
		eventsPerSecond = 0
	}
	select {
	case s.feed.rate <- eventsPerSecond:
	case <-s.feed.done:
	}
}

// runGuildFeed is the feed's goroutine; it returns when feed.stop closes.
func (s *Server) runGuildFeed() {
	defer close(s.feed.done)
	var (
		rate, credit float64
		at           time.Time
		serial       uint64     // guild events made
		messages     uint64     // MESSAGE_CREATEs made: picks their content (contentMix)
		targets      []*session // reused by fanOut
	)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var tick <-chan time.Time
		if rate > 0 {
			now := time.Now()
			credit = min(credit+now.Sub(at).Seconds()*rate, guildBatch)
			at = now
			for n := int(credit); n > 0; n-- {
				serial++
				e := s.guildEvent(serial, &messages)
				targets = s.fanOut(e, targets)
			}
			credit -= math.Floor(credit)
			timer.Reset(time.Duration((1 - credit) / rate * float64(time.Second)))
			tick = timer.C
		}
		select {
		case r := <-s.feed.rate:
			if r != rate {
				rate, credit, at = r, 0, time.Now()
			}
		case <-tick:
		case <-s.feed.stop:
			return
		}
		timer.Stop()
	}
}

// mix64 is splitmix64's finaliser: a well-spread hash of a counter.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// guildEvent makes the serial-th guild event: its guild, kind, actor and
// identity all follow from serial, so the fake's traffic is the same run
// after run. It returns an entry with guild -1 when the world has no guild.
func (s *Server) guildEvent(serial uint64, messages *uint64) entry {
	wd := s.world
	if wd.guilds == 0 {
		return entry{guild: -1}
	}
	h := mix64(serial)
	e := entry{
		guild: int32(h % uint64(wd.guilds)),
		k:     int64(h >> 34),
		// Low 22 bits 0: no writer's snowflake has them (see writer.nextID).
		id: uint64(messageBase+serial) << 22,
	}
	switch (h >> 24) % 10 {
	case 8:
		e.kind = kindReaction
	case 9:
		e.kind, e.id = kindGuildTyping, serial
	default:
		e.kind = kindMessage
		*messages++
		e.text = s.mixedContent(*messages)
	}
	return e
}

// fanOut queues e to every open session whose shard covers its guild, of
// every shard count, records it in the ledger and wakes the writers of the
// sessions that have a connection. buf is reused across calls.
func (s *Server) fanOut(e entry, buf []*session) []*session {
	if e.guild < 0 {
		return buf
	}
	gid := uint64(s.world.guildID(int(e.guild))) >> 22
	buf = buf[:0]
	s.mu.Lock()
	for _, sess := range s.sessions {
		if gid%uint64(sess.shardCount) == uint64(sess.shardID) {
			buf = append(buf, sess)
		}
	}
	s.mu.Unlock()
	n := 0
	for _, sess := range buf {
		owner, ok := sess.deliver(e)
		if ok {
			n++
		}
		if owner != nil {
			owner.poke()
		}
	}
	s.ledger.addGuildEvent(e, n)
	clear(buf) // let closed sessions go
	return buf
}
