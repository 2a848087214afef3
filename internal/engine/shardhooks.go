package engine

import (
	"errors"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/shardset"
	"github.com/megane-go/megane/shard"
)

// managerOptions returns the options of the attempt's shardset.Set: the
// user's shard options and the cluster's URL, then the cluster's queue,
// logger, hook and the resume states the attempt starts from. Dispatches
// go to the attempt's executor, which drops them once abandoned.
func (a *attempt) managerOptions(states map[int]shard.State) []shardset.Option {
	c := a.c
	// The cluster's ready timeout bounds the gateway's answers too (the
	// user's shard options may set another). The shards hand their decoded
	// events to the executor (tap) from their read loops, in batches of
	// what each read in one go: no queue nor goroutine of their own, and
	// one wake-up of the executor per batch, not per event. They read with
	// DefaultReadCoalescing unless the user's shard options say otherwise.
	shardOpts := append([]shard.Option{shard.WithReadyTimeout(c.cfg.readyTimeout),
		shard.WithReadCoalescing(DefaultReadCoalescing)}, c.cfg.shardOpts...)
	shardOpts = append(shardOpts, shard.WithBatchHandler(a.exec.tap))
	if c.cfg.gatewayURL != "" {
		shardOpts = append(shardOpts, shard.WithURL(c.cfg.gatewayURL))
	}
	opts := []shardset.Option{
		shardset.WithShardOptions(shardOpts...),
		shardset.WithLogger(a.log),
		shardset.WithEventHook(a.shardEvent),
		shardset.WithStates(states),
	}
	if c.cfg.queue != nil {
		opts = append(opts, shardset.WithQueue(c.cfg.queue))
	}
	return opts
}

// openAll opens the attempt's shards and returns the first failure as
// a *ShardError (its Cluster is set by the caller), or nil.
func (a *attempt) openAll() error {
	err := a.shards.OpenAll(a.ctx)
	var oe *shardset.OpenError
	if errors.As(err, &oe) {
		return &ShardError{Shard: oe.ShardID, Err: oe.Err}
	}
	return err
}

// shardEvent turns a shard's lifecycle event into a cluster event. It runs
// on the shard's goroutines.
func (a *attempt) shardEvent(se shard.Event) {
	e := a.ev(0)
	e.Shard = se.Shard()
	switch se := se.(type) {
	case shard.Connected:
		e.Kind = cluster.EventShardConnected
	case shard.Ready:
		e.Kind = cluster.EventShardReady
	case shard.Resumed:
		a.ready.resumed(se.ShardID)
		e.Kind = cluster.EventShardResumed
	case shard.Disconnected:
		if errors.Is(se.Err, shard.ErrClosed) {
			return // our own close: teardown or shutdown
		}
		e.Kind, e.Err = cluster.EventShardDisconnected, se.Err
	case shard.Fatal:
		a.crash(&ShardError{Cluster: a.c.id, Shard: se.ShardID, Err: se.Err})
		return
	default:
		return
	}
	a.c.emit(e)
}
