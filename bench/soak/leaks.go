package main

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Goroutine leak detection, goleak-style but as code that returns the
// leaked stacks: goroutine IDs are never reused, so a goroutine alive at
// the end whose ID was not alive at the start was started by the soak's
// run and outlived it.

// ignoredLeaks name the functions of goroutines that are known to outlive
// their owner and are not counted: disgo v0.19.6's REST rate limiter
// starts a cleanup goroutine that nothing stops (one per REST client; the
// Manager builds one per run). See internal/testutil.IgnoreDisgoRateLimiter.
var ignoredLeaks = []string{"github.com/disgoorg/disgo/rest.(*rateLimiterImpl).cleanup"}

// goroutineStacks returns the stack of every goroutine, by ID.
func goroutineStacks() map[uint64]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[uint64]string{}
	for block := range bytes.SplitSeq(buf, []byte("\n\n")) {
		// "goroutine 123 [chan receive]:\n..."
		rest, ok := bytes.CutPrefix(block, []byte("goroutine "))
		if !ok {
			continue
		}
		idText, _, _ := bytes.Cut(rest, []byte(" "))
		id, err := strconv.ParseUint(string(idText), 10, 64)
		if err == nil {
			out[id] = string(block)
		}
	}
	return out
}

// goroutineIDs returns the IDs of the goroutines alive now.
func goroutineIDs() map[uint64]bool {
	ids := map[uint64]bool{}
	for id := range goroutineStacks() {
		ids[id] = true
	}
	return ids
}

// leakedSince returns the stacks of the goroutines alive now that were not
// alive in before (except the caller's and the ignored ones). Goroutines
// take a moment to exit after what owns them has stopped, so it retries
// until none is left or within has passed.
func leakedSince(before map[uint64]bool, within time.Duration) (leaked []string, ignored int) {
	deadline := time.Now().Add(within)
	delay := time.Millisecond
	for {
		leaked, ignored = newGoroutines(before)
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked, ignored
		}
		time.Sleep(delay) // polling a condition no channel announces
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// newGoroutines is one look for leakedSince.
func newGoroutines(before map[uint64]bool) (leaked []string, ignored int) {
	self := currentGoroutine()
	for id, stack := range goroutineStacks() {
		if before[id] || id == self {
			continue
		}
		if ignoredStack(stack) {
			ignored++
			continue
		}
		leaked = append(leaked, stack)
	}
	return leaked, ignored
}

func ignoredStack(stack string) bool {
	for _, fn := range ignoredLeaks {
		if strings.Contains(stack, fn) {
			return true
		}
	}
	return false
}

// currentGoroutine returns the caller's goroutine ID.
func currentGoroutine() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	rest, _ := bytes.CutPrefix(buf[:n], []byte("goroutine "))
	idText, _, _ := bytes.Cut(rest, []byte(" "))
	id, _ := strconv.ParseUint(string(idText), 10, 64)
	return id
}
