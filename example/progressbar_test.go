package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/megane-go/megane/cluster"
)

func TestRenderBar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    cluster.StartupProgress
		want string
	}{
		{cluster.StartupProgress{Ready: 0, Total: 64, Waiting: 60, Remaining: 1000, ETA: 5*time.Minute + 33*time.Second + 400*time.Millisecond},
			"[..............................] 0/64 shards ready, 60 waiting, ETA 5m33s"},
		{cluster.StartupProgress{Ready: 32, Total: 64, Waiting: 31, ETA: 2 * time.Minute},
			"[###############...............] 32/64 shards ready, 31 waiting, ETA 2m0s"},
		{cluster.StartupProgress{Ready: 1, Total: 3, Waiting: -1, ETA: -1},
			"[##########....................] 1/3 shards ready, ETA unknown"},
		{cluster.StartupProgress{Ready: 64, Total: 64, Waiting: 0},
			"[##############################] 64/64 shards ready"},
	}
	for _, tt := range tests {
		if got := renderBar(tt.p); got != tt.want {
			t.Errorf("renderBar(%+v) =\n%q, want\n%q", tt.p, got, tt.want)
		}
	}
}

// TestProgressBarTerminal: on a (fake) terminal, the tracker draws the
// progress events as a bar on the last line, log lines go above it, and
// the bar ends on its own line once every shard is ready.
func TestProgressBarTerminal(t *testing.T) {
	t.Parallel()
	var term bytes.Buffer
	bar := newProgressBar(&term)
	tr := newTracker(func() uint64 { return 0 }, nil)
	tr.bar = bar
	progress := func(ready int, eta time.Duration) cluster.Event {
		return cluster.Event{Kind: cluster.EventStartupProgress, Cluster: -1, Shard: -1,
			Progress: cluster.StartupProgress{Ready: ready, Total: 4, Waiting: 4 - ready, ETA: eta}}
	}
	bar.Write([]byte("before\n"))
	tr.handle(progress(1, 10*time.Second))
	bar.Write([]byte("a log line\n"))
	tr.handle(cluster.Event{Kind: cluster.EventShardReady}) // no bar for other events
	tr.handle(progress(4, 0))
	bar.Write([]byte("after\n"))

	const clear = "\r\x1b[K"
	b1 := "[#######.......................] 1/4 shards ready, 3 waiting, ETA 10s"
	b4 := "[##############################] 4/4 shards ready"
	want := "before\n" + clear + b1 + clear + "a log line\n" + b1 + clear + b4 + "\n" + "after\n"
	if got := term.String(); got != want {
		t.Fatalf("terminal got\n%q\nwant\n%q", got, want)
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
	if isTerminal(&strings.Builder{}) {
		t.Error("a strings.Builder is a terminal")
	}
	if null, err := os.Open(os.DevNull); err == nil {
		defer null.Close()
		if !isTerminal(null) {
			t.Errorf("%s (a character device) is not a terminal", os.DevNull)
		}
	}
}
