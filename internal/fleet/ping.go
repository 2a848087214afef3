package fleet

import (
	"context"
)

// pingCmd asks the owner to answer: proof that its loop turns.
type pingCmd struct{ reply chan struct{} }

func (c pingCmd) apply(*state) { c.reply <- struct{}{} }

// Ping returns nil once the owner goroutine has answered, ErrNotRunning
// once Run has returned, or ctx's error if the owner does not answer in
// time (it is stuck). It costs one command on the owner's loop.
func (f *Fleet) Ping(ctx context.Context) error {
	reply := make(chan struct{}, 1)
	select {
	case f.cmds <- pingCmd{reply: reply}:
	case <-f.done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-f.done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}
