package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/supervise"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// command is a request to the holder of a cluster's state (see Cluster).
// The unexported method seals the interface: only this package defines
// commands. apply runs on the holder's goroutine, must be quick, must not
// wait for the supervisor, an attempt, the executor or a worker, and
// answers on the command's reply channel, which has capacity 1 so that the
// holder never blocks on a caller.
type command interface {
	apply(st *clusterState)
}

// Commands of the cluster's callers.

// serveCmd answers a second Serve while the first one owns the state.
type serveCmd struct{ reply chan<- error }

func (c serveCmd) apply(*clusterState) { c.reply <- ErrAlreadyServed }

// activateCmd ends the standby (Cluster.Activate).
type activateCmd struct{ reply chan<- struct{} }

func (c activateCmd) apply(st *clusterState) {
	if st.standby {
		st.standby = false
		close(st.c.activate)
		st.publish()
	}
	c.reply <- struct{}{}
}

// releaseBusCmd gives the bus address up (Cluster.ReleaseBus). The reply
// is the mailbox that was attached, which the caller detaches.
type releaseBusCmd struct{ reply chan<- *bus.Mailbox }

func (c releaseBusCmd) apply(st *clusterState) {
	st.released = true
	mb := st.mailbox
	st.mailbox = nil
	c.reply <- mb
}

// restartCmd is a restart of the cluster itself (Cluster.RestartCluster,
// Cluster.RestartAndWait). It travels on the bounded queue Cluster.restarts
// rather than on the command channel, so that RestartCluster can fail fast
// with cluster.ErrRestartPending when the queue is full. reply (capacity 1)
// gets the result of starting the restart; ready is closed once the
// cluster is ready again after it.
type restartCmd struct {
	kind  RestartKind
	reply chan error
	ready chan struct{}
}

// newRestartCmd returns a restart command of kind with a one-shot reply
// channel (capacity 1) and an open ready channel.
func newRestartCmd(kind RestartKind) *restartCmd {
	return &restartCmd{kind: kind, reply: make(chan error, 1), ready: make(chan struct{})}
}

func (cmd *restartCmd) apply(st *clusterState) {
	c := st.c
	if st.inStandby() {
		cmd.reply <- ErrStandby
		return
	}
	ctx := st.serveCtx
	if a := st.att; cmd.kind == cluster.RestartWorker && a != nil {
		// The swap runs on the executor goroutine, which may need the
		// owner meanwhile: wait for it off the owner.
		st.startOp(func() command { return swappedCmd{cmd: cmd, err: a.exec.requestSwap(ctx, a.stop)} })
		return
	}
	switch cmd.kind {
	case cluster.RestartWorker:
		// No attempt runs (backoff): the next one brings a new worker and
		// keeps the sessions; one that starts meanwhile, cancelled by this
		// restart, keeps them too.
		st.startKind, st.endKind = cluster.RestartResume, cluster.RestartResume
	default:
		st.startKind, st.endKind = cmd.kind, cmd.kind
	}
	st.pending = append(st.pending, cmd)
	if c.hooks.restartQueued != nil {
		c.hooks.restartQueued()
	}
	// The supervisor waits for the cancelled attempt to end, and its
	// teardown needs the owner: wait for it off the owner.
	st.startOp(func() command { return restartedCmd{cmd: cmd, err: c.unit.Restart(ctx)} })
}

// swappedCmd is the result of a worker-only reload that restartCmd asked
// the running attempt's executor for.
type swappedCmd struct {
	cmd *restartCmd
	err error
}

func (r swappedCmd) apply(st *clusterState) {
	st.busy = false
	if !errors.Is(r.err, errAttemptEnded) {
		r.cmd.reply <- r.err
		if r.err == nil {
			close(r.cmd.ready)
		}
		return
	}
	// The attempt ended (a crash, a stall) before the swap ran: the next
	// attempt brings a new worker; wait for it.
	st.pending = append(st.pending, r.cmd)
	r.cmd.reply <- nil
}

// restartedCmd is the result of the supervisor's restart that restartCmd
// started.
type restartedCmd struct {
	cmd *restartCmd
	err error
}

func (r restartedCmd) apply(st *clusterState) {
	st.busy = false
	err := r.err
	if err == nil {
		r.cmd.reply <- nil
		return
	}
	st.pending = slices.DeleteFunc(st.pending, func(w *restartCmd) bool { return w == r.cmd })
	if errors.Is(err, supervise.ErrStopped) {
		err = cluster.ErrStopped
	}
	r.cmd.reply <- err
}

// Commands of an attempt, in the order of its life.

// beginCmd starts an attempt's life: it numbers the attempt and hands it
// its start kind, the session it resumes from, whether the cluster is in
// standby, and the restarts waiting for a ready attempt.
type beginCmd struct{ reply chan<- begun }

// begun is what an attempt starts from.
type begun struct {
	no      int
	standby bool
	kind    RestartKind   // the restart that started the attempt; 0 after a crash
	saved   *savedSession // nil: identify afresh
}

func (c beginCmd) apply(st *clusterState) {
	st.attempts++
	b := begun{no: st.attempts, standby: st.standby, kind: st.startKind, saved: st.saved}
	st.startKind, st.saved = 0, nil
	if b.kind == cluster.RestartFull {
		b.saved = nil // a full restart discards what a crash may have kept
	}
	st.taken, st.pending = st.pending, nil
	c.reply <- b
}

// builtCmd makes a the running attempt, once its client exists.
type builtCmd struct {
	a     *attempt
	reply chan<- struct{}
}

func (c builtCmd) apply(st *clusterState) {
	st.att, st.counted = c.a, false
	st.publish()
	c.reply <- struct{}{}
}

// launchingCmd records the incarnation whose Launch runs (nil: none).
type launchingCmd struct {
	inc   *incarnation
	reply chan<- struct{}
}

func (c launchingCmd) apply(st *clusterState) {
	st.launching = c.inc
	st.publish()
	c.reply <- struct{}{}
}

// readyCmd records whether the running attempt is ready.
type readyCmd struct {
	ready bool
	reply chan<- struct{}
}

func (c readyCmd) apply(st *clusterState) {
	st.setReady(c.ready)
	c.reply <- struct{}{}
}

// reloadingCmd records whether a worker-only reload runs.
type reloadingCmd struct {
	on    bool
	reply chan<- struct{}
}

func (c reloadingCmd) apply(st *clusterState) {
	st.reloading = c.on
	st.publish()
	c.reply <- struct{}{}
}

// attachCmd attaches the running attempt's mailbox at the cluster's bus
// address, unless the address was released to a successor (then the reply
// has neither a mailbox nor an error).
type attachCmd struct {
	opts  []bus.MailboxOption
	reply chan<- attached
}

type attached struct {
	mb  *bus.Mailbox
	err error
}

func (c attachCmd) apply(st *clusterState) {
	if st.released {
		c.reply <- attached{}
		return
	}
	cl := st.c
	mb, err := cl.bus.Attach(cl.Address(), busHandler{c: cl}, c.opts...)
	if err != nil {
		c.reply <- attached{err: supervisor.NoRestart(fmt.Errorf("cluster %d: bus: %w", cl.id, err))}
		return
	}
	st.mailbox = mb
	c.reply <- attached{mb: mb}
}

// liveCmd closes Cluster.live, once.
type liveCmd struct{ reply chan<- struct{} }

func (c liveCmd) apply(st *clusterState) {
	if !st.live {
		st.live = true
		close(st.c.live)
	}
	c.reply <- struct{}{}
}

// readyWaitersCmd tells the restarts the running attempt took at its start
// that it is ready.
type readyWaitersCmd struct{ reply chan<- struct{} }

func (c readyWaitersCmd) apply(st *clusterState) {
	for _, w := range st.taken {
		close(w.ready)
	}
	st.taken = nil
	c.reply <- struct{}{}
}

// endingCmd begins an attempt's teardown: the cluster is no longer ready,
// the attempt's mailbox (mb, if any) is no longer the cluster's, and the
// reply says why the attempt ends.
type endingCmd struct {
	mb    *bus.Mailbox
	reply chan<- ending
}

// ending is why an attempt ends, as far as the state knows.
type ending struct {
	kind     RestartKind // the restart that cancels the attempt, or 0
	stopping bool        // Serve's context ended: the cluster stops
}

func (c endingCmd) apply(st *clusterState) {
	st.setReady(false)
	e := ending{kind: st.endKind, stopping: st.serveCtx.Err() != nil}
	st.endKind = 0
	if c.mb != nil && st.mailbox == c.mb {
		st.mailbox = nil
	}
	c.reply <- e
}

// countedCmd adds the final counters of the ending attempt's shards.
type countedCmd struct {
	final []shard.Stats
	reply chan<- struct{}
}

func (c countedCmd) apply(st *clusterState) {
	st.count(c.final)
	c.reply <- struct{}{}
}

// endedCmd ends the running attempt and keeps what the next one resumes
// from (nil: nothing).
type endedCmd struct {
	saved *savedSession
	reply chan<- struct{}
}

func (c endedCmd) apply(st *clusterState) {
	st.att, st.saved = nil, c.saved
	st.publish()
	c.reply <- struct{}{}
}

// exitCmd is an attempt's last word: restarts that waited for it to be
// ready, and did not see it, wait for the next one.
type exitCmd struct{ reply chan<- struct{} }

func (c exitCmd) apply(st *clusterState) {
	if len(st.taken) > 0 {
		st.pending = append(st.taken, st.pending...)
		st.taken = nil
	}
	c.reply <- struct{}{}
}
