package supervise

import (
	"strconv"
	"time"
)

// State is where a [Unit] is in its life. The zero value is [Idle].
//
// The transitions are:
//
//	Idle → Starting → Running → Ready
//	Running, Ready → Backoff → Starting           (crash, or success with RestartOnSuccess)
//	Running, Ready → Restarting → Starting        (Unit.Restart)
//	Backoff → Starting                            (delay over, or Unit.Restart)
//	Running, Ready, Restarting → Stopping → Stopped (context ended)
//	Running, Ready → Stopped                      (runner returned nil)
//	Backoff → Stopped                             (context ended)
//	Running, Ready → Failed                       (fatal error, or too many restarts)
type State int

// The states of a [Unit].
const (
	// Idle: Serve has not been called yet.
	Idle State = iota
	// Starting: an attempt is being launched.
	Starting
	// Running: an attempt runs and has not called MarkHealthy yet.
	Running
	// Ready: the running attempt has called MarkHealthy.
	Ready
	// Backoff: the last attempt ended; the unit waits before the next one.
	Backoff
	// Restarting: Unit.Restart cancelled the attempt; the unit waits for it
	// to return before it starts the next one without delay.
	Restarting
	// Stopping: the context ended; the unit waits for the attempt to return.
	Stopping
	// Stopped: Serve has returned nil. Final.
	Stopped
	// Failed: Serve has returned an error. Final.
	Failed
)

var stateNames = [...]string{
	Idle:       "idle",
	Starting:   "starting",
	Running:    "running",
	Ready:      "ready",
	Backoff:    "backoff",
	Restarting: "restarting",
	Stopping:   "stopping",
	Stopped:    "stopped",
	Failed:     "failed",
}

// String returns the lower-case name of the state, such as "running", or
// "state(N)" for a value outside the constants.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Final reports whether s is [Stopped] or [Failed], after which a unit
// never changes state again.
func (s State) Final() bool { return s == Stopped || s == Failed }

// Event describes one state transition of a [Unit]. Events are plain values
// and may be copied and kept.
type Event struct {
	// Name is the unit's name, as given to New.
	Name string
	// From and To are the states before and after the transition.
	From, To State
	// Attempt is the 1-based number of the attempt the transition concerns:
	// the one that ended for transitions out of Running, Ready, Restarting
	// and Stopping, and the one about to start for transitions into Starting.
	Attempt int
	// Err is the error that caused the transition, if any: the crash for
	// transitions into Backoff or Failed, nil otherwise. For a panic it is
	// the same *PanicError as Panic; that includes a transition into
	// Stopped whose cancelled attempt panicked on its way out. An error an
	// attempt returns after its context ended is not a crash and is not
	// reported here.
	Err error
	// Panic is set when the attempt panicked.
	Panic *PanicError
	// Delay is the backoff delay, set for transitions into Backoff.
	Delay time.Duration
	// At is when the transition happened.
	At time.Time
}

// Status is a consistent snapshot of a [Unit], as returned by
// [Unit.Status]. It is a plain value.
type Status struct {
	// State is the current state.
	State State
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
