package shard

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/sharding"
	"github.com/disgoorg/snowflake/v2"
)

var _ sharding.ShardManager = (*Manager)(nil)

// managerConfig holds a Manager's settings.
type managerConfig struct {
	shardOpts []Option
	queue     Queue
	logger    *slog.Logger
	states    map[int]State
	handler   gateway.EventHandlerFunc
	hook      func(Event)
}

func defaultManagerConfig() managerConfig {
	return managerConfig{logger: slog.Default()}
}

// ManagerOption configures a Manager.
type ManagerOption func(*managerConfig)

// WithManagerShardOptions adds Options given to every shard the Manager
// creates. The Manager's own queue, logger, hook (if set) and state options
// are applied after them, so they win.
func WithManagerShardOptions(opts ...Option) ManagerOption {
	return func(c *managerConfig) { c.shardOpts = append(c.shardOpts, opts...) }
}

// WithManagerQueue sets the identify queue shared by all shards. Default: a
// new NewQueue() shared by this Manager's shards. Give every Manager of a
// process the same Queue.
func WithManagerQueue(queue Queue) ManagerOption {
	return func(c *managerConfig) { c.queue = queue }
}

// WithManagerLogger sets the logger of the Manager and of its shards.
func WithManagerLogger(logger *slog.Logger) ManagerOption {
	return func(c *managerConfig) { c.logger = logger }
}

// WithManagerStates makes Open resume the shards that have a resumable
// State instead of identifying them.
func WithManagerStates(states map[int]State) ManagerOption {
	return func(c *managerConfig) { c.states = maps.Clone(states) }
}

// WithManagerHandler sets the event handler. It can also be set later with
// SetHandler (disgo builds its client after the shard manager).
func WithManagerHandler(handler gateway.EventHandlerFunc) ManagerOption {
	return func(c *managerConfig) { c.handler = handler }
}

// WithManagerEventHook sets the lifecycle hook of every shard (see
// WithEventHook for the rules the hook must follow).
func WithManagerEventHook(hook func(Event)) ManagerOption {
	return func(c *managerConfig) { c.hook = hook }
}

// Manager runs a fixed set of shards over one shared identify Queue and
// implements disgo's sharding.ShardManager, so a disgo bot.Client runs over
// these shards (bot.WithShardManager). It never re-shards by itself: a
// shard closed with 4011 stops with ErrShardingRequired and the caller
// decides.
//
// The handler is bound late through an atomic pointer: call SetHandler
// (for example with client.EventManager.HandleGatewayEvent) before Open.
// Every shard calls the handler from its own dispatch goroutine, so the
// handler must be safe for concurrent use across shards.
//
// A Manager must not be copied. All methods are safe for concurrent use.
type Manager struct {
	token      string
	shardIDs   []int
	shardCount int
	cfg        managerConfig
	queue      Queue
	log        *slog.Logger
	handler    atomic.Pointer[gateway.EventHandlerFunc]

	mu     sync.Mutex
	shards map[int]*Shard
}

// NewManager returns a Manager for shardIDs out of shardCount. It does no
// I/O; Open connects.
func NewManager(token string, shardIDs []int, shardCount int, opts ...ManagerOption) *Manager {
	cfg := defaultManagerConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	queue := cfg.queue
	if queue == nil {
		queue = NewQueue()
	}
	m := &Manager{
		token:      token,
		shardIDs:   slices.Clone(shardIDs),
		shardCount: shardCount,
		cfg:        cfg,
		queue:      queue,
		log:        cfg.logger,
		shards:     make(map[int]*Shard, len(shardIDs)),
	}
	if cfg.handler != nil {
		m.SetHandler(cfg.handler)
	}
	return m
}

// String describes the Manager by its shards. Printing a *Manager with fmt
// or slog shows only this, never the token it holds.
func (m *Manager) String() string {
	return fmt.Sprintf("shard.Manager(shards %v of %d)", m.shardIDs, m.shardCount)
}

// GoString implements fmt.GoStringer for %#v, with the same redaction as
// String.
func (m *Manager) GoString() string { return m.String() }

// LogValue implements slog.LogValuer: the shard ids and count.
func (m *Manager) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("shards", m.shardIDs), slog.Int("count", m.shardCount))
}

// SetHandler sets the function every shard hands its dispatches to. It may
// be called at any time; dispatches handled before the first call are
// discarded.
func (m *Manager) SetHandler(handler gateway.EventHandlerFunc) {
	if handler == nil {
		m.handler.Store(nil)
		return
	}
	m.handler.Store(&handler)
}

func (m *Manager) handle(g gateway.Gateway, t gateway.EventType, seq int, data gateway.EventData) {
	if h := m.handler.Load(); h != nil {
		(*h)(g, t, seq, data)
	}
}

// ShardIDs returns the shard ids this Manager runs, in the order given.
func (m *Manager) ShardIDs() []int { return slices.Clone(m.shardIDs) }

// ShardCount returns the total shard count of the bot.
func (m *Manager) ShardCount() int { return m.shardCount }

func (m *Manager) newShard(shardID int, state State) *Shard {
	opts := slices.Clone(m.cfg.shardOpts)
	opts = append(opts, WithQueue(m.queue), WithLogger(m.log))
	if m.cfg.hook != nil {
		opts = append(opts, WithEventHook(m.cfg.hook))
	}
	if state.Resumable() {
		opts = append(opts, WithState(state))
	}
	return New(m.token, shardID, m.shardCount, m.handle, opts...)
}

// Open implements sharding.ShardManager: it opens every shard not yet
// open, concurrently (the identify Queue orders them), and returns once
// each is ready or failed. Failures are logged; see Shard(id).Err.
func (m *Manager) Open(ctx context.Context) {
	var wg sync.WaitGroup
	for _, id := range m.shardIDs {
		state := m.cfg.states[id]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.open(ctx, id, state); err != nil {
				m.log.Error("shard failed to open", slog.Int("shard", id), slog.Any("err", err))
			}
		}()
	}
	wg.Wait()
}

func (m *Manager) open(ctx context.Context, shardID int, state State) error {
	m.mu.Lock()
	if old, ok := m.shards[shardID]; ok {
		select {
		case <-old.Done():
		default:
			m.mu.Unlock()
			return fmt.Errorf("shard %d: %w", shardID, ErrAlreadyOpen)
		}
	}
	s := m.newShard(shardID, state)
	m.shards[shardID] = s
	m.mu.Unlock()
	return s.Open(ctx)
}

// OpenShard implements sharding.ShardManager: it opens one shard with a
// fresh identify. It fails with ErrAlreadyOpen if the shard runs.
func (m *Manager) OpenShard(ctx context.Context, shardID int) error {
	return m.open(ctx, shardID, State{})
}

// ResumeShard implements sharding.ShardManager: it opens one shard that
// resumes the given session (or identifies if state has no session id).
func (m *Manager) ResumeShard(ctx context.Context, shardID int, state sharding.ShardState) error {
	return m.open(ctx, shardID, State{SessionID: state.SessionID, Seq: state.Sequence, ResumeURL: state.ResumeURL})
}

// Close implements sharding.ShardManager: it closes every shard with code
// 1000 (sessions end) and waits for them.
func (m *Manager) Close(ctx context.Context) {
	m.CloseWithCode(ctx, 1000, "shutting down")
}

// CloseWithCode closes every shard with code and waits for them. A code
// other than 1000/1001 (for example 4000) keeps the sessions resumable:
// States afterwards hands them to a new Manager (WithManagerStates).
func (m *Manager) CloseWithCode(ctx context.Context, code int, message string) {
	m.mu.Lock()
	shards := slices.Collect(maps.Values(m.shards))
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.CloseWithCode(ctx, code, message)
		}()
	}
	wg.Wait()
}

// CloseShard implements sharding.ShardManager: it closes one shard with
// code 1000 and forgets it.
func (m *Manager) CloseShard(ctx context.Context, shardID int) {
	m.mu.Lock()
	s, ok := m.shards[shardID]
	delete(m.shards, shardID)
	m.mu.Unlock()
	if ok {
		s.Close(ctx)
	}
}

// ShardByGuildID implements sharding.ShardManager: the shard that receives
// the guild's events, or nil if this Manager does not run it.
func (m *Manager) ShardByGuildID(guildID snowflake.ID) gateway.Gateway {
	if m.shardCount <= 0 {
		return nil
	}
	return m.Shard(ShardOf(guildID, m.shardCount))
}

// Shard implements sharding.ShardManager: the shard with id shardID, or nil.
func (m *Manager) Shard(shardID int) gateway.Gateway {
	if s := m.Get(shardID); s != nil {
		return s
	}
	return nil
}

// Get returns the *Shard with id shardID, or nil.
func (m *Manager) Get(shardID int) *Shard {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shards[shardID]
}

// Shards implements sharding.ShardManager: the shards, in ascending id
// order, as a snapshot taken when iteration starts.
func (m *Manager) Shards() iter.Seq[gateway.Gateway] {
	return func(yield func(gateway.Gateway) bool) {
		for _, s := range m.snapshot() {
			if !yield(s) {
				return
			}
		}
	}
}

func (m *Manager) snapshot() []*Shard {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := slices.Sorted(maps.Keys(m.shards))
	out := make([]*Shard, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.shards[id])
	}
	return out
}

// States returns every shard's resume State by shard id. Shards without a
// session are left out.
func (m *Manager) States() map[int]State {
	out := make(map[int]State)
	for _, s := range m.snapshot() {
		if st := s.State(); st.Resumable() {
			out[s.ShardID()] = st
		}
	}
	return out
}

// Stats returns each shard's Stats, in ascending shard id order.
func (m *Manager) Stats() []Stats {
	shards := m.snapshot()
	out := make([]Stats, 0, len(shards))
	for _, s := range shards {
		out = append(out, s.Stats())
	}
	return out
}
