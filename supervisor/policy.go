package supervisor

import "time"

// Policy says how a supervisor restarts a crashed cluster or service: the
// backoff between attempts and the caps after which it gives up.
//
// A Policy is a plain value: copy it freely and share it between
// supervisors; a supervisor keeps its own copy. A zero field takes the
// value of [DefaultPolicy], except Jitter (zero means no jitter) and
// RestartOnSuccess (false), so the zero Policy behaves like DefaultPolicy
// without jitter.
type Policy struct {
	// MinBackoff is the delay after the first crash in a row. Default 100ms.
	MinBackoff time.Duration
	// MaxBackoff caps the delay. Default 30s; raised to MinBackoff if lower.
	// An attempt that ran at least MaxBackoff before crashing resets the
	// backoff, as does an attempt that became ready.
	MaxBackoff time.Duration
	// Multiplier grows the delay after each further crash in a row:
	// MinBackoff × Multiplier^(n-1) for the n-th. Values below 1 mean 2;
	// 1 gives a constant delay.
	Multiplier float64
	// Jitter spreads each delay uniformly within ±Jitter of itself (0.1 is
	// ±10%), so that supervisors whose work crashes together do not restart
	// together. Clamped to [0, 1]. The jittered delay never exceeds
	// MaxBackoff.
	Jitter float64
	// MaxRestarts is the restart cap: when more than MaxRestarts crashes
	// happen within Window, the supervisor gives up with
	// [ErrTooManyRestarts]. Zero means the default, 5; a negative value
	// means no cap.
	MaxRestarts int
	// Window is the sliding window of the restart cap. Default one minute.
	Window time.Duration
	// MaxFailedStarts is the cap on attempts in a row that crash before
	// they become ready, however far apart: after more than MaxFailedStarts
	// the supervisor gives up with [ErrTooManyRestarts]. It bounds retries
	// the Window cap cannot, such as starts that each time out after
	// minutes. Zero means the default, 5; a negative value means no cap.
	MaxFailedStarts int
	// RestartOnSuccess restarts work that returned nil (after MinBackoff,
	// not counted as a crash) instead of stopping the supervisor.
	RestartOnSuccess bool
}

// DefaultPolicy returns the default policy: backoff from 100ms to 30s,
// doubling, with ±10% jitter; give up after more than 5 crashes in a
// minute, or more than 5 failed starts in a row.
func DefaultPolicy() Policy {
	return Policy{
		MinBackoff:      100 * time.Millisecond,
		MaxBackoff:      30 * time.Second,
		Multiplier:      2,
		Jitter:          0.1,
		MaxRestarts:     5,
		Window:          time.Minute,
		MaxFailedStarts: 5,
	}
}
