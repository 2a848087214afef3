package megane

import (
	"context"

	"github.com/megane-go/megane/cluster"
)

// Events returns the Manager's bounded event channel (WithEventBuffer,
// default 256). It is never closed. When it is full, the oldest event is
// dropped to make room for the newest, and DroppedEvents counts it: a
// reader that falls behind loses old events, never the latest state. Every
// event is also logged and handed to the WithEventHandler function.
func (m *Manager) Events() <-chan cluster.Event { return m.events }

// DroppedEvents returns how many events the full Events channel dropped.
func (m *Manager) DroppedEvents() uint64 { return m.dropped.Load() }

// emit delivers an event: to the handler, then into the channel.
func (m *Manager) emit(e cluster.Event) {
	m.emitMu.Lock()
	defer m.emitMu.Unlock()
	if m.cfg.handler != nil {
		m.cfg.handler(e)
	}
	for {
		select {
		case m.events <- e:
			return
		default:
		}
		select {
		case <-m.events:
			m.dropped.Add(1)
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
	if e.Kind != cluster.EventReady || e.Standby {
		return
	}
	m.readyMu.Lock()
	if e.Generation != m.readyGen {
		// A set that is not (or not yet) the active one: a re-shard
		// counts its readiness itself when it switches over.
		m.readyMu.Unlock()
		return
	}
	m.readySet[e.Cluster] = struct{}{}
	all := len(m.readySet) == m.nClusters && !m.allReadySent
	if all {
		m.allReadySent = true
	}
	m.readyMu.Unlock()
	if all {
		select {
		case m.allReady <- struct{}{}:
		default:
		}
	}
}
