package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/megane-go/megane/cluster"
)

// soakPanic is the value of every panic the soak injects. Its ID names the
// injection, so a crash event or an error that reports it can be matched.
type soakPanic struct {
	ID   int
	Kind kind
}

// String is what a recovered panic prints ("panic: ..." in a bus error).
func (p soakPanic) String() string { return fmt.Sprintf("soak: injected %s #%d", p.Kind, p.ID) }

// soakError is the error a service run returns for a service_error fault.
type soakError struct{ ID int }

func (e *soakError) Error() string { return fmt.Sprintf("soak: injected service_error #%d", e.ID) }

// panicBook counts the panics (and service crashes) the soak injected and
// who reported each: the caller of a request (an error matching
// bus.ErrHandlerPanic) or a lifecycle event (ClusterCrashed or
// ServiceStateChanged with Panic or Err set). Safe for concurrent use.
type panicBook struct {
	mu      sync.Mutex
	next    int
	kinds   map[int]kind // every ID handed out
	fired   map[int]bool // the panic (or crash) happened
	byCall  map[int]bool // reported to the caller
	byEvent map[int]bool // reported by a lifecycle event
}

func newPanicBook() *panicBook {
	return &panicBook{kinds: map[int]kind{}, fired: map[int]bool{}, byCall: map[int]bool{}, byEvent: map[int]bool{}}
}

// newID hands out the ID of one injection of kind k, not fired yet.
func (b *panicBook) newID(k kind) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	b.kinds[b.next] = k
	return b.next
}

// fire records that injection id happens now and returns its panic value.
func (b *panicBook) fire(id int) soakPanic {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fired[id] = true
	return soakPanic{ID: id, Kind: b.kinds[id]}
}

// reportedToCaller records that the caller of injection id got an error
// saying so.
func (b *panicBook) reportedToCaller(id int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byCall[id] = true
}

// observe records the injections a lifecycle event reports.
func (b *panicBook) observe(e cluster.Event) {
	id := 0
	if e.Panic != nil {
		if p, ok := e.Panic.Value.(soakPanic); ok {
			id = p.ID
		}
	}
	var se *soakError
	if id == 0 && errors.As(e.Err, &se) {
		id = se.ID
	}
	if id == 0 || (e.Kind != cluster.EventCrashed && e.Kind != cluster.EventServiceState) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byEvent[id] = true
}

// panicTally is what happened to the injections of one kind.
type panicTally struct {
	Injected int `json:"injected"`         // fired
	ByCaller int `json:"reported_to_call"` // the caller got an error
	ByEvent  int `json:"reported_by_event"`
	Escaped  int `json:"escaped"` // fired, reported by no one
}

// tally returns the tallies by kind and the IDs that escaped, sorted.
func (b *panicBook) tally() (map[kind]panicTally, []int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[kind]panicTally{}
	var escaped []int
	for _, id := range slices.Sorted(maps.Keys(b.fired)) {
		k := b.kinds[id]
		t := out[k]
		t.Injected++
		if b.byCall[id] {
			t.ByCaller++
		}
		if b.byEvent[id] {
			t.ByEvent++
		}
		if !b.byCall[id] && !b.byEvent[id] {
			t.Escaped++
			escaped = append(escaped, id)
		}
		out[k] = t
	}
	return out, escaped
}
