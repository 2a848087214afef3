package supervise

import "github.com/megane-go/megane/supervisor"

// command is a request to a unit's supervisor goroutine. The unexported
// method seals the interface: only this package defines commands. Each
// command carries its own buffered reply channel, so the supervisor never
// blocks when it answers.
type command interface {
	applyTo(l *loop)
}

// restartCmd asks for an immediate restart of the current attempt. reply has
// capacity 1 and receives nil once the next attempt has started, or
// ErrStopped if the unit stops first.
type restartCmd struct {
	reply chan<- error
}

func (c restartCmd) applyTo(l *loop) {
	switch l.state {
	case supervisor.StateRunning, supervisor.StateReady:
		l.waiting = append(l.waiting, c.reply)
		l.cur.cancel()
		l.armStopWarning()
		l.to(supervisor.StateRestarting, supervisor.Event{Attempt: l.cur.n})
	case supervisor.StateRestarting:
		// One restart is already under way; it answers this caller too.
		l.waiting = append(l.waiting, c.reply)
	case supervisor.StateBackoff:
		l.backoff.Stop()
		l.waiting = append(l.waiting, c.reply)
		l.launch()
	default:
		c.reply <- ErrStopped
	}
}
