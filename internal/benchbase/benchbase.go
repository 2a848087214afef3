// Package benchbase holds the baselines that Megane's benchmarks measure
// against, so that `go test -bench` in bus and store and `go run ./bench`
// compare with the same code: a bare channel round trip for the bus, and
// sync.Map and a map behind a sync.RWMutex for the store.
//
// It is imported only by benchmarks and the bench command.
package benchbase

import (
	"sync"
	"testing"
)

// BareRoundTrip is the floor of a request/reply: a goroutine serving a
// request channel and answering on a per-request buffered reply channel,
// which is the shape the bus uses. The goroutine stops before it returns.
func BareRoundTrip(b *testing.B) {
	type req struct {
		v     int
		reply chan int
	}
	reqs := make(chan req, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range reqs {
			r.reply <- r.v
		}
	}()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := req{v: i, reply: make(chan int, 1)}
		reqs <- r
		if <-r.reply != i {
			b.Fatal("wrong reply")
		}
	}
	close(reqs)
	<-done
}

// SyncMap is the sync.Map contender of the store benchmarks. The zero
// value is ready to use; it must not be copied after first use.
type SyncMap struct{ m sync.Map }

// Get loads k.
func (c *SyncMap) Get(k int) (int, bool) {
	v, ok := c.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

// Set stores v at k.
func (c *SyncMap) Set(k, v int) { c.m.Store(k, v) }

// Incr adds one to k with a CompareAndSwap loop: sync.Map has no compute.
func (c *SyncMap) Incr(k int) {
	for {
		old, ok := c.m.Load(k)
		if !ok {
			if _, loaded := c.m.LoadOrStore(k, 1); !loaded {
				return
			}
			continue
		}
		if c.m.CompareAndSwap(k, old, old.(int)+1) {
			return
		}
	}
}

// RWMap is the map-behind-a-sync.RWMutex contender of the store
// benchmarks. Make it with NewRWMap; it must not be copied.
type RWMap struct {
	mu sync.RWMutex
	m  map[int]int
}

// NewRWMap returns an empty RWMap.
func NewRWMap() *RWMap { return &RWMap{m: make(map[int]int)} }

// Get reads k under the read lock.
func (c *RWMap) Get(k int) (int, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

// Set writes v at k under the write lock.
func (c *RWMap) Set(k, v int) {
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
}

// Incr adds one to k under the write lock.
func (c *RWMap) Incr(k int) {
	c.mu.Lock()
	c.m[k]++
	c.mu.Unlock()
}
