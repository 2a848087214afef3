package supervisor

import (
	"strconv"
	"time"
)

// State is where a supervised cluster or service is in its life. The zero
// value is [StateIdle]. A State is a plain value; its String method gives
// the lower-case name ("ready", "backoff", ...) that the stats and the logs
// show.
//
// A supervisor goes through these transitions:
//
//	Idle → Starting → Running → Ready
//	Running, Ready → Backoff → Starting           (crash, or success with RestartOnSuccess)
//	Running, Ready → Restarting → Starting        (an explicit restart)
//	Backoff → Starting                            (delay over, or an explicit restart)
//	Running, Ready, Restarting → Stopping → Stopped (context ended)
//	Running, Ready → Stopped                      (the work returned nil)
//	Backoff → Stopped                             (context ended)
//	Running, Ready → Failed                       (NoRestart, or too many restarts)
//
// A service reports these states as they are. A cluster reports
// [StateStarting] until every shard is ready (never [StateRunning]), and
// [StateReloading] while a worker-only reload runs; no service is ever in
// StateReloading.
type State int

// The states of a supervised cluster or service.
const (
	// StateIdle: the supervisor has not started yet.
	StateIdle State = iota
	// StateStarting: an attempt is being launched.
	StateStarting
	// StateRunning: an attempt runs and has not become ready yet.
	StateRunning
	// StateReady: the running attempt is ready (a service called Ready;
	// every shard of a cluster is ready).
	StateReady
	// StateBackoff: the last attempt ended; the supervisor waits before the
	// next one.
	StateBackoff
	// StateRestarting: an explicit restart cancelled the attempt; the
	// supervisor waits for it to return before it starts the next one
	// without delay.
	StateRestarting
	// StateStopping: the context ended; the supervisor waits for the
	// attempt to return.
	StateStopping
	// StateStopped: the supervisor has stopped without an error. Final.
	StateStopped
	// StateFailed: the supervisor has stopped with an error (NoRestart, or
	// too many restarts). Final.
	StateFailed
	// StateReloading: a cluster's worker-only reload runs; its shards stay
	// connected. Only clusters report it. (Declared last so that the other
	// states keep their values.)
	StateReloading
)

var stateNames = [...]string{
	StateIdle:       "idle",
	StateStarting:   "starting",
	StateRunning:    "running",
	StateReady:      "ready",
	StateBackoff:    "backoff",
	StateRestarting: "restarting",
	StateStopping:   "stopping",
	StateStopped:    "stopped",
	StateFailed:     "failed",
	StateReloading:  "reloading",
}

// String returns the lower-case name of the state, such as "running", or
// "state(N)" for a value outside the constants.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Final reports whether s is [StateStopped] or [StateFailed], after which a
// supervisor never changes state again.
func (s State) Final() bool { return s == StateStopped || s == StateFailed }

// Event is one state transition of a supervisor, as a service's event hook
// receives it. Events are plain values and may be copied and kept.
type Event struct {
	// Name is the supervised work's name (for a service, its name).
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
