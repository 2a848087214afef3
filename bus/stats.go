package bus

// Stats returns the mailbox counters of every concrete target the bus
// knows (attached now, or detached and not forgotten), by address, in a
// map the caller owns.
//
// A target's counters add up every mailbox attached to its address since
// the bus first saw it, so they never go down across restarts (each
// restart attaches a new mailbox); Pending and Capacity are those of the
// latest mailbox (Pending is 0 once it is detached). [Bus.Forget] forgets
// the address and its counters. Messages sent to a detached address
// (ErrTargetStopped before any mailbox is reached) and to an unknown one
// (ErrNoTarget) are not counted anywhere.
//
// It is safe for concurrent use and cheap: one lock shared with Attach,
// Detach and Forget, and a few atomic loads per target; senders are not
// slowed down.
func (b *Bus) Stats() map[Address]MailboxStats {
	t := b.local
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[Address]MailboxStats, len(t.last))
	for addr, m := range t.last {
		s := m.Stats()
		if r, ok := t.retired[addr]; ok {
			s.Delivered += r.Delivered
			s.Handled += r.Handled
			s.Panics += r.Panics
			s.Full += r.Full
			s.Skipped += r.Skipped
			s.Stopped += r.Stopped
		}
		out[addr] = s
	}
	return out
}

// remember records m as its address's latest mailbox, adding the counters
// of the one it replaces to the address's retired ones. t.mu must be held.
func (t *localTransport) remember(m *Mailbox) {
	if t.last == nil {
		t.last, t.retired = map[Address]*Mailbox{}, map[Address]MailboxStats{}
	}
	if old := t.last[m.addr]; old != nil {
		s, r := old.Stats(), t.retired[m.addr]
		r.Delivered += s.Delivered
		r.Handled += s.Handled
		r.Panics += s.Panics
		r.Full += s.Full
		r.Skipped += s.Skipped
		r.Stopped += s.Stopped
		t.retired[m.addr] = r
	}
	t.last[m.addr] = m
}
