package discordtest

import "time"

// ackQueue holds the due times of pending heartbeat ACKs, oldest first.
// An ACK is due delay after the beat it answers was read, never earlier.
// It is owned by one connection's writer and is not safe for concurrent
// use. Its length is bounded by the client's send limit, since every beat
// counts toward it.
type ackQueue struct {
	delay time.Duration
	due   []time.Time
}

// add schedules the ACK of a beat read at beat.
func (q *ackQueue) add(beat time.Time) { q.due = append(q.due, beat.Add(q.delay)) }

// pop removes and counts the ACKs due at now.
func (q *ackQueue) pop(now time.Time) int {
	n := 0
	for n < len(q.due) && !q.due[n].After(now) {
		n++
	}
	if n > 0 {
		q.due = append(q.due[:0], q.due[n:]...)
	}
	return n
}

// next returns when the oldest pending ACK is due.
func (q *ackQueue) next() (time.Time, bool) {
	if len(q.due) == 0 {
		return time.Time{}, false
	}
	return q.due[0], true
}
