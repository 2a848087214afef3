package testutil

import (
	"log/slog"
	"testing"
)

func TestDupKeys(t *testing.T) {
	t.Parallel()
	h := NewDupKeys()
	log := slog.New(h)
	log.With(slog.Int("cluster", 1)).Info("fine", slog.Int("shard", 2))
	log.With(slog.Int("cluster", 1)).Info("twice", slog.Int("cluster", 1))
	log.WithGroup("g").With(slog.Int("a", 1)).Info("grouped", slog.Int("a", 2))
	log.With(slog.Int("a", 1)).WithGroup("g").Info("other group", slog.Int("a", 2))
	log.Info("in a group attr", slog.Group("g", slog.Int("x", 1), slog.Int("x", 2)))
	got := h.Lines()
	if len(got) != 3 {
		t.Fatalf("lines = %q, want the 3 with a repeated key", got)
	}
	for i, want := range []string{`"twice" repeats cluster`, `"grouped" repeats g.a`, `"in a group attr" repeats g.x`} {
		if len(got[i]) < len(want) || got[i][:len(want)] != want {
			t.Errorf("line %d = %q, want it to start with %q", i, got[i], want)
		}
	}
}
