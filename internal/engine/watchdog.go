package engine

import (
	"time"

	"github.com/megane-go/megane/cluster"
)

// watchdog restarts the attempt when its dispatch made no progress for the
// watchdog timeout while events were waiting in the executor's queue. It
// checks four times per timeout and stops when the attempt's teardown
// begins.
//
// Only the executor's queue counts as waiting (the shards hand their
// events to it from their read loops; a shard given a queue of its own
// with shard options holds events that are not the cluster's event loop's
// yet). A stuck executor fills its bounded queue within a few events, after
// which the shards' read loops wait behind it; the reported Waiting adds
// any shard queues.
func (a *attempt) watchdog() {
	timeout := a.c.cfg.watchdog
	period := timeout / 4
	if period < time.Millisecond {
		period = time.Millisecond
	}
	t := time.NewTicker(period)
	defer t.Stop()
	last := a.exec.progress.Load()
	since := time.Now()
	for {
		select {
		case <-a.stop:
			return
		case now := <-t.C:
			p := a.exec.progress.Load()
			if p != last {
				last, since = p, now
				continue
			}
			if a.exec.waiting() == 0 || a.c.view.Load().reloading {
				// Nothing waits, or a worker-only reload holds dispatch on
				// purpose: not a stall.
				since = now
				continue
			}
			if now.Sub(since) < timeout {
				continue
			}
			waiting := a.exec.waiting() + a.shards.QueueDepth()
			err := &StalledError{Cluster: a.c.id, Timeout: timeout, Waiting: waiting}
			e := a.ev(cluster.EventStalled)
			e.Err = err
			a.c.emit(e)
			a.crash(err)
			return
		}
	}
}
