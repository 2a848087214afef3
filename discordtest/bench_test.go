//go:build unix

package discordtest

import (
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"
)

// BenchmarkServerDispatch measures what one dispatch costs at the maximum
// rate: the server renders, records, compresses and writes b.N
// MESSAGE_CREATEs while a trivial client drains them without decoding. One
// op is one dispatch; allocations include the draining client's. The
// cpu-ns/op metric is the process's user+system CPU time per dispatch,
// server and client together, so it bounds the server's cost from above
// (ns/op is wall time on a loopback pipeline and mostly measures handoffs).
func BenchmarkServerDispatch(b *testing.B) {
	for _, comp := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		name := string(comp)
		if name == "" {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Start(WithGuilds(10))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			st := startSession(b, s, [2]int{0, 1}, comp)
			// A safety net only: a long run on a busy machine may take minutes.
			_ = st.ws.SetReadDeadline(time.Now().Add(10 * time.Minute))
			b.ReportAllocs()
			b.SetBytes(int64(len(tplMessageCreate.renderContent(nil, &holeVals{}, escapeContent(msgContent)))))
			b.ResetTimer()
			cpu0 := cpuTime(b)
			if err := s.Emit(0, b.N); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				mt, r, err := st.ws.NextReader()
				if err != nil {
					b.Fatal(err)
				}
				if mt == websocket.CloseMessage {
					b.Fatal("closed")
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
