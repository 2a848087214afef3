package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriteMarkdownReplacesItsSection: -md appends the soak's section to a
// results file once, then replaces it in place, leaving the rest alone.
func TestWriteMarkdownReplacesItsSection(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(path, []byte("# Results\n\nbench figures\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &report{Seed: 1, Duration: "10m0s", Sent: 10, Delivered: 10, OK: true,
		FaultsInjected: map[kind]int{"tcp_drop": 2}}
	began := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	for _, sent := range []int{10, 20} {
		r.Sent = sent
		if err := r.writeMarkdown(path, []string{"-duration", "10m", "-seed", "1"}, began); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	if !strings.HasPrefix(s, "# Results\n\nbench figures\n") {
		t.Fatalf("the rest of the file changed:\n%s", s)
	}
	if strings.Count(s, mdBegin) != 1 || strings.Count(s, mdEnd) != 1 {
		t.Fatalf("want one soak section:\n%s", s)
	}
	for _, want := range []string{"go run ./bench/soak -duration 10m -seed 1", "| dispatches sent / delivered | 20 / 10 |",
		"2026-12-03T15:00:00Z", "| result | OK |", "tcp_drop 2"} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
}
