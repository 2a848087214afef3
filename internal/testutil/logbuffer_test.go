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

func TestLogBufferLines(t *testing.T) {
	t.Parallel()
	var buf LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("a", slog.Int("n", 1))
	log.Error("b", slog.Int("n", 2))
	log.Error("c", slog.Int("n", 3))
	tests := []struct {
		subs []string
		want []string // the msg= of each line
	}{
		{nil, []string{"msg=a", "msg=b", "msg=c"}},
		{[]string{"level=ERROR"}, []string{"msg=b", "msg=c"}},
		{[]string{"level=ERROR", "n=3"}, []string{"msg=c"}},
		{[]string{"level=ERROR", "n=1"}, nil},
	}
	for _, tt := range tests {
		got := buf.Lines(tt.subs...)
		if len(got) != len(tt.want) {
			t.Fatalf("Lines(%q) = %q, want %d lines", tt.subs, got, len(tt.want))
		}
		for i, l := range got {
			if !strings.Contains(l, tt.want[i]) || !strings.HasSuffix(l, "\n") {
				t.Errorf("Lines(%q)[%d] = %q, want %s with its newline", tt.subs, i, l, tt.want[i])
			}
		}
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
