package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/pacedconn"
)

// fakeSpec is the fake child's configuration.
type fakeSpec struct {
	Shards   int     `json:"shards"`
	PerShard float64 `json:"per_shard"` // frames/s per shard
}

// runFakeChild serves a fake Discord, prints "url URL" and "token TOKEN",
// and stops when stdin closes.
func runFakeChild(spec string, stdin io.Reader, out io.Writer) error {
	var s fakeSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return err
	}
	srv, err := discordtest.Start(discordtest.WithShards(s.Shards), discordtest.WithGuilds(100),
		discordtest.WithRate(s.PerShard), discordtest.WithMaxConcurrency(s.Shards),
		discordtest.WithIdentifyWindow(0), discordtest.WithCompressions(gateway.CompressionNone),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(out, "url", srv.GatewayURL())
	fmt.Fprintln(out, "token", srv.Token())
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// readerSpec is a reader child's configuration. Reader is "net",
// "paced:PERIOD", "reactor:PERIOD" or "timer:PERIOD".
type readerSpec struct {
	URL    string        `json:"url"`
	Token  string        `json:"token"`
	Shards int           `json:"shards"`
	Reader string        `json:"reader"`
	Warmup time.Duration `json:"warmup"`
	Window time.Duration `json:"window"`
}

// readerResult is what a reader measured in its window.
type readerResult struct {
	Frames int64   `json:"frames"`
	UserNS float64 `json:"user_ns"`
	SysNS  float64 `json:"sys_ns"`
}

func runReaderChild(ctx context.Context, spec string, out io.Writer) error {
	var s readerSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return err
	}
	res, err := read(ctx, s)
	if err != nil {
		return err
	}
	js, _ := json.Marshal(res)
	_, err = fmt.Fprintf(out, "%s\n", js)
	return err
}

// dialerFor returns the NetDialContext of a reader.
func dialerFor(reader string) (func(context.Context, string, string) (net.Conn, error), error) {
	if reader == "net" {
		return (&net.Dialer{}).DialContext, nil
	}
	period, ok := strings.CutPrefix(reader, "paced:")
	if !ok {
		return nil, fmt.Errorf("unknown reader %q", reader)
	}
	d, err := time.ParseDuration(period)
	if err != nil {
		return nil, fmt.Errorf("reader %q: %w", reader, err)
	}
	return (&pacedconn.Dialer{Period: d}).DialContext, nil
}

// read connects s.Shards shards, identifies each, and counts the frames
// they read during the window that follows the warm-up, with the CPU the
// process used meanwhile. It closes every connection before it returns.
func read(ctx context.Context, s readerSpec) (readerResult, error) {
	if period, ok := strings.CutPrefix(s.Reader, "timer:"); ok {
		d, err := time.ParseDuration(period)
		if err != nil || d <= 0 {
			return readerResult{}, fmt.Errorf("reader %q: want a positive period", s.Reader)
		}
		return readTimer(ctx, s, d)
	}
	if period, ok := strings.CutPrefix(s.Reader, "reactor:"); ok {
		d, err := time.ParseDuration(period)
		if err != nil || d <= 0 {
			return readerResult{}, fmt.Errorf("reader %q: want a positive period", s.Reader)
		}
		return readReactor(ctx, s, d)
	}
	dial, err := dialerFor(s.Reader)
	if err != nil {
		return readerResult{}, err
	}
	wd := websocket.Dialer{ReadBufferSize: 32 << 10, NetDialContext: dial, HandshakeTimeout: 10 * time.Second}
	var frames atomic.Int64
	var wg sync.WaitGroup
	var conns []*websocket.Conn
	defer func() {
		for _, ws := range conns {
			_ = ws.Close()
		}
		wg.Wait()
	}()
	for i := range s.Shards {
		ws, resp, err := wd.DialContext(ctx, s.URL+"?v=10&encoding=json", nil)
		if err != nil {
			return readerResult{}, fmt.Errorf("shard %d: dial: %w", i, err)
		}
		_ = resp.Body.Close()
		conns = append(conns, ws)
		if _, _, err := ws.ReadMessage(); err != nil { // HELLO
			return readerResult{}, fmt.Errorf("shard %d: hello: %w", i, err)
		}
		identify, _ := json.Marshal(map[string]any{"op": 2, "d": map[string]any{
			"token": s.Token, "intents": 33281, "shard": []int{i, s.Shards},
			"properties": map[string]string{"os": "linux", "browser": "pacedfloor", "device": "pacedfloor"}}})
		if err := ws.WriteMessage(websocket.TextMessage, identify); err != nil {
			return readerResult{}, fmt.Errorf("shard %d: identify: %w", i, err)
		}
		wg.Go(func() { countFrames(ws, &frames) })
	}
	return measureWindow(ctx, s, &frames)
}

// readTimer is the floor under every paced reader: a goroutine that only
// wakes once per period (a time.Timer), with no socket at all. Its
// "frames" are its wake-ups, so the table's per-frame figures are the CPU
// of one wake-up of the Go runtime on this machine.
func readTimer(ctx context.Context, s readerSpec, period time.Duration) (readerResult, error) {
	var wakes atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				wakes.Add(1)
				t.Reset(period)
			case <-stop:
				return
			}
		}
	}()
	res, err := measureWindow(ctx, s, &wakes)
	close(stop)
	<-done
	return res, err
}

// measureWindow waits out the warm-up, then returns the frames counted and
// the CPU used during the window.
func measureWindow(ctx context.Context, s readerSpec, frames *atomic.Int64) (readerResult, error) {
	if err := pause(ctx, s.Warmup); err != nil {
		return readerResult{}, err
	}
	u0, s0 := rusage()
	f0 := frames.Load()
	if err := pause(ctx, s.Window); err != nil {
		return readerResult{}, err
	}
	u1, s1 := rusage()
	return readerResult{Frames: frames.Load() - f0, UserNS: float64(u1 - u0), SysNS: float64(s1 - s0)}, nil
}

// countFrames reads whole frames from ws into one reused buffer until the
// connection ends, counting them.
func countFrames(ws *websocket.Conn, frames *atomic.Int64) {
	buf := make([]byte, 64<<10)
	for {
		_, r, err := ws.NextReader()
		if err != nil {
			return
		}
		for {
			_, err := r.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
		}
		frames.Add(1)
	}
}

// pause waits for d or the end of ctx.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rusage returns the user and system CPU time of this process.
func rusage() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
