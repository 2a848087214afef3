package engine

import (
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
)

// Standby and activation: how a re-shard runs a new shard set beside the
// active one (see WithStandby).
//
// A standby attempt builds its client and opens its shards like any other,
// but launches no worker: the forwarder has no incarnation, so dispatches
// update the cache and are dropped there. When it is ready it waits for
// Activate; the activation then launches the worker on the executor
// goroutine (so no event falls between the cache and the new listeners),
// attaches the mailbox and sends a second cluster.EventReady, without Standby.

// Standby reports whether the cluster is in standby (see [WithStandby]):
// built with it and not yet activated.
func (c *Cluster) Standby() bool { return c.view.Load().standby }

// Activate ends the cluster's standby (see [WithStandby]); for a cluster
// that is not in standby it does nothing. It does not wait: [Cluster.Live]
// is closed once the worker is launched and the mailbox attached. If the
// cluster is ready in standby, that happens on its attempt goroutine at
// once; if it is still starting (or restarting after a crash), its attempt
// goes live as soon as it is ready. The cluster of the same ID that held
// bus.Cluster(id) before must have called [Cluster.ReleaseBus] first, or
// the attach fails (a fatal error of this cluster). Safe for concurrent
// use.
//
// From the activation on, the worker receives every event of this
// cluster's shards. The old shard set may deliver the same events until it
// is stopped, so an event can be seen twice, once per set, around a switch.
func (c *Cluster) Activate() {
	reply := make(chan struct{}, 1)
	ask(c, activateCmd{reply: reply}, reply)
}

// Live returns a channel that is closed once the cluster is live for the
// first time: ready, with a worker launched and its mailbox on the bus.
// For a cluster not built in standby that is its first ready; for a
// standby cluster, the first ready after [Cluster.Activate].
func (c *Cluster) Live() <-chan struct{} { return c.live }

// markLive closes the live channel once.
func (c *Cluster) markLive() {
	reply := make(chan struct{}, 1)
	ask(c, liveCmd{reply: reply}, reply)
}

// ReleaseBus hands the cluster's bus address over to a successor (the
// cluster of the same ID in a new shard set): its mailbox is detached now
// (requests to the address fail with bus.ErrTargetStopped until the
// successor attaches), no attempt of this cluster attaches again, and
// Serve does not forget the address when it returns. The cluster itself
// keeps running and its worker keeps receiving events until it is stopped.
// Idempotent and safe for concurrent use.
func (c *Cluster) ReleaseBus() {
	reply := make(chan *bus.Mailbox, 1)
	if mb := ask(c, releaseBusCmd{reply: reply}, reply); mb != nil {
		mb.Detach()
	}
}

// goLive activates a standby attempt that is ready: it launches the worker
// on the executor goroutine, then attaches the mailbox. A failed launch is
// a crash of the attempt (already recorded by launchLive); ctx's end or
// the attempt's end are left to the caller's loop, which sees them next.
// It reports an error only for what must end the attempt at once.
func (a *attempt) goLive() error {
	c := a.c
	if err := a.exec.requestCall(a.ctx, a.stop, a.launchLive); err != nil {
		return nil // a crash or the end of the attempt is pending
	}
	if err := a.attachMailbox(); err != nil {
		return err
	}
	a.live.Store(true)
	c.emit(a.ev(cluster.EventReady))
	c.markLive()
	return nil
}

// launchLive launches a new worker for a standby attempt going live. It
// runs on the executor goroutine, so the worker's listeners get every
// dispatch after the ones the cache has already seen.
func (a *attempt) launchLive() error {
	c := a.c
	if cur := c.fwd.cur.Load(); cur != nil && cur.att == a {
		return nil // a worker runs already
	}
	inc := newIncarnation(a.ctx, a, c.factory())
	if err := a.launch(inc); err != nil {
		a.crash(err)
		return err
	}
	c.fwd.cur.Store(inc)
	return nil
}
