package pacedconn

import (
	"sync"
	"sync/atomic"
	"time"
)

// deadline is one direction's deadline of a conn, with net.Conn's
// semantics: once it has passed, pending and later calls fail until it is
// moved into the future or cleared. Make it with newDeadline. It is safe
// for concurrent use.
type deadline struct {
	passed atomic.Bool // mirrors ch being closed, for the calls' fast check

	mu    sync.Mutex
	at    time.Time     // zero: no deadline
	timer *time.Timer   // made on the first future deadline; runs fire
	ch    chan struct{} // closed once at has passed; replaced when it is moved
}

func newDeadline() *deadline { return &deadline{ch: make(chan struct{})} }

// set moves the deadline to t; the zero t clears it. A t in the past
// fails pending calls at once.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at = t
	if t.IsZero() {
		d.stopLocked()
		d.reopenLocked()
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.stopLocked()
		d.expireLocked()
		return
	}
	d.reopenLocked()
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
}

// wait returns a channel closed once the deadline has passed. Take it
// anew for every wait: a deadline moved after it passed has a new one.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// stop releases the timer; the deadline must not be set again.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopLocked()
}

// fire runs on the timer. It may run late for a deadline already moved,
// so it judges the current one.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.at.IsZero() || d.passed.Load() {
		return
	}
	if wait := time.Until(d.at); wait > 0 {
		d.timer.Reset(wait)
		return
	}
	d.expireLocked()
}

func (d *deadline) stopLocked() {
	if d.timer != nil {
		d.timer.Stop()
	}
}

func (d *deadline) expireLocked() {
	if !d.passed.Load() {
		close(d.ch)
		d.passed.Store(true)
	}
}

func (d *deadline) reopenLocked() {
	if d.passed.Load() {
		d.ch = make(chan struct{})
		d.passed.Store(false)
	}
}
