package testutil

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// TestLogBufferConcurrentWrites logs from several goroutines while reading:
// under -race this proves the locking, and every line must arrive whole.
func TestLogBufferConcurrentWrites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		writers, lines int
	}{{1, 10}, {8, 50}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.writers, tt.lines), func(t *testing.T) {
			t.Parallel()
			var buf LogBuffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			var wg sync.WaitGroup
			for w := range tt.writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range tt.lines {
						log.Info("line", slog.Int("writer", w), slog.Int("i", i))
						_ = buf.String()
					}
				}()
			}
			wg.Wait()
			out := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(out) != tt.writers*tt.lines {
				t.Fatalf("%d lines, want %d", len(out), tt.writers*tt.lines)
			}
			for _, l := range out {
				if !strings.Contains(l, "msg=line writer=") {
					t.Fatalf("torn line %q", l)
				}
			}
		})
	}
}

func ExampleLogBuffer() {
	var buf LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	log.Info("shard ready", slog.Int("shard", 3))
	fmt.Print(buf.String())
	// Output: level=INFO msg="shard ready" shard=3
}
