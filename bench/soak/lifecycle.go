package main

import (
	"maps"
	"sync"
	"time"

	"github.com/megane-go/megane/cluster"
)

// restartEvent is one ClusterRestarted event.
type restartEvent struct {
	cluster int
	kind    cluster.RestartKind
	at      time.Time
}

// lifecycle records the Manager's lifecycle events that the comparison
// needs. Its handle method is the megane.WithEventHandler function: it runs
// under the Manager's event lock, so it only records. Safe for concurrent
// use.
type lifecycle struct {
	book     *panicBook
	allReady chan struct{} // closed at the first AllClustersReady
	once     sync.Once

	mu         sync.Mutex
	restarts   []restartEvent
	shardReady map[int][]time.Time // shard → when it read a READY (ShardReady)
	counts     map[string]int      // events by kind name
}

func newLifecycle(book *panicBook) *lifecycle {
	return &lifecycle{book: book, allReady: make(chan struct{}), shardReady: map[int][]time.Time{}, counts: map[string]int{}}
}

// handle records one lifecycle event.
func (l *lifecycle) handle(e cluster.Event) {
	l.book.observe(e)
	if e.Kind == cluster.EventAllReady {
		l.once.Do(func() { close(l.allReady) })
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	name := e.Kind.String()
	if e.Kind == cluster.EventServiceState {
		name += ":" + e.State
	}
	l.counts[name]++
	switch e.Kind {
	case cluster.EventRestarted:
		l.restarts = append(l.restarts, restartEvent{cluster: e.Cluster, kind: e.Restart, at: e.At})
	case cluster.EventShardReady:
		l.shardReady[e.Shard] = append(l.shardReady[e.Shard], e.At)
	}
}

// fullRestarts returns the times of cluster's full restarts in [from, to].
func (l *lifecycle) fullRestarts(id int, from, to time.Time) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, r := range l.restarts {
		if r.cluster == id && r.kind == cluster.RestartFull && !r.at.Before(from) && !r.at.After(to) {
			out = append(out, r.at)
		}
	}
	return out
}

// readies returns when shard read a READY, in order.
func (l *lifecycle) readies(shard int) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.shardReady[shard]...)
}

// eventCounts returns a copy of the counts by kind.
func (l *lifecycle) eventCounts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.counts)
}
