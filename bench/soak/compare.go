package main

import (
	"fmt"
	"time"
)

// The comparison of what the fake Discord sent (its ledger) with what the
// bot received (the recorder). It is pure: the soak gathers its inputs
// once everything has stopped.

// sessionRecord is one session of a shard: from the ledger, its ID, when
// it became live and the last sequence number the fake assigned (its
// dispatches are 1..LastSeq); from the recorder, what the bot received of
// it and how many dispatches it received twice.
type sessionRecord struct {
	ID      string
	Started time.Time
	LastSeq int
	Got     seqSet
	Dups    int
}

// sessionEnd is an injected fault that ends a shard's session without a
// resume (op 9 not resumable, close 4003/4007/4009, a full restart of the
// shard's cluster). It acted at some moment in [Start, End]; Cause names
// its kind.
type sessionEnd struct {
	Start, End time.Time
	Cause      string
}

// shardRecord is everything the comparison needs about one shard.
type shardRecord struct {
	Shard int
	// Sessions are the shard's sessions in order of creation.
	Sessions []sessionRecord
	// Live is the index of the session that was live when the soak ended;
	// it and the sessions after it have not ended.
	Live int
	// Ends are the faults injected on the shard that end a session.
	Ends []sessionEnd
	// Readies are when the shard read a READY (ShardReady events).
	Readies []time.Time
}

// Why a sequence number counts as lost.
const (
	lostLive  = "live session"     // the session is live: it must have everything
	lostGap   = "gap"              // below the last number the bot received
	lostTail  = "unjustified tail" // the bot identified afresh where it could have resumed
	neverRead = "never_ready"      // the cause of a tail allowed because the bot never read READY
)

// loss is the lost numbers of one session.
type loss struct {
	Shard   int      `json:"shard"`
	Session string   `json:"session"`
	Why     string   `json:"why"`
	Count   int      `json:"count"`
	Ranges  []string `json:"ranges"` // "a-b" or "a", at most maxRanges
}

// unjustifiedEnd is an ended session that no injected fault ended: the bot
// identified afresh where it should have resumed (its tail, if any, is
// lost).
type unjustifiedEnd struct {
	Shard   int    `json:"shard"`
	Session string `json:"session"`
	Tail    int    `json:"tail"`
}

// comparison is the result of compare.
type comparison struct {
	Sent        int // sum of LastSeq over every session
	Delivered   int // distinct numbers received, within 1..LastSeq
	Lost        int
	LostAllowed map[string]int // by cause: numbers lost legitimately
	Duplicates  int
	// LegitEnds counts the ended sessions that had to end by a fresh
	// identify: an injected fault ended them, or the bot never read READY.
	LegitEnds   int
	Losses      []loss
	Unjustified []unjustifiedEnd
}

// maxRanges caps the ranges listed per loss.
const maxRanges = 20

// compare compares the shards' ledgers with what the bot received. For
// each session S with N = LastSeq and D = what the bot received, the
// missing numbers {1..N} \ D are:
//   - all lost if S is live;
//   - otherwise, with m = max(D): those below m are gaps, lost; those
//     above m (the tail) are allowed if an injected fault ended S (see
//     justify) or if the shard never read S's READY (then it could not
//     resume S), and lost otherwise.
func compare(shards []shardRecord) comparison {
	c := comparison{LostAllowed: map[string]int{}}
	for _, sh := range shards {
		for i, s := range sh.Sessions {
			c.Sent += s.LastSeq
			c.Delivered += s.Got.countTo(s.LastSeq)
			c.Duplicates += s.Dups
			m := min(s.Got.max, s.LastSeq)
			var gaps, tail []int
			for seq := 1; seq <= s.LastSeq; seq++ {
				switch {
				case s.Got.has(seq):
				case seq < m:
					gaps = append(gaps, seq)
				default:
					tail = append(tail, seq)
				}
			}
			if i >= sh.Live {
				c.lose(sh.Shard, s.ID, lostLive, append(gaps, tail...))
				continue
			}
			c.lose(sh.Shard, s.ID, lostGap, gaps)
			var next time.Time // zero: no next session
			if i+1 < len(sh.Sessions) {
				next = sh.Sessions[i+1].Started
			}
			cause, ok := justify(sh, s, next)
			if ok {
				c.LegitEnds++
				if len(tail) > 0 {
					c.LostAllowed[cause] += len(tail)
				}
				continue
			}
			c.Unjustified = append(c.Unjustified, unjustifiedEnd{Shard: sh.Shard, Session: s.ID, Tail: len(tail)})
			c.lose(sh.Shard, s.ID, lostTail, tail)
		}
	}
	return c
}

// justify returns why session s (whose successor started at next, zero if
// none) legitimately ended by a fresh identify, if it did: an injected
// session-ending fault acted while s was the shard's newest session (the
// whole of the fault's [Start, End] lies in [s.Started, next)), or the
// shard read no READY while s was the newest, so it never knew s and
// could not resume it.
func justify(sh shardRecord, s sessionRecord, next time.Time) (string, bool) {
	inWindow := func(t time.Time) bool { return !t.Before(s.Started) && (next.IsZero() || t.Before(next)) }
	var first *sessionEnd
	for i, e := range sh.Ends {
		if inWindow(e.Start) && inWindow(e.End) && (first == nil || e.Start.Before(first.Start)) {
			first = &sh.Ends[i]
		}
	}
	if first != nil {
		return first.Cause, true
	}
	if s.Got.n > 0 {
		return "", false
	}
	for _, r := range sh.Readies {
		if inWindow(r) {
			return "", false
		}
	}
	return neverRead, true
}

// lose records seqs (ascending) as lost.
func (c *comparison) lose(shard int, session, why string, seqs []int) {
	if len(seqs) == 0 {
		return
	}
	c.Lost += len(seqs)
	c.Losses = append(c.Losses, loss{Shard: shard, Session: session, Why: why, Count: len(seqs), Ranges: ranges(seqs, maxRanges)})
}

// ranges writes ascending numbers as ranges ("3-7", "9"), at most limit of
// them, the last one then saying how many more there are.
func ranges(seqs []int, limit int) []string {
	var out []string
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if len(out) == limit {
			out = append(out, fmt.Sprintf("... %d more numbers", len(seqs)-i))
			return out
		}
		if i == j {
			out = append(out, fmt.Sprint(seqs[i]))
		} else {
			out = append(out, fmt.Sprintf("%d-%d", seqs[i], seqs[j]))
		}
		i = j + 1
	}
	return out
}
