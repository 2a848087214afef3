package engine

import (
	"sync"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// readiness tracks whether every shard of an attempt is ready: READY
// arrived and then the GUILD_CREATE of each guild READY listed (or the
// ready timeout passed since READY), or RESUMED arrived. It is safe for
// concurrent use: the executor and the shard hooks feed it, the attempt
// reads it.
type readiness struct {
	mu      sync.Mutex
	shards  map[int]*shardReadiness
	changed chan struct{} // closed and replaced on every change
	done    bool          // all ready once; stop notifying
}

type shardReadiness struct {
	ready   bool
	gotAt   time.Time // when READY arrived; zero before
	pending map[snowflake.ID]struct{}
}

func newReadiness(shardIDs []int) *readiness {
	r := &readiness{shards: make(map[int]*shardReadiness, len(shardIDs)), changed: make(chan struct{})}
	for _, id := range shardIDs {
		r.shards[id] = &shardReadiness{}
	}
	return r
}

// notify wakes waiters; r.mu must be held.
func (r *readiness) notify() {
	if r.done {
		return
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// observe looks at one dispatch on its way to the client.
func (r *readiness) observe(shardID int, t gateway.EventType, ev gateway.EventData) {
	switch t {
	case gateway.EventTypeReady, gateway.EventTypeGuildCreate, gateway.EventTypeResumed:
	default:
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shards[shardID]
	if s == nil || r.done {
		return
	}
	switch t {
	case gateway.EventTypeReady:
		ready, ok := ev.(gateway.EventReady)
		if !ok {
			return
		}
		s.gotAt = time.Now()
		s.pending = make(map[snowflake.ID]struct{}, len(ready.Guilds))
		for _, g := range ready.Guilds {
			s.pending[g.ID] = struct{}{}
		}
		s.ready = len(s.pending) == 0
	case gateway.EventTypeGuildCreate:
		gc, ok := ev.(gateway.EventGuildCreate)
		if !ok || s.pending == nil {
			return
		}
		delete(s.pending, gc.ID)
		if len(s.pending) == 0 && !s.gotAt.IsZero() {
			s.ready = true
		}
	case gateway.EventTypeResumed:
		s.ready = true
	}
	r.notify()
}

// resumed marks a shard ready because its session resumed.
func (r *readiness) resumed(shardID int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.shards[shardID]; s != nil && !r.done {
		s.ready = true
		r.notify()
	}
}

// check reports whether every shard is ready, marking ready the shards
// whose guilds did not all arrive within timeout of READY (returned in
// late). next is the earliest time a pending shard times out, or zero.
// changed is closed at the next change after this check (nil once all
// are ready): taken under the same lock as the check, so that a change
// right after it is never missed.
func (r *readiness) check(now time.Time, timeout time.Duration) (all bool, next time.Time, late []int, changed <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	all = true
	for id, s := range r.shards {
		if s.ready {
			continue
		}
		if !s.gotAt.IsZero() && timeout > 0 {
			deadline := s.gotAt.Add(timeout)
			if !now.Before(deadline) {
				s.ready = true
				late = append(late, id)
				continue
			}
			if next.IsZero() || deadline.Before(next) {
				next = deadline
			}
		}
		all = false
	}
	if all {
		r.done = true
		return all, next, late, nil
	}
	return all, next, late, r.changed
}
