package store

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/megane-go/megane/internal/benchbase"
)

// The benchmarks compare a Bucket with a bare xsync.MapOf, with sync.Map and
// with a map guarded by a sync.RWMutex on the same workloads: a read-heavy mix (90% Get, 10% Set), a
// write-heavy mix (50% Get, 50% Set) and an atomic increment (Compute). Run:
//
//	go test -run=^$ -bench=. -cpu=1,2 -count=3 ./store/

const benchKeys = 1 << 12 // a power of two, for cheap masking

// kv is the interface each contender implements for the mixed workloads.
type kv interface {
	get(k int) (int, bool)
	set(k, v int)
	incr(k int)
}

type bucketKV struct{ b *Bucket[int, int] }

func (c bucketKV) get(k int) (int, bool) { return c.b.Get(k) }
func (c bucketKV) set(k, v int)          { c.b.Set(k, v) }
func (c bucketKV) incr(k int) {
	c.b.Compute(k, func(old int, _ bool) (int, Op) { return old + 1, OpUpdate })
}

// xsyncKV is a bare xsync.MapOf, to show what the Bucket layer (TTL check,
// watch hook, entry wrapper) costs on top of it.
type xsyncKV struct{ m *xsync.MapOf[int, int] }

func (c xsyncKV) get(k int) (int, bool) { return c.m.Load(k) }
func (c xsyncKV) set(k, v int)          { c.m.Store(k, v) }
func (c xsyncKV) incr(k int) {
	c.m.Compute(k, func(old int, _ bool) (int, bool) { return old + 1, false })
}

// syncMapKV and rwMapKV are the shared baselines of package benchbase,
// the same code go run ./bench compares with.
type syncMapKV struct{ *benchbase.SyncMap }

func (c syncMapKV) get(k int) (int, bool) { return c.Get(k) }
func (c syncMapKV) set(k, v int)          { c.Set(k, v) }
func (c syncMapKV) incr(k int)            { c.Incr(k) }

type rwMapKV struct{ *benchbase.RWMap }

func (c rwMapKV) get(k int) (int, bool) { return c.Get(k) }
func (c rwMapKV) set(k, v int)          { c.Set(k, v) }
func (c rwMapKV) incr(k int)            { c.Incr(k) }

// contenders returns fresh, pre-filled instances of each implementation.
// The store is closed when the benchmark ends.
func contenders(b *testing.B) []struct {
	name string
	kv   kv
} {
	s := New(WithSweepInterval(0))
	b.Cleanup(s.Close)
	bk, err := Open[int, int](s, "bench")
	if err != nil {
		b.Fatal(err)
	}
	xm := xsync.NewMapOf[int, int]()
	sm := &benchbase.SyncMap{}
	rw := benchbase.NewRWMap()
	for k := range benchKeys {
		bk.Set(k, k)
		xm.Store(k, k)
		sm.Set(k, k)
		rw.Set(k, k)
	}
	return []struct {
		name string
		kv   kv
	}{
		{"Bucket", bucketKV{bk}},
		{"XsyncMapOf", xsyncKV{xm}},
		{"SyncMap", syncMapKV{sm}},
		{"RWMutexMap", rwMapKV{rw}},
	}
}

// seeds gives each RunParallel goroutine its own random stream.
var seeds atomic.Uint64

func benchMix(b *testing.B, writePercent int) {
	for _, c := range contenders(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(seeds.Add(1), 7))
				for pb.Next() {
					x := r.Uint32()
					k := int(x & (benchKeys - 1))
					if int(x>>16)%100 < writePercent {
						c.kv.set(k, int(x))
					} else {
						c.kv.get(k)
					}
				}
			})
		})
	}
}

// BenchmarkReadHeavy is 90% Get, 10% Set over 4096 present keys.
func BenchmarkReadHeavy(b *testing.B) { benchMix(b, 10) }

// BenchmarkWriteHeavy is 50% Get, 50% Set over 4096 present keys.
func BenchmarkWriteHeavy(b *testing.B) { benchMix(b, 50) }

// BenchmarkCompute is an atomic increment of a random key out of 4096.
func BenchmarkCompute(b *testing.B) {
	for _, c := range contenders(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(seeds.Add(1), 9))
				for pb.Next() {
					c.kv.incr(int(r.Uint32() & (benchKeys - 1)))
				}
			})
		})
	}
}

// BenchmarkSetWatched measures Set with one draining watcher attached, to
// compare with the unwatched Set inside BenchmarkWriteHeavy.
func BenchmarkSetWatched(b *testing.B) {
	s := New(WithSweepInterval(0))
	defer s.Close()
	bk, err := Open[int, int](s, "bench")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := bk.Watch(ctx, WithWatchBuffer(1024))
	if err != nil {
		b.Fatal(err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range ch {
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(seeds.Add(1), 11))
		for pb.Next() {
			k := int(r.Uint32() & (benchKeys - 1))
			bk.Set(k, k)
		}
	})
	b.StopTimer()
	cancel()
	<-drained
}
