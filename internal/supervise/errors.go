package supervise

import (
	"errors"

	"github.com/megane-go/megane/supervisor"
)

// Errors returned by this package. Match them with [errors.Is].
var (
	// ErrStopped is returned by [Unit.Restart] when the unit has stopped, or
	// stops before the new attempt has started.
	ErrStopped = errors.New("supervise: unit stopped")

	// ErrAlreadyServed is returned by [Unit.Serve] when the unit is served,
	// or was served, before. A unit is served at most once.
	ErrAlreadyServed = errors.New("supervise: unit already served")

	// ErrGoexit is the crash recorded when a runner calls runtime.Goexit
	// (for example through testing.T.FailNow) instead of returning.
	ErrGoexit = errors.New("supervise: runner called runtime.Goexit")
)

func isFatalErr(err error) bool { return errors.Is(err, supervisor.ErrNoRestart) }
