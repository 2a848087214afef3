package megane

import (
	"slices"
	"sync"

	"github.com/megane-go/megane/cluster"
)

// eventRingSize is how many lifecycle events the status report keeps.
const eventRingSize = 100

// eventRing keeps the last eventRingSize lifecycle events for the status
// report, oldest first. emit adds to it, so it holds the events in the
// order the feed delivers them; EventStatsUpdated is left out (it is not
// a lifecycle change, and every interval would push one out). Its mutex
// guards only the ring, so that reading it never waits for an event
// handler.
type eventRing struct {
	mu   sync.Mutex
	buf  [eventRingSize]cluster.Event
	next int // where the next event goes
	full bool
}

// add keeps e, dropping the oldest event when the ring is full.
func (r *eventRing) add(e cluster.Event) {
	if e.Kind == cluster.EventStatsUpdated {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = e
	r.next = (r.next + 1) % eventRingSize
	if r.next == 0 {
		r.full = true
	}
}

// list returns a copy of the kept events, oldest first.
func (r *eventRing) list() []cluster.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return slices.Clone(r.buf[:r.next])
	}
	return slices.Concat(r.buf[r.next:], r.buf[:r.next])
}
