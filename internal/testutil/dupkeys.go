package testutil

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// DupKeys is a slog.Handler that records every log line on which an
// attribute key appears more than once, counting the attributes its
// loggers were given with With (a JSON handler would write such a line
// with a duplicate key). Keys inside groups are qualified by the group.
// Get one from NewDupKeys and read Lines at the end of the test. It is
// safe for concurrent use.
type DupKeys struct {
	shared *dupShared
	keys   []string // qualified keys given with WithAttrs, in order
	group  string   // the open group's prefix, "" or "a.b."
}

type dupShared struct {
	mu    sync.Mutex
	lines []string
}

// NewDupKeys returns an empty DupKeys.
func NewDupKeys() *DupKeys { return &DupKeys{shared: &dupShared{}} }

// Enabled implements slog.Handler: every level, so debug lines are checked.
func (h *DupKeys) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (h *DupKeys) Handle(_ context.Context, r slog.Record) error {
	keys := slices.Clone(h.keys)
	r.Attrs(func(a slog.Attr) bool {
		keys = appendKeys(keys, h.group, a)
		return true
	})
	seen := make(map[string]bool, len(keys))
	var dups []string
	for _, k := range keys {
		if seen[k] {
			dups = append(dups, k)
		}
		seen[k] = true
	}
	if len(dups) > 0 {
		h.shared.mu.Lock()
		h.shared.lines = append(h.shared.lines, fmt.Sprintf("%q repeats %s (keys %s)", r.Message,
			strings.Join(dups, ", "), strings.Join(keys, " ")))
		h.shared.mu.Unlock()
	}
	return nil
}

// appendKeys adds a's qualified key (or, for a group, its members' keys).
func appendKeys(keys []string, prefix string, a slog.Attr) []string {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, m := range v.Group() {
			keys = appendKeys(keys, p, m)
		}
		return keys
	}
	if a.Key == "" {
		return keys
	}
	return append(keys, prefix+a.Key)
}

// WithAttrs implements slog.Handler.
func (h *DupKeys) WithAttrs(attrs []slog.Attr) slog.Handler {
	keys := slices.Clone(h.keys)
	for _, a := range attrs {
		keys = appendKeys(keys, h.group, a)
	}
	return &DupKeys{shared: h.shared, keys: keys, group: h.group}
}

// WithGroup implements slog.Handler.
func (h *DupKeys) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &DupKeys{shared: h.shared, keys: slices.Clone(h.keys), group: h.group + name + "."}
}

// Lines returns a description of every line that repeated a key, in order.
func (h *DupKeys) Lines() []string {
	h.shared.mu.Lock()
	defer h.shared.mu.Unlock()
	return slices.Clone(h.shared.lines)
}
