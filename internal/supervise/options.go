package supervise

import (
	"log/slog"
	"time"

	"github.com/megane-go/megane/supervisor"
)

// config holds a Unit's settings. Build it with defaultConfig.
type config struct {
	policy      supervisor.Policy
	logger      *slog.Logger
	hook        func(supervisor.Event)
	fatal       func(error) bool
	stopWarning time.Duration
}

func defaultConfig() config {
	return config{
		policy:      supervisor.DefaultPolicy(),
		logger:      slog.Default(),
		stopWarning: 10 * time.Second,
	}
}

// Option configures a [Unit] in [New].
type Option func(*config)

// WithPolicy sets the restart policy. Zero fields take defaults as described
// on [supervisor.Policy]. The default is [supervisor.DefaultPolicy].
func WithPolicy(p supervisor.Policy) Option {
	return func(c *config) { c.policy = p }
}

// WithLogger sets the logger. The unit adds the attribute "unit" with its
// name; give the logger the cluster or service attributes yourself. A nil
// logger discards. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.logger = l
	}
}

// WithEventHook sets a function called with every state transition, in
// order. It runs on the supervisor goroutine, so it must return quickly and
// must not call the unit's blocking methods (Restart); a slow hook delays
// the unit. To hand events to another goroutine, send them on a buffered
// channel with a non-blocking send and count what is dropped. A panic in the
// hook is recovered and logged. Several hooks may be set; they run in the
// order given.
func WithEventHook(hook func(supervisor.Event)) Option {
	return func(c *config) {
		if hook == nil {
			return
		}
		if prev := c.hook; prev != nil {
			c.hook = func(e supervisor.Event) { prev(e); hook(e) }
			return
		}
		c.hook = hook
	}
}

// WithFatal sets a predicate for errors after which the unit must stop
// without restarting, in addition to errors wrapping
// [supervisor.ErrNoRestart]. It receives every crash, including
// *supervisor.PanicError values, on the supervisor goroutine.
func WithFatal(isFatal func(error) bool) Option {
	return func(c *config) { c.fatal = isFatal }
}

// WithStopWarning sets how long the unit waits for a cancelled attempt to
// return before it logs a warning that the runner ignores its context. The
// unit keeps waiting either way: it never abandons a goroutine. Zero
// disables the warning. The default is 10s.
func WithStopWarning(d time.Duration) Option {
	return func(c *config) { c.stopWarning = d }
}
