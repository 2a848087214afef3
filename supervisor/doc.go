// Package supervisor holds the vocabulary of Megane's supervisors: the
// restart [Policy], the [State] of a supervised cluster or service, the
// [Event] of a state change, the [PanicError] of a recovered panic, and the
// [NoRestart] marker. Package cluster and package service both speak it;
// it imports nothing of Megane's.
//
// Each cluster and each service runs under a supervisor of its own. The
// supervisor runs one attempt at a time, recovers a panic together with its
// stack, restarts a crashed attempt after an exponential backoff (see
// [Policy]), gives up when the restart cap is exceeded
// ([ErrTooManyRestarts]), and reports every transition as an [Event].
// One goroutine owns a supervisor's state; the values in this package are
// plain data that the supervisor hands out.
//
// An attempt's result means:
//
//   - nil: the work finished; the supervisor stops (or restarts, if
//     [Policy.RestartOnSuccess] is set);
//   - an error, or a panic: a crash; the supervisor restarts after a
//     backoff, unless the restart cap is exceeded;
//   - an error wrapping [ErrNoRestart] (see [NoRestart]): the supervisor
//     stops at once, in [StateFailed];
//   - anything returned after the attempt's context ended: not a crash.
package supervisor
