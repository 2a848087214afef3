package testutil

import (
	"bytes"
	"strings"
	"sync"
)

// LogBuffer is a bytes.Buffer safe for concurrent use, for capturing log
// output (slog.NewTextHandler(&buf, nil)) written from several goroutines
// and read by the test. The zero value is empty and ready to use. A
// LogBuffer must not be copied after first use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer: it appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Lines returns the lines written so far that contain every one of subs,
// each with its newline, in order.
func (b *LogBuffer) Lines(subs ...string) []string {
	var out []string
next:
	for line := range strings.Lines(b.String()) {
		for _, s := range subs {
			if !strings.Contains(line, s) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}

// String returns a copy of everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
