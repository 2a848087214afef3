package supervise

import (
	"math"
	"testing"
	"time"

	"github.com/megane-go/megane/supervisor"
)

func TestPolicyNormalized(t *testing.T) {
	t.Parallel()
	def := supervisor.DefaultPolicy()
	tests := []struct {
		name string
		in   supervisor.Policy
		want supervisor.Policy
	}{
		{"zero is default without jitter", supervisor.Policy{}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: def.Multiplier,
			MaxRestarts: def.MaxRestarts, Window: def.Window, MaxFailedStarts: def.MaxFailedStarts}},
		{"default unchanged", def, def},
		{"max below min raised", supervisor.Policy{MinBackoff: time.Second, MaxBackoff: time.Millisecond},
			supervisor.Policy{MinBackoff: time.Second, MaxBackoff: time.Second, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"multiplier below one", supervisor.Policy{Multiplier: 0.5}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"multiplier NaN", supervisor.Policy{Multiplier: math.NaN()}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"constant backoff kept", supervisor.Policy{Multiplier: 1}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 1, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"jitter clamped high", supervisor.Policy{Jitter: 3}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, Jitter: 1, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"jitter clamped low", supervisor.Policy{Jitter: -1}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"negative failed-starts cap kept", supervisor.Policy{MaxFailedStarts: -1}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: -1}},
		{"negative cap kept", supervisor.Policy{MaxRestarts: -1, RestartOnSuccess: true}, supervisor.Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: -1, Window: time.Minute, MaxFailedStarts: 5, RestartOnSuccess: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := normalized(tt.in); got != tt.want {
				t.Errorf("normalized() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPolicyBaseDelay(t *testing.T) {
	t.Parallel()
	p := normalized(supervisor.Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2})
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{1000, time.Second},
		{math.MaxInt, time.Second},
	}
	for _, tt := range tests {
		if got := baseDelay(p, tt.n); got != tt.want {
			t.Errorf("baseDelay(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestPolicyJittered(t *testing.T) {
	t.Parallel()
	p := normalized(supervisor.Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Jitter: 0.2})
	tests := []struct {
		name string
		d    time.Duration
		r    float64
		want time.Duration
	}{
		{"lowest", 500 * time.Millisecond, 0, 400 * time.Millisecond},
		{"middle", 500 * time.Millisecond, 0.5, 500 * time.Millisecond},
		{"highest", 500 * time.Millisecond, 1, 600 * time.Millisecond},
		{"capped at max", time.Second, 1, time.Second},
		{"below max", time.Second, 0, 800 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := jittered(p, tt.d, tt.r); got != tt.want {
				t.Errorf("jittered(%v, %v) = %v, want %v", tt.d, tt.r, got, tt.want)
			}
		})
	}
	noJitter := normalized(supervisor.Policy{})
	if got := jittered(noJitter, time.Second, 0.9); got != time.Second {
		t.Errorf("jittered without jitter = %v, want 1s", got)
	}
}

func TestCrashWindow(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w crashWindow
	steps := []struct {
		at   time.Duration
		want int
	}{
		{0, 1},
		{10 * time.Second, 2},
		{59 * time.Second, 3},
		{60 * time.Second, 3}, // the crash at 0 is exactly a window old: forgotten
		{75 * time.Second, 3},
		{200 * time.Second, 1},
	}
	for _, s := range steps {
		if got := w.add(base.Add(s.at), time.Minute); got != s.want {
			t.Errorf("add(+%v) = %d, want %d", s.at, got, s.want)
		}
	}
}

func TestStateString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s     supervisor.State
		want  string
		final bool
	}{
		{supervisor.StateIdle, "idle", false},
		{supervisor.StateStarting, "starting", false},
		{supervisor.StateRunning, "running", false},
		{supervisor.StateReady, "ready", false},
		{supervisor.StateBackoff, "backoff", false},
		{supervisor.StateRestarting, "restarting", false},
		{supervisor.StateStopping, "stopping", false},
		{supervisor.StateStopped, "stopped", true},
		{supervisor.StateFailed, "failed", true},
		{supervisor.State(42), "state(42)", false},
		{supervisor.State(-1), "state(-1)", false},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("State(%d).String() = %q, want %q", int(tt.s), got, tt.want)
		}
		if got := tt.s.Final(); got != tt.final {
			t.Errorf("State(%d).Final() = %v, want %v", int(tt.s), got, tt.final)
		}
	}
}
