package megane

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/megane-go/megane/cluster"
)

// Events returns the Manager's bounded event channel (WithEventBuffer,
// default 256). It is never closed. When it is full, the oldest event is
// dropped to make room for the newest, and DroppedEvents counts it: a
// reader that falls behind loses old events, never the latest state. Every
// event is also logged and handed to the WithEventHandler function.
func (m *Manager) Events() <-chan cluster.Event { return m.feed.ch }

// DroppedEvents returns how many events the full Events channel dropped.
func (m *Manager) DroppedEvents() uint64 { return m.feed.dropped.Load() }

// feed delivers the lifecycle events, which come from every cluster's and
// service's goroutines, in the order they are emitted: first to the
// handler, then into the bounded channel, dropping the oldest when it is
// full. Its mutex serializes one delivery and is held for nothing else.
type feed struct {
	handler func(cluster.Event) // WithEventHandler; may be nil
	ch      chan cluster.Event
	dropped atomic.Uint64

	mu sync.Mutex
}

// emit delivers an event: to the handler, then into the channel.
func (m *Manager) emit(e cluster.Event) {
	m.progress.observe(e)
	f := &m.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	m.st.events.add(e)
	if f.handler != nil {
		f.handler(e)
	}
	for {
		select {
		case f.ch <- e:
			return
		default:
		}
		select {
		case <-f.ch:
			f.dropped.Add(1)
		default:
		}
	}
}

// emitOwn logs and delivers an event of the Manager itself (cluster events
// are logged by their cluster).
func (m *Manager) emitOwn(e cluster.Event) {
	m.log.LogAttrs(context.Background(), levelOf(e), "manager event", e.LogAttrs()...)
	m.emit(e)
}

// onClusterEvent is every cluster's event hook.
func (m *Manager) onClusterEvent(e cluster.Event) {
	m.emit(e)
	m.checkBudget(e)
	if f := m.fleet.Load(); f != nil {
		f.Observe(e)
	}
}
