package bus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// localTransport is the in-process transport: a directory of mailboxes.
//
// The directory is copy-on-write: every message reads the current snapshot
// with one atomic load and no lock, so senders on many cores never contend;
// Attach, Detach and Forget (rare: starts, restarts, removals) copy it under
// a mutex.
type localTransport struct {
	mu  sync.Mutex // serialises writers
	dir atomic.Pointer[directory]

	// Guarded by mu, for Bus.Stats: each known address's latest mailbox
	// (attached or detached), and the counters of the ones it replaced.
	last    map[Address]*Mailbox
	retired map[Address]MailboxStats
}

// directory is an immutable snapshot of the known targets.
type directory struct {
	// routes holds every known address. A nil value means known but
	// detached (the target is restarting or stopped).
	routes map[Address]*Mailbox
	// clusters and services are the known addresses of each group, sorted.
	clusters, services []Address
}

func newLocalTransport() *localTransport {
	t := &localTransport{}
	t.dir.Store(&directory{routes: map[Address]*Mailbox{}})
	return t
}

// update replaces the directory with a copy changed by fn and rebuilds the
// sorted group lists. t.mu must be held.
func (t *localTransport) update(fn func(routes map[Address]*Mailbox)) {
	old := t.dir.Load()
	d := &directory{routes: make(map[Address]*Mailbox, len(old.routes)+1)}
	for a, m := range old.routes {
		d.routes[a] = m
	}
	fn(d.routes)
	for a := range d.routes {
		switch a.kind {
		case kindCluster:
			d.clusters = append(d.clusters, a)
		case kindService:
			d.services = append(d.services, a)
		}
	}
	slices.SortFunc(d.clusters, Address.compare)
	slices.SortFunc(d.services, Address.compare)
	t.dir.Store(d)
}

func (t *localTransport) attach(m *Mailbox) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur := t.dir.Load().routes[m.addr]; cur != nil {
		return fmt.Errorf("%w: %s", ErrAlreadyAttached, m.addr)
	}
	t.update(func(routes map[Address]*Mailbox) { routes[m.addr] = m })
	t.remember(m)
	return nil
}

// detached marks m's address as known but detached, unless a newer mailbox
// has already replaced m or the address was forgotten.
func (t *localTransport) detached(m *Mailbox) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.dir.Load().routes[m.addr]; ok && cur == m {
		t.update(func(routes map[Address]*Mailbox) { routes[m.addr] = nil })
	}
}

// forget removes addr and returns its mailbox, if one was attached.
func (t *localTransport) forget(addr Address) *Mailbox {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := t.dir.Load().routes[addr]
	if ok {
		t.update(func(routes map[Address]*Mailbox) { delete(routes, addr) })
	}
	delete(t.last, addr)
	delete(t.retired, addr)
	return m
}

func (t *localTransport) deliver(ctx context.Context, msg *delivery, mode deliveryMode) error {
	m, known := t.dir.Load().routes[msg.To]
	switch {
	case !known:
		return fmt.Errorf("%w: %s", ErrNoTarget, msg.To)
	case m == nil:
		return fmt.Errorf("%w: %s", ErrTargetStopped, msg.To)
	}
	return m.enqueue(ctx, msg, mode)
}

func (t *localTransport) members(group kind) []Address {
	d := t.dir.Load()
	switch group {
	case kindCluster:
		return d.clusters
	case kindService:
		return d.services
	default:
		return nil
	}
}
