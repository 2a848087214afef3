package engine

import (
	"context"
	"maps"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/shard"
)

// clusterState is a Cluster's mutable state. Exactly one goroutine holds
// it at a time (see Cluster): Serve's goroutine, the owner, while Serve
// runs; otherwise it waits in Cluster.idle and the caller of a command
// takes it, applies the command and puts it back.
type clusterState struct {
	c *Cluster

	served   bool            // Serve was called
	serveCtx context.Context // Serve's: once it ends, an attempt's end is the cluster's stop
	standby  bool            // no worker, off the bus (WithStandby); Activate clears it
	live     bool            // Cluster.live is closed
	released bool            // ReleaseBus was called: never attach again
	mailbox  *bus.Mailbox    // the attached mailbox of the running attempt, if any

	att      *attempt // the running attempt, nil between attempts
	counted  bool     // att's shard counters were added to past (its teardown closed them)
	attempts int
	// A restart has two ends: the attempt it cancels, if one runs, and the
	// attempt it starts. Each reads its own field, since the new attempt
	// may read its kind before the old one is torn down, or a second
	// restart may come before the first one's attempt has read it.
	startKind RestartKind   // the kind of the restart that starts the next attempt, 0 after a crash
	endKind   RestartKind   // the kind of the restart that cancels the running attempt
	saved     *savedSession // what the next attempt resumes from
	pending   []*restartCmd // restarts waiting for the next attempt to be ready
	taken     []*restartCmd // restarts the running attempt took at its start
	launching *incarnation  // the incarnation whose Launch runs now
	reloading bool          // a worker-only reload runs
	ready     bool          // the current attempt is ready
	readyCh   chan struct{} // closed when ready becomes true; replaced when false
	// past holds each shard's counters over the attempts that ended (see
	// Stats). A published map is never changed: counting replaces it.
	past map[int]shard.Stats

	// busy: a restart is being started off the owner goroutine (it waits
	// for the supervisor or the executor, which may need the owner), so
	// the owner takes no other restart from the queue until its result
	// arrives on opDone. Restarts are thus applied one after another, in
	// order, as when the owner ran them itself.
	busy   bool
	opDone chan command // capacity 1: the result of the one restart being started
}

// view is what the state's holder publishes after every change, for the
// reads that must never block (Status, Ready, Client, Stats, Standby and
// the listener target). A view is never changed once published.
type view struct {
	served    bool
	standby   bool
	att       *attempt
	counted   bool
	past      map[int]shard.Stats
	ready     bool
	readyCh   chan struct{}
	reloading bool
	launching *incarnation
}

func newClusterState(c *Cluster, standby bool) *clusterState {
	return &clusterState{
		c:       c,
		standby: standby,
		readyCh: make(chan struct{}),
		past:    make(map[int]shard.Stats),
		opDone:  make(chan command, 1),
	}
}

// publish stores a new view of st. Only st's holder calls it.
func (st *clusterState) publish() {
	st.c.view.Store(&view{
		served:    st.served,
		standby:   st.standby,
		att:       st.att,
		counted:   st.counted,
		past:      st.past,
		ready:     st.ready,
		readyCh:   st.readyCh,
		reloading: st.reloading,
		launching: st.launching,
	})
}

// setReady records readiness and wakes waiters.
func (st *clusterState) setReady(ready bool) {
	if ready == st.ready {
		return
	}
	st.ready = ready
	if ready {
		close(st.readyCh)
	} else {
		st.readyCh = make(chan struct{})
	}
	st.publish()
}

// count adds the final counters of an attempt's shards to past.
func (st *clusterState) count(final []shard.Stats) {
	past := maps.Clone(st.past)
	for _, s := range final {
		past[s.ShardID] = s.Add(past[s.ShardID])
	}
	st.past = past
	st.counted = true
	st.publish()
}

// inStandby reports whether the cluster has no worker because of standby:
// not yet activated, or activated while its attempt has not gone live.
// Restarts are refused then.
func (st *clusterState) inStandby() bool {
	if st.standby {
		return true
	}
	a := st.att
	return a != nil && a.standby && !a.live.Load()
}

// startOp runs op, which starts a restart, on a goroutine of its own and
// marks the owner busy until op's result (a command) is applied. op must
// return without the owner's help: it may wait for the supervisor or the
// executor, never for the state.
func (st *clusterState) startOp(op func() command) {
	st.busy = true
	done := st.opDone
	go func() { done <- op() }() // capacity 1 and one op at a time: never blocks
}

// own is the owner's loop: it applies commands one at a time until the
// supervisor's Serve returns (errc), then finishes the restart being
// started, if any, drops the restarts that wait for a ready attempt (they
// see Cluster.done) and returns the supervisor's result. Every command is
// quick, so every send is taken promptly.
func (st *clusterState) own(errc <-chan error) error {
	c := st.c
	for {
		restarts := c.restarts
		if st.busy {
			restarts = nil
		}
		select {
		case err := <-errc:
			if st.busy {
				(<-st.opDone).apply(st) // the supervisor has stopped: it returns at once
			}
			st.pending, st.taken = nil, nil
			return err
		case cmd := <-restarts:
			cmd.apply(st)
		case cmd := <-c.cmds:
			cmd.apply(st)
		case cmd := <-st.opDone:
			cmd.apply(st)
		}
	}
}

// forgetBus removes the cluster's address from the bus as Serve returns,
// unless the cluster never was on it (a standby cluster never activated)
// or released it to a successor, which owns the address now.
func (st *clusterState) forgetBus() {
	if !st.released && !st.standby {
		st.c.bus.Forget(st.c.Address())
	}
}

// send hands cmd to the state's holder. While Serve runs the owner takes
// it; otherwise the caller takes the idle state, applies cmd itself and
// puts the state back. One of the two is always ready promptly: the owner
// reads commands in every phase of its loop and applies each one quickly,
// and Serve puts the state back in idle when it returns, even by a panic;
// so idle is the liveness path of every send. (Between taking the state
// and entering its loop Serve only starts the supervisor, which does not
// wait for the state.)
func (c *Cluster) send(cmd command) {
	select {
	case c.cmds <- cmd:
	case st := <-c.idle:
		cmd.apply(st)
		c.idle <- st // never blocks: capacity 1, and we emptied it
	}
}

// ask sends cmd and waits for its reply. The holder answers every command
// it takes before it takes the next, so the wait is short; c.done only
// guards against an owner that died in between (then the zero T).
func ask[T any](c *Cluster, cmd command, reply <-chan T) T {
	c.send(cmd)
	select {
	case v := <-reply:
		return v
	case <-c.done:
		select {
		case v := <-reply:
			return v
		default:
			var zero T
			return zero
		}
	}
}

// takeOver is Serve's hand-over: it takes the idle state, which Serve puts
// back when it returns, or fails with ErrAlreadyServed if the cluster is or
// was served (a second Serve that finds an owner asks it, see serveCmd).
func (c *Cluster) takeOver() (*clusterState, error) {
	reply := make(chan error, 1)
	select {
	case st := <-c.idle:
		if st.served {
			c.idle <- st
			return nil, ErrAlreadyServed
		}
		st.served = true
		st.publish()
		return st, nil
	case c.cmds <- serveCmd{reply: reply}:
		<-reply // the owner answers at once
		return nil, ErrAlreadyServed
	}
}

// setReady records whether the running attempt is ready.
func (c *Cluster) setReady(ready bool) {
	reply := make(chan struct{}, 1)
	ask(c, readyCmd{ready: ready, reply: reply}, reply)
}

// setReloading records whether a worker-only reload runs.
func (c *Cluster) setReloading(on bool) {
	reply := make(chan struct{}, 1)
	ask(c, reloadingCmd{on: on, reply: reply}, reply)
}

// setLaunching records the incarnation whose Launch runs (nil: none).
func (c *Cluster) setLaunching(inc *incarnation) {
	reply := make(chan struct{}, 1)
	ask(c, launchingCmd{inc: inc, reply: reply}, reply)
}
