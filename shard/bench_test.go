package shard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/wire"
)

// benchClient connects one client for shard 0 of 1 to srv, calling
// onMessage once per MESSAGE_CREATE, and returns once the session is
// ready. The returned func closes it.
type benchClient struct {
	name string
	open func(b *testing.B, srv *discordtest.Server, c gateway.CompressionType, onMessage func()) (closeFn func())
}

// benchClients are compared by BenchmarkShardThroughput. "raw" reads
// frames and looks for the event name without decoding anything: it is
// the floor (the fake server's cost plus websocket reads), to subtract
// from the others. The disgo client is added by bench_disgo_test.go
// (build tag disgo_bench, run without -race: disgo's gateway races).
var benchClients = []benchClient{
	{"raw", openRawClient},
	{"megane", openMeganeClient},
}

// BenchmarkShardThroughput measures MESSAGE_CREATE throughput of one shard
// fed as fast as the fake Discord (same process) can write. It reports
// events/s, process CPU µs per event and allocations per event; both
// include the fake server's cost, which the "raw" client shows on its own.
//
//	go test -run '^$' -bench ShardThroughput -benchtime 200000x ./shard/
//	go test -tags disgo_bench -run '^$' -bench ShardThroughput -benchtime 200000x ./shard/
//
// The json=fast cases install wire.UseFastJSON process-wide for their
// duration, which disgo's own decoding uses too.
func BenchmarkShardThroughput(b *testing.B) {
	for _, engine := range []string{"std", "fast"} {
		for _, comp := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream} {
			for _, c := range benchClients {
				b.Run(fmt.Sprintf("json=%s/%s/%s", engine, comp, c.name), func(b *testing.B) {
					if engine == "fast" {
						defer wire.UseFastJSON()()
					}
					runThroughput(b, c, comp)
				})
			}
		}
	}
}

func runThroughput(b *testing.B, c benchClient, comp gateway.CompressionType) {
	srv := discordtest.New(b,
		discordtest.WithGuilds(1),
		discordtest.WithIdentifyWindow(0),
		discordtest.WithHeartbeatInterval(10*time.Minute),
		discordtest.WithSendLimit(1_000_000, time.Second))
	var count atomic.Int64
	target := int64(b.N)
	done := make(chan struct{})
	closeFn := c.open(b, srv, comp, func() {
		if count.Add(1) == target {
			close(done)
		}
	})
	defer closeFn()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := processCPU()
	b.ResetTimer()
	start := time.Now()
	if err := srv.Emit(0, b.N); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d events arrived", count.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&after)
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/event")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/event")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/event")
}

// processCPU returns the user+system CPU time the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func openMeganeClient(b *testing.B, srv *discordtest.Server, c gateway.CompressionType, onMessage func()) func() {
	handler := func(_ gateway.Gateway, t gateway.EventType, _ int, _ gateway.EventData) {
		if t == gateway.EventTypeMessageCreate {
			onMessage()
		}
	}
	s := New(srv.Token(), 0, 1, handler,
		WithURL(srv.GatewayURL()),
		WithCompression(c),
		WithLogger(quietLogger()),
		WithQueue(NewQueue(WithIdentifyWindow(srv.IdentifyWindow()), WithQueueLogger(quietLogger()))))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		b.Fatal(err)
	}
	return func() { s.Close(context.Background()) }
}

// openRawClient identifies by hand and only scans frames for the event
// name: the cost floor of the fake plus websocket reads (and inflating).
func openRawClient(b *testing.B, srv *discordtest.Server, c gateway.CompressionType, onMessage func()) func() {
	url, err := gatewayURL(srv.GatewayURL(), c)
	if err != nil {
		b.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	inflater, err := wire.NewInflater(c)
	if err != nil {
		b.Fatal(err)
	}
	identify, _ := json.Marshal(map[string]any{"op": 2, "d": map[string]any{
		"token": srv.Token(), "intents": int(gateway.IntentsDefault), "shard": []int{0, 1},
		"properties": map[string]string{"os": "linux", "browser": "raw", "device": "raw"},
	}})
	if err := ws.WriteMessage(websocket.TextMessage, identify); err != nil {
		b.Fatal(err)
	}
	ready := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		defer func() { _ = inflater.Close() }()
		readySeen := false
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			p, err := inflater.Inflate(msg)
			if err != nil || p == nil {
				continue
			}
			if !readySeen && bytes.Contains(p, []byte(`"READY"`)) {
				readySeen = true
				close(ready)
			}
			if bytes.Contains(p, []byte(`"MESSAGE_CREATE"`)) {
				onMessage()
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(time.Minute):
		b.Fatal("raw client: no READY")
	}
	return func() {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
		_ = ws.Close()
		<-stopped
	}
}
