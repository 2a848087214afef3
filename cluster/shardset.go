package cluster

import (
	"context"
	"iter"
	"slices"
	"sync"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/sharding"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/shard"
)

// shardSet is the sharding.ShardManager of one cluster incarnation: our own
// shards (never disgo's gateway, and never disgo's 4011 re-sharding). Each
// shard is built with the resume state the incarnation starts from. It is
// safe for concurrent use.
type shardSet struct {
	token   string
	count   int
	ids     []int
	handler gateway.EventHandlerFunc
	opts    func(id int, st shard.State) []shard.Option

	mu     sync.Mutex
	shards map[int]*shard.Shard
}

var _ sharding.ShardManager = (*shardSet)(nil)

func newShardSet(token string, ids []int, count int, handler gateway.EventHandlerFunc,
	states map[int]shard.State, opts func(id int, st shard.State) []shard.Option) *shardSet {
	s := &shardSet{
		token:   token,
		count:   count,
		ids:     slices.Clone(ids),
		handler: handler,
		opts:    opts,
		shards:  make(map[int]*shard.Shard, len(ids)),
	}
	for _, id := range ids {
		st := states[id]
		s.shards[id] = shard.New(token, id, count, handler, opts(id, st)...)
	}
	return s
}

// get returns shard id, or nil.
func (s *shardSet) get(id int) *shard.Shard {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shards[id]
}

// all returns the current shards in ID order.
func (s *shardSet) all() []*shard.Shard {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*shard.Shard, 0, len(s.ids))
	for _, id := range s.ids {
		if sh := s.shards[id]; sh != nil {
			out = append(out, sh)
		}
	}
	return out
}

// openAll opens every shard concurrently and returns the first error (a
// fatal close code, or ctx's error), once every Open has returned.
func (s *shardSet) openAll(ctx context.Context) error {
	shards := s.all()
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, sh := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sh.Open(ctx); err != nil {
				errs[i] = &ShardError{Shard: sh.ShardID(), Err: err}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// closeAll closes every shard concurrently with code and waits for all.
func (s *shardSet) closeAll(ctx context.Context, code int, reason string) {
	var wg sync.WaitGroup
	for _, sh := range s.all() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.CloseWithCode(ctx, code, reason)
		}()
	}
	wg.Wait()
}

// states returns every shard's resume state.
func (s *shardSet) states() map[int]shard.State {
	out := make(map[int]shard.State, len(s.ids))
	for _, sh := range s.all() {
		out[sh.ShardID()] = sh.State()
	}
	return out
}

// queueDepth sums the shards' dispatch queue depths.
func (s *shardSet) queueDepth() int {
	n := 0
	for _, sh := range s.all() {
		n += sh.Stats().QueueDepth
	}
	return n
}

// Open implements sharding.ShardManager; errors are only logged by the
// shards. The cluster itself uses openAll.
func (s *shardSet) Open(ctx context.Context) { _ = s.openAll(ctx) }

// Close implements sharding.ShardManager: every shard closes with 1000.
func (s *shardSet) Close(ctx context.Context) { s.closeAll(ctx, 1000, "shutting down") }

// OpenShard implements sharding.ShardManager. A shard that was closed is
// replaced by a fresh one (a Shard opens at most once).
func (s *shardSet) OpenShard(ctx context.Context, shardID int) error {
	return s.ResumeShard(ctx, shardID, sharding.ShardState{})
}

// ResumeShard implements sharding.ShardManager: it replaces the shard by
// one built with the given state and opens it.
func (s *shardSet) ResumeShard(ctx context.Context, shardID int, state sharding.ShardState) error {
	s.mu.Lock()
	old, ok := s.shards[shardID]
	if !ok {
		s.mu.Unlock()
		return &ShardError{Shard: shardID, Err: shard.ErrInvalidShard}
	}
	st := shard.State{SessionID: state.SessionID, Seq: state.Sequence, ResumeURL: state.ResumeURL}
	sh := shard.New(s.token, shardID, s.count, s.handler, s.opts(shardID, st)...)
	s.shards[shardID] = sh
	s.mu.Unlock()
	old.CloseWithCode(ctx, 4000, "replaced")
	return sh.Open(ctx)
}

// CloseShard implements sharding.ShardManager (code 1000).
func (s *shardSet) CloseShard(ctx context.Context, shardID int) {
	if sh := s.get(shardID); sh != nil {
		sh.Close(ctx)
	}
}

// ShardByGuildID implements sharding.ShardManager. It returns nil when the
// guild's shard is not in this cluster.
func (s *shardSet) ShardByGuildID(guildID snowflake.ID) gateway.Gateway {
	return s.Shard(shard.ShardOf(guildID, s.count))
}

// Shard implements sharding.ShardManager; nil for a shard not in this set.
func (s *shardSet) Shard(shardID int) gateway.Gateway {
	if sh := s.get(shardID); sh != nil {
		return sh
	}
	return nil
}

// Shards implements sharding.ShardManager, in shard ID order.
func (s *shardSet) Shards() iter.Seq[gateway.Gateway] {
	return func(yield func(gateway.Gateway) bool) {
		for _, sh := range s.all() {
			if !yield(sh) {
				return
			}
		}
	}
}
