package services

import (
	"fmt"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/service"
)

// command is a request to the holder of a registry's state (see Registry).
// The unexported method seals the interface: only this package defines
// commands. apply runs on the holder's goroutine, must be quick, must not
// wait for a service, and answers on the command's reply channel, which has
// capacity 1 so that the holder never blocks on a caller.
type command interface {
	apply(st *registryState)
}

// addCmd registers e (Registry.Add).
type addCmd struct {
	e     *entry
	reply chan<- error
}

func (c addCmd) apply(st *registryState) {
	e := c.e
	switch {
	case st.closed:
		c.reply <- fmt.Errorf("service %q: %w", e.name, service.ErrClosed)
		return
	case st.entries[e.name] != nil:
		c.reply <- fmt.Errorf("service %q: %w", e.name, service.ErrDuplicate)
		return
	case st.stopping[e.name] != nil:
		c.reply <- fmt.Errorf("service %q: %w (still stopping)", e.name, service.ErrDuplicate)
		return
	}
	// Make the address known to the bus right away, so that a command sent
	// before the first run attaches fails with the retryable
	// bus.ErrTargetStopped rather than bus.ErrNoTarget; this also finds an
	// address held by someone else.
	mb, err := st.r.bus.Attach(e.addr, nil)
	if err != nil {
		c.reply <- fmt.Errorf("service %q: %w: %w", e.name, service.ErrDuplicate, err)
		return
	}
	mb.Detach()
	st.newUnit(e)
	st.entries[e.name] = e
	if st.runCtx != nil {
		st.start(e)
	}
	st.publish()
	c.reply <- nil
}

// restartCmd looks up a service for Registry.Restart. A service whose unit
// has ended is started again with a new unit at once; for a live unit the
// reply carries it, and the caller restarts it outside the owner (a unit's
// Restart waits for the service).
type restartCmd struct {
	name  string
	reply chan<- restartReply
}

type restartReply struct {
	unit *supervise.Unit // nil: done (or err)
	done <-chan struct{} // closed when unit's goroutine has been reported ended
	err  error
}

func (c restartCmd) apply(st *registryState) {
	e, ok := st.entries[c.name]
	switch {
	case !ok:
		c.reply <- restartReply{err: fmt.Errorf("service %q: %w", c.name, service.ErrNotFound)}
	case st.runCtx == nil:
		c.reply <- restartReply{err: fmt.Errorf("service %q: restart: %w", c.name, service.ErrNotServing)}
	case e.exited:
		old := e.unit.Status()
		e.prevRestarts += old.Restarts + 1
		e.prevCrashes += old.Crashes
		if old.LastError != nil {
			e.prevErr = old.LastError
		}
		st.newUnit(e)
		st.start(e)
		st.publish()
		e.log.Info("service started again after it had stopped")
		c.reply <- restartReply{}
	default:
		c.reply <- restartReply{unit: e.unit, done: e.done}
	}
}

// stopCmd removes a service (Registry.Stop) and cancels its run; the reply
// carries the channel closed once its unit has ended, or nil if it was not
// running.
type stopCmd struct {
	name  string
	reply chan<- stopReply
}

type stopReply struct {
	done <-chan struct{}
	err  error
}

func (c stopCmd) apply(st *registryState) {
	e, ok := st.entries[c.name]
	if !ok {
		c.reply <- stopReply{err: fmt.Errorf("service %q: %w", c.name, service.ErrNotFound)}
		return
	}
	delete(st.entries, c.name)
	e.removed = true
	st.publish()
	if e.done == nil || e.exited {
		st.finishRemoval(e)
		c.reply <- stopReply{}
		return
	}
	st.stopping[c.name] = e
	e.cancel()
	c.reply <- stopReply{done: e.done}
}

// exitedCmd reports that e's unit goroutine is ending: its Serve returned.
// It has no reply; done is the entry's channel to close.
type exitedCmd struct {
	e    *entry
	done chan struct{}
}

func (c exitedCmd) apply(st *registryState) {
	c.e.exited = true
	if c.e.removed {
		st.finishRemoval(c.e)
	}
	st.running--
	close(c.done)
}

// allReadyCmd records that every cluster is ready
// (Registry.NotifyAllClustersReady) and replies with the services that
// must get AllClustersReady now: those that have been ready once and were
// not told yet. The reply claims their delivery.
type allReadyCmd struct {
	reply chan<- []*entry
}

func (c allReadyCmd) apply(st *registryState) {
	st.allReady = true
	var due []*entry
	for _, e := range st.sorted() {
		if _, ok := e.svc.(bus.AllClustersReadyHandler); ok && e.everReady && !e.allReadySent {
			e.allReadySent = true
			due = append(due, e)
		}
	}
	c.reply <- due
}

// readyCmd records that a run of e called Ready and replies whether that
// run must deliver AllClustersReady (claiming the delivery if so).
type readyCmd struct {
	e     *entry
	reply chan<- bool
}

func (c readyCmd) apply(st *registryState) {
	e := c.e
	e.everReady = true
	_, ok := e.svc.(bus.AllClustersReadyHandler)
	deliver := ok && st.allReady && !e.allReadySent
	if deliver {
		e.allReadySent = true
	}
	c.reply <- deliver
}

// serveCmd is a second Serve finding an owner in place.
type serveCmd struct {
	reply chan<- error
}

func (c serveCmd) apply(*registryState) { c.reply <- ErrAlreadyServed }
