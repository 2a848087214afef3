package supervisor

import (
	"errors"
	"testing"
)

func TestStateString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s     State
		name  string
		final bool
	}{
		{StateIdle, "idle", false},
		{StateStarting, "starting", false},
		{StateRunning, "running", false},
		{StateReady, "ready", false},
		{StateBackoff, "backoff", false},
		{StateRestarting, "restarting", false},
		{StateStopping, "stopping", false},
		{StateStopped, "stopped", true},
		{StateFailed, "failed", true},
		{StateReloading, "reloading", false},
		{State(-1), "state(-1)", false},
		{StateReloading + 1, "state(10)", false},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.name {
			t.Errorf("State(%d).String() = %q, want %q", int(tt.s), got, tt.name)
		}
		if got := tt.s.Final(); got != tt.final {
			t.Errorf("%v.Final() = %v, want %v", tt.s, got, tt.final)
		}
	}
}

// The supervisor's own states keep the values they had in package
// supervise; StateReloading, a cluster's, comes after them.
func TestStateValues(t *testing.T) {
	t.Parallel()
	if StateIdle != 0 || StateFailed != 8 || StateReloading != 9 {
		t.Errorf("StateIdle, StateFailed, StateReloading = %d, %d, %d; want 0, 8, 9", StateIdle, StateFailed, StateReloading)
	}
}

func TestPanicErrorUnwrap(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	if got := (&PanicError{Value: errBoom}).Unwrap(); got != errBoom {
		t.Errorf("Unwrap of an error value = %v, want %v", got, errBoom)
	}
	if got := (&PanicError{Value: 42}).Unwrap(); got != nil {
		t.Errorf("Unwrap of a non-error value = %v, want nil", got)
	}
	if got, want := (&PanicError{Value: errBoom}).Error(), "supervise: panic: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if NoRestart(nil) != ErrNoRestart {
		t.Error("NoRestart(nil) is not ErrNoRestart")
	}
}
