package bus

import (
	"context"
	"testing"
	"time"

	"github.com/megane-go/megane/internal/benchbase"
)

// benchBus returns a bus with n clusters served until the benchmark ends.
func benchBus(b *testing.B, n int) *Bus {
	b.Helper()
	bus := New()
	for i := range n {
		var mux Mux
		Handle(&mux, "echo", func(_ context.Context, v int) (int, error) { return v, nil })
		m, err := bus.Attach(Cluster(i), &mux)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Serve(ctx) }()
		b.Cleanup(func() { cancel(); <-done })
	}
	return bus
}

// BenchmarkBareChannelRoundTrip is the floor: a goroutine serving a request
// channel and answering on a per-request buffered reply channel.
func BenchmarkBareChannelRoundTrip(b *testing.B) { benchbase.BareRoundTrip(b) }

// BenchmarkRequestRoundTrip is one typed Request through a Mux, one caller,
// with a context that has a deadline (the usual case).
func BenchmarkRequestRoundTrip(b *testing.B) {
	bus := benchBus(b, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, err := Request[int](ctx, bus, Manager(), Cluster(0), "echo", i)
		if err != nil || v != i {
			b.Fatalf("Request = %d, %v", v, err)
		}
	}
}

// BenchmarkRequestRoundTripNoDeadline is the same with a context that has no
// deadline, so each request pays for the bus's default timeout timer.
func BenchmarkRequestRoundTripNoDeadline(b *testing.B) {
	bus := benchBus(b, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, err := Request[int](ctx, bus, Manager(), Cluster(0), "echo", i)
		if err != nil || v != i {
			b.Fatalf("Request = %d, %v", v, err)
		}
	}
}

// BenchmarkRequestParallel measures throughput: GOMAXPROCS callers spread
// over 4 clusters.
func BenchmarkRequestParallel(b *testing.B) {
	const clusters = 4
	bus := benchBus(b, clusters)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := Request[int](ctx, bus, Manager(), Cluster(i%clusters), "echo", i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBroadcast8 is one broadcast to 8 clusters.
func BenchmarkBroadcast8(b *testing.B) {
	bus := benchBus(b, 8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range Broadcast[int](ctx, bus, Manager(), AllClusters(), "echo", 1) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkSend is one fire-and-forget Send, one caller.
func BenchmarkSend(b *testing.B) {
	bus := benchBus(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		// A full mailbox is part of the measured policy: it fails fast.
		_ = bus.Send(ctx, Manager(), Cluster(0), "echo", 1)
	}
}
