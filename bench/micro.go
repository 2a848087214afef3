package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/benchbase"
	"github.com/megane-go/megane/store"
)

// microResult is one micro-benchmark: the median ns/op of its
// repetitions, and allocations per op.
type microResult struct {
	Name        string    `json:"name"`
	Group       string    `json:"group"` // what it is compared with
	NsPerOp     float64   `json:"ns_per_op"`
	AllocsPerOp int64     `json:"allocs_per_op"`
	Reps        []float64 `json:"reps_ns_per_op"`
}

// micro is a benchmark function: name is what is measured, group the
// contender (the first of each name is the reference).
type micro struct {
	name, group string
	fn          func(b *testing.B)
}

// runMicro runs every micro-benchmark reps times (interleaved, so a noisy
// moment hurts all contenders alike) and takes medians.
func runMicro(reps int) []microResult {
	ms := micros()
	out := make([]microResult, len(ms))
	for i, m := range ms {
		out[i] = microResult{Name: m.name, Group: m.group}
	}
	for range reps {
		for i, m := range ms {
			r := testing.Benchmark(m.fn)
			out[i].Reps = append(out[i].Reps, float64(r.NsPerOp()))
			out[i].AllocsPerOp = r.AllocsPerOp()
		}
	}
	for i := range out {
		out[i].NsPerOp = median(out[i].Reps)
	}
	return out
}

const microKeys = 1 << 12

func micros() []micro {
	return []micro{
		{"bus round trip", "bare channel", benchbase.BareRoundTrip},
		{"bus round trip", "bus.Request", benchBusRequest},
		{"store Get (parallel)", "store.Bucket", storeBench(newBucketKV, opGet)},
		{"store Get (parallel)", "sync.Map", storeBench(newSyncMapKV, opGet)},
		{"store Get (parallel)", "map+RWMutex", storeBench(newRWMapKV, opGet)},
		{"store Set (parallel)", "store.Bucket", storeBench(newBucketKV, opSet)},
		{"store Set (parallel)", "sync.Map", storeBench(newSyncMapKV, opSet)},
		{"store Set (parallel)", "map+RWMutex", storeBench(newRWMapKV, opSet)},
		{"store Compute +1 (parallel)", "store.Bucket", storeBench(newBucketKV, opIncr)},
		{"store Compute +1 (parallel)", "sync.Map", storeBench(newSyncMapKV, opIncr)},
		{"store Compute +1 (parallel)", "map+RWMutex", storeBench(newRWMapKV, opIncr)},
	}
}

// benchBusRequest is one typed bus.Request to a cluster's mailbox and its
// reply, one caller, with a context deadline.
func benchBusRequest(b *testing.B) {
	bb := bus.New()
	var mux bus.Mux
	bus.Handle(&mux, "echo", func(_ context.Context, v int) (int, error) { return v, nil })
	mb, err := bb.Attach(bus.Cluster(0), &mux)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	served := make(chan error, 1)
	go func() { served <- mb.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, err := bus.Request[int](ctx, bb, bus.Manager(), bus.Cluster(0), "echo", i)
		if err != nil || v != i {
			b.Fatalf("Request = %d, %v", v, err)
		}
	}
}

// kv is what each store contender implements.
type kv interface {
	get(k int) (int, bool)
	set(k, v int)
	incr(k int)
	close()
}

type bucketKV struct {
	s *store.Store
	b *store.Bucket[int, int]
}

func newBucketKV() kv {
	s := store.New()
	b, err := store.Open[int, int](s, "bench")
	if err != nil {
		panic(err) // a fresh store has no bucket of that name
	}
	return bucketKV{s: s, b: b}
}
func (c bucketKV) get(k int) (int, bool) { return c.b.Get(k) }
func (c bucketKV) set(k, v int)          { c.b.Set(k, v) }
func (c bucketKV) incr(k int) {
	c.b.Compute(k, func(old int, _ bool) (int, store.Op) { return old + 1, store.OpUpdate })
}
func (c bucketKV) close() { c.s.Close() }

// syncMapKV and rwMapKV are the shared baselines of package benchbase.
type syncMapKV struct{ *benchbase.SyncMap }

func newSyncMapKV() kv                    { return syncMapKV{&benchbase.SyncMap{}} }
func (c syncMapKV) get(k int) (int, bool) { return c.Get(k) }
func (c syncMapKV) set(k, v int)          { c.Set(k, v) }
func (c syncMapKV) incr(k int)            { c.Incr(k) }
func (c syncMapKV) close()                {}

type rwMapKV struct{ *benchbase.RWMap }

func newRWMapKV() kv                    { return rwMapKV{benchbase.NewRWMap()} }
func (c rwMapKV) get(k int) (int, bool) { return c.Get(k) }
func (c rwMapKV) set(k, v int)          { c.Set(k, v) }
func (c rwMapKV) incr(k int)            { c.Incr(k) }
func (c rwMapKV) close()                {}

type kvOp int

const (
	opGet kvOp = iota
	opSet
	opIncr
)

// storeBench returns a parallel benchmark of one operation over
// microKeys keys, prefilled.
func storeBench(mk func() kv, op kvOp) func(b *testing.B) {
	return func(b *testing.B) {
		m := mk()
		defer m.close()
		for k := range microKeys {
			m.set(k, k)
		}
		var seed atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			k := int(seed.Add(7919))
			for pb.Next() {
				k = (k + 1) & (microKeys - 1)
				switch op {
				case opGet:
					if _, ok := m.get(k); !ok {
						panic("missing key")
					}
				case opSet:
					m.set(k, k)
				case opIncr:
					m.incr(k)
				}
			}
		})
	}
}
