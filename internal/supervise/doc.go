// Package supervise runs one piece of work (a [Runner]) under a supervisor
// that recovers its panics, restarts it with exponential backoff, caps how
// often it may crash, and reports every state transition as a
// [supervisor.Event].
//
// Clusters and services of Megane are both built on a [Unit]. The values a
// unit takes and hands out (its [supervisor.Policy], [supervisor.State],
// events and [supervisor.PanicError]) are declared in the public package
// supervisor, so that users see their docs; this package holds the
// machinery. It knows nothing about Discord.
//
// # Contract of a Runner
//
// [Runner.Run] is one attempt. It blocks until the work ends:
//
//   - returning nil means the work finished normally; the unit stops (or
//     restarts, if [supervisor.Policy.RestartOnSuccess] is set);
//   - returning an error, or panicking, is a crash; the unit restarts the
//     runner after a backoff delay, unless the restart cap is exceeded;
//   - returning an error that wraps [supervisor.ErrNoRestart] (see
//     [supervisor.NoRestart]), or one that the [WithFatal] predicate
//     matches, stops the unit at once;
//   - when its context ends, the runner must return promptly. Its result
//     is then not counted as a crash.
//
// A runner calls [MarkHealthy] with its context once it is ready. That moves
// the unit to [supervisor.StateReady] and resets the backoff, so that a
// runner which crashes after a healthy period starts again quickly.
//
// # Ownership
//
// One goroutine, the one that calls [Unit.Serve], owns all of a unit's state.
// Each attempt runs on a goroutine of its own, started and awaited by that
// owner, so Serve never returns while an attempt is still running.
package supervise
