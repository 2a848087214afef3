package cluster

import (
	"errors"

	"github.com/megane-go/megane/shard"
)

// shardOptions returns the options of one shard of this attempt: the
// user's, then the cluster's URL, queue, logger, hook and resume state.
func (a *attempt) shardOptions(id int, st shard.State) []shard.Option {
	c := a.c
	opts := append([]shard.Option(nil), c.cfg.shardOpts...)
	if c.cfg.gatewayURL != "" {
		opts = append(opts, shard.WithURL(c.cfg.gatewayURL))
	}
	if c.cfg.queue != nil {
		opts = append(opts, shard.WithQueue(c.cfg.queue))
	}
	opts = append(opts, shard.WithLogger(a.log), shard.WithEventHook(a.shardEvent))
	if st.Resumable() {
		opts = append(opts, shard.WithState(st))
	}
	return opts
}

// shardEvent turns a shard's lifecycle event into a cluster event. It runs
// on the shard's goroutines.
func (a *attempt) shardEvent(se shard.Event) {
	e := a.ev(0)
	e.Shard = se.Shard()
	switch se := se.(type) {
	case shard.Connected:
		e.Kind = EventShardConnected
	case shard.Ready:
		e.Kind = EventShardReady
	case shard.Resumed:
		a.ready.resumed(se.ShardID)
		e.Kind = EventShardResumed
	case shard.Disconnected:
		if errors.Is(se.Err, shard.ErrClosed) {
			return // our own close: teardown or shutdown
		}
		e.Kind, e.Err = EventShardDisconnected, se.Err
	case shard.Fatal:
		a.crash(&ShardError{Cluster: a.c.id, Shard: se.ShardID, Err: se.Err})
		return
	default:
		return
	}
	a.c.emit(e)
}
