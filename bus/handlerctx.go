package bus

import (
	"context"
	"sync"
)

// handlerCtx is the context a request's handler runs with. It carries the
// requester's values and deadline, and ends when either the requester's
// context or the context given to Serve ends, or once the handler has
// returned (like net/http's request context).
//
// Merging two contexts costs a cancel context and an AfterFunc registration
// (several allocations), and most handlers never look at ctx.Done. So the
// merged context is built only on the first call to Done or AfterFunc; Err
// needs no merge. handlerCtx implements AfterFunc so that contexts derived
// from it (context.WithTimeout in a handler) need no extra goroutine.
type handlerCtx struct {
	context.Context                 // the requester's context
	serve           context.Context // Serve's context

	mu       sync.Mutex
	merged   context.Context // built on demand; ends with either parent
	cancel   context.CancelFunc
	stop     func() bool
	finished bool
}

var _ interface {
	AfterFunc(func()) func() bool
} = (*handlerCtx)(nil)

// closedChan is returned by Done once the handler has returned.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// mergeLocked builds the merged context. c.mu must be held.
func (c *handlerCtx) mergeLocked() context.Context {
	if c.merged == nil {
		m, cancel := context.WithCancel(c.Context)
		c.stop = context.AfterFunc(c.serve, cancel)
		c.merged, c.cancel = m, cancel
	}
	return c.merged
}

// Done returns a channel closed when the requester gives up, Serve's context
// ends, or the handler returns.
func (c *handlerCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished && c.merged == nil {
		return closedChan
	}
	return c.mergeLocked().Done()
}

// Err returns why the context ended, or nil.
func (c *handlerCtx) Err() error {
	c.mu.Lock()
	merged, finished := c.merged, c.finished
	c.mu.Unlock()
	switch {
	case merged != nil:
		return merged.Err()
	case finished:
		return context.Canceled
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	return c.serve.Err()
}

// AfterFunc arranges for f to run once the context ends; context.AfterFunc
// and the context.With* functions use it.
func (c *handlerCtx) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	if c.finished && c.merged == nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	m := c.mergeLocked()
	c.mu.Unlock()
	return context.AfterFunc(m, f)
}

// Value returns the requester's context values, except for the key that
// names the mailbox being served, which comes from Serve's context.
func (c *handlerCtx) Value(key any) any {
	if _, ok := key.(servingKey); ok {
		return c.serve.Value(key)
	}
	return c.Context.Value(key)
}

// finish ends the context once the handler has returned.
func (c *handlerCtx) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished = true
	if c.merged != nil {
		c.stop()
		c.cancel()
	}
}
