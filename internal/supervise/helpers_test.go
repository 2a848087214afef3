package supervise

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/megane-go/megane/supervisor"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBoom = errors.New("boom")

// quiet discards the unit's logs.
func quiet() Option { return WithLogger(slog.New(slog.DiscardHandler)) }

// recorder collects events from a unit's hook.
type recorder struct {
	mu     sync.Mutex
	events []supervisor.Event
}

func (r *recorder) hook(e supervisor.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []supervisor.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]supervisor.Event(nil), r.events...)
}

// transition is the comparable part of an Event.
type transition struct {
	From, To supervisor.State
	Attempt  int
}

func (r *recorder) transitions() []transition {
	var out []transition
	for _, e := range r.all() {
		out = append(out, transition{e.From, e.To, e.Attempt})
	}
	return out
}

// logCapture is a slog.Handler that keeps the messages of the records it
// receives at or above its level.
type logCapture struct {
	level slog.Level
	mu    *sync.Mutex
	msgs  *[]string
}

func newLogCapture(level slog.Level) logCapture {
	return logCapture{level: level, mu: new(sync.Mutex), msgs: new([]string)}
}

func (h logCapture) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h logCapture) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.msgs = append(*h.msgs, r.Message)
	return nil
}
func (h logCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logCapture) WithGroup(string) slog.Handler      { return h }

func (h logCapture) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), *h.msgs...)
}
