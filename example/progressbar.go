package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/megane-go/megane/cluster"
)

// isTerminal reports whether w is a terminal: an *os.File on a character
// device. (golang.org/x/term is not a dependency; this is all the bar
// needs.)
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// barWidth is the number of cells of the progress bar.
const barWidth = 30

// progressBar draws the startup progress on the last line of a terminal,
// below the log lines: it is the log's writer, and clears the bar before
// each log line and draws it again after. Safe for concurrent use; its
// mutex serialises every write to the terminal.
type progressBar struct {
	mu   sync.Mutex
	w    io.Writer
	line string // the bar on screen, "" when none
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

// Write writes one log line above the bar.
func (b *progressBar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.line != "" {
		io.WriteString(b.w, "\r\x1b[K")
	}
	n, err := b.w.Write(p)
	if b.line != "" {
		io.WriteString(b.w, b.line)
	}
	return n, err
}

// show draws p. Once every shard is ready it leaves the bar on its own line
// and draws no more until the next start.
func (b *progressBar) show(p cluster.StartupProgress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	line := renderBar(p)
	io.WriteString(b.w, "\r\x1b[K"+line)
	b.line = line
	if p.Ready >= p.Total {
		io.WriteString(b.w, "\n")
		b.line = ""
	}
}

// renderBar is one line of startup progress, such as
// "[#####.........................] 11/64 shards ready, 53 waiting, ETA 4m41s".
func renderBar(p cluster.StartupProgress) string {
	filled := 0
	if p.Total > 0 {
		filled = min(p.Ready, p.Total) * barWidth / p.Total
	}
	var s strings.Builder
	fmt.Fprintf(&s, "[%s%s] %d/%d shards ready", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), p.Ready, p.Total)
	if p.Ready >= p.Total {
		return s.String()
	}
	if p.Waiting >= 0 {
		fmt.Fprintf(&s, ", %d waiting", p.Waiting)
	}
	switch {
	case p.ETA < 0:
		s.WriteString(", ETA unknown")
	default:
		fmt.Fprintf(&s, ", ETA %s", p.ETA.Round(time.Second))
	}
	return s.String()
}
