package supervise

import (
	"math"
	"testing"
	"time"
)

func TestPolicyNormalized(t *testing.T) {
	t.Parallel()
	def := DefaultPolicy()
	tests := []struct {
		name string
		in   Policy
		want Policy
	}{
		{"zero is default without jitter", Policy{}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: def.Multiplier,
			MaxRestarts: def.MaxRestarts, Window: def.Window, MaxFailedStarts: def.MaxFailedStarts}},
		{"default unchanged", def, def},
		{"max below min raised", Policy{MinBackoff: time.Second, MaxBackoff: time.Millisecond},
			Policy{MinBackoff: time.Second, MaxBackoff: time.Second, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"multiplier below one", Policy{Multiplier: 0.5}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"multiplier NaN", Policy{Multiplier: math.NaN()}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"constant backoff kept", Policy{Multiplier: 1}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 1, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"jitter clamped high", Policy{Jitter: 3}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, Jitter: 1, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"jitter clamped low", Policy{Jitter: -1}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: 5}},
		{"negative failed-starts cap kept", Policy{MaxFailedStarts: -1}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: 5, Window: time.Minute, MaxFailedStarts: -1}},
		{"negative cap kept", Policy{MaxRestarts: -1, RestartOnSuccess: true}, Policy{
			MinBackoff: def.MinBackoff, MaxBackoff: def.MaxBackoff, Multiplier: 2, MaxRestarts: -1, Window: time.Minute, MaxFailedStarts: 5, RestartOnSuccess: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.normalized(); got != tt.want {
				t.Errorf("normalized() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPolicyBaseDelay(t *testing.T) {
	t.Parallel()
	p := Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2}.normalized()
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
		if got := p.baseDelay(tt.n); got != tt.want {
			t.Errorf("baseDelay(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestPolicyJittered(t *testing.T) {
	t.Parallel()
	p := Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Jitter: 0.2}.normalized()
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
			if got := p.jittered(tt.d, tt.r); got != tt.want {
				t.Errorf("jittered(%v, %v) = %v, want %v", tt.d, tt.r, got, tt.want)
			}
		})
	}
	noJitter := Policy{}.normalized()
	if got := noJitter.jittered(time.Second, 0.9); got != time.Second {
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
		s     State
		want  string
		final bool
	}{
		{Idle, "idle", false},
		{Starting, "starting", false},
		{Running, "running", false},
		{Ready, "ready", false},
		{Backoff, "backoff", false},
		{Restarting, "restarting", false},
		{Stopping, "stopping", false},
		{Stopped, "stopped", true},
		{Failed, "failed", true},
		{State(42), "state(42)", false},
		{State(-1), "state(-1)", false},
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
