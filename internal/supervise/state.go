package supervise

import (
	"time"

	"github.com/megane-go/megane/supervisor"
)

// Status is a consistent snapshot of a [Unit], as returned by
// [Unit.Status]. It is a plain value.
type Status struct {
	// State is the current state.
	State supervisor.State
	// Attempt is the number of attempts launched so far (1-based).
	Attempt int
	// Restarts counts the attempts launched after the first, for any
	// reason: a crash, Unit.Restart, or RestartOnSuccess.
	Restarts int
	// Crashes counts the attempts that ended with an error or a panic.
	// Attempts ended by Unit.Restart or by the context are not crashes.
	Crashes int
	// LastError is the most recent crash, or the fatal error; nil if none.
	LastError error
	// Since is when the unit entered State.
	Since time.Time
}
