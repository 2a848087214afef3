package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/supervisor"
)

// TestPanicBook: an injection counts once it fired, is reported by its
// caller or by a crash event (a ClusterCrashed panic, or a service's error
// or panic), and escapes otherwise.
func TestPanicBook(t *testing.T) {
	t.Parallel()
	b := newPanicBook()
	listener := b.newID(kindListenerPanic) // fired, crash event
	eval := b.newID(kindEvalPanic)         // fired, told the caller
	lost := b.newID(kindEvalPanic)         // fired, reported by no one
	svcErr := b.newID(kindServiceError)    // fired, service event with the error
	armed := b.newID(kindListenerPanic)    // never fired
	other := b.newID(kindCommandPanic)     // fired; only an unrelated event names it

	b.observe(cluster.Event{Kind: cluster.EventCrashed, Panic: &supervisor.PanicError{Value: b.fire(listener)}})
	b.fire(eval)
	b.reportedToCaller(eval)
	b.fire(lost)
	b.fire(svcErr)
	b.observe(cluster.Event{Kind: cluster.EventServiceState, Err: fmt.Errorf("run: %w", &soakError{ID: svcErr})})
	b.observe(cluster.Event{Kind: cluster.EventShardDisconnected, Panic: &supervisor.PanicError{Value: b.fire(other)}})
	b.observe(cluster.Event{Kind: cluster.EventCrashed, Err: errors.New("not ours")})
	_ = armed

	tallies, escaped := b.tally()
	want := map[kind]panicTally{
		kindListenerPanic: {Injected: 1, ByEvent: 1},
		kindEvalPanic:     {Injected: 2, ByCaller: 1, Escaped: 1},
		kindServiceError:  {Injected: 1, ByEvent: 1},
		kindCommandPanic:  {Injected: 1, Escaped: 1},
	}
	if !maps.Equal(tallies, want) {
		t.Errorf("tallies %+v, want %+v", tallies, want)
	}
	if !slices.Equal(escaped, []int{lost, other}) {
		t.Errorf("escaped %v, want %v", escaped, []int{lost, other})
	}
}

// TestSessionEnds: only session-ending faults that took effect count, over
// their call's span; a full restart counts at each ClusterRestarted (full)
// event of its clusters within the call, for every shard of the cluster.
func TestSessionEnds(t *testing.T) {
	t.Parallel()
	life := newLifecycle(newPanicBook())
	for _, e := range []cluster.Event{
		{Kind: cluster.EventRestarted, Cluster: 1, Restart: cluster.RestartFull, At: at(2)},
		{Kind: cluster.EventRestarted, Cluster: 1, Restart: cluster.RestartResume, At: at(2.5)}, // not full
		{Kind: cluster.EventRestarted, Cluster: 0, Restart: cluster.RestartFull, At: at(2.6)},   // other cluster
		{Kind: cluster.EventRestarted, Cluster: 1, Restart: cluster.RestartFull, At: at(9)},     // after the call
		{Kind: cluster.EventRestarted, Cluster: 0, Restart: cluster.RestartFull, At: at(21)},
		{Kind: cluster.EventRestarted, Cluster: 1, Restart: cluster.RestartFull, At: at(22)},
	} {
		life.handle(e)
	}
	o := func(k kind, shard, cluster int, from, to float64, err error) outcome {
		return outcome{fault: fault{Kind: k, Shard: shard, Cluster: cluster}, Start: at(from), End: at(to), Err: err}
	}
	outcomes := []outcome{
		o(kindInvalidFresh, 2, -1, 1, 1.1, nil),
		o(kindClose4003, 3, -1, 1, 1.1, errors.New("no live session")), // did not take effect
		o(kindClose4000, 3, -1, 1, 1.1, nil),                           // resumable
		o(kindRestartFull, -1, 1, 1.5, 3, nil),
		o(kindRollingFull, -1, -1, 20, 23, nil),
	}
	got := sessionEnds(outcomes, life, map[int][]int{0: {0, 1}, 1: {2, 3}})
	want := map[int][]sessionEnd{
		0: {{Start: at(21), End: at(21), Cause: "rolling_full"}},
		1: {{Start: at(21), End: at(21), Cause: "rolling_full"}},
		2: {
			{Start: at(1), End: at(1.1), Cause: "op9_not_resumable"},
			{Start: at(2), End: at(2), Cause: "restart_full"},
			{Start: at(22), End: at(22), Cause: "rolling_full"},
		},
		3: {
			{Start: at(2), End: at(2), Cause: "restart_full"},
			{Start: at(22), End: at(22), Cause: "rolling_full"},
		},
	}
	if !maps.EqualFunc(got, want, slices.Equal[[]sessionEnd]) {
		t.Errorf("sessionEnds:\n got %v\nwant %v", got, want)
	}
}
