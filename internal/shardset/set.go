// Package shardset runs the shards of one cluster as a set: it builds them,
// opens them through the process-wide identify queue, implements disgo's
// sharding.ShardManager over them, and keeps their counters across the
// shards it replaces. Only the cluster engine (internal/engine) uses it.
package shardset

import (
	"context"
	"errors"
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

	"github.com/megane-go/megane/shard"
)

var _ sharding.ShardManager = (*Set)(nil)

// OpenError is the failure of one shard of a Set to open, as returned
// by Set.OpenAll, OpenShard and ResumeShard. Unwrap returns the shard's
// error (a *CloseError or its sentinel, ErrClosed, ErrAlreadyOpen or the
// context's error), so errors.Is(err, ErrInvalidToken) holds.
type OpenError struct {
	ShardID int
	Err     error
}

// Error implements error.
func (e *OpenError) Error() string { return fmt.Sprintf("shard %d: %v", e.ShardID, e.Err) }

// Unwrap returns the shard's error.
func (e *OpenError) Unwrap() error { return e.Err }

// config holds a Set's settings.
type config struct {
	shardOpts []shard.Option
	queue     shard.Queue
	logger    *slog.Logger
	states    map[int]shard.State
	handler   gateway.EventHandlerFunc
	hook      func(shard.Event)
}

func defaultConfig() config {
	return config{logger: slog.Default()}
}

// Option configures a Set.
type Option func(*config)

// WithShardOptions adds Options given to every shard the Set
// creates. The Set's own queue, logger, hook (if set) and state options
// are applied after them, so they win.
func WithShardOptions(opts ...shard.Option) Option {
	return func(c *config) { c.shardOpts = append(c.shardOpts, opts...) }
}

// WithQueue sets the identify queue shared by all shards. Default: a
// new NewQueue() shared by this Set's shards. Give every Set of a
// process the same Queue.
func WithQueue(queue shard.Queue) Option {
	return func(c *config) { c.queue = queue }
}

// WithLogger sets the logger of the Set and of its shards.
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// WithStates makes Open resume the shards that have a resumable
// State instead of identifying them.
func WithStates(states map[int]shard.State) Option {
	return func(c *config) { c.states = maps.Clone(states) }
}

// WithHandler sets the event handler. It can also be set later with
// SetHandler (disgo builds its client after the shard manager).
func WithHandler(handler gateway.EventHandlerFunc) Option {
	return func(c *config) { c.handler = handler }
}

// WithEventHook sets the lifecycle hook of every shard (see
// WithEventHook for the rules the hook must follow).
func WithEventHook(hook func(shard.Event)) Option {
	return func(c *config) { c.hook = hook }
}

// Set runs a fixed set of shards over one shared identify Queue and
// implements disgo's sharding.ShardManager, so a disgo bot.Client runs over
// these shards (bot.WithShardManager). It never re-shards by itself: a
// shard closed with 4011 stops with ErrShardingRequired and the caller
// decides.
//
// New builds every shard at once (without I/O), each from its
// resume State if WithStates gave one. Open and OpenAll open those
// shards; Close and CloseWithCode close them, including shards not opened
// yet, so an OpenAll that races with a close fails with ErrClosed instead
// of connecting a shard nobody will close. Only OpenShard and ResumeShard
// build a new shard in place of a stopped one.
//
// The handler is bound late through an atomic pointer: call SetHandler
// (for example with client.EventManager.HandleGatewayEvent) before Open.
// Every shard calls the handler from its own goroutine (see WithDispatchBuffer), so the
// handler must be safe for concurrent use across shards.
//
// A Set must not be copied. All methods are safe for concurrent use.
type Set struct {
	token      string
	shardIDs   []int
	shardCount int
	cfg        config
	queue      shard.Queue
	log        *slog.Logger
	handler    atomic.Pointer[gateway.EventHandlerFunc]

	mu     sync.Mutex
	shards map[int]*shard.Shard
	// past holds, by shard id, the counters of the Shards that a new one
	// replaced (OpenShard, ResumeShard) or that CloseShard removed, so
	// that Stats never goes back.
	past map[int]shard.Stats
	// opened holds the shards this Set has called Open on.
	opened map[*shard.Shard]bool
}

// New returns a Set for shardIDs out of shardCount, with one
// unopened Shard per id. It does no I/O; Open or OpenAll connects.
func New(token string, shardIDs []int, shardCount int, opts ...Option) *Set {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	queue := cfg.queue
	if queue == nil {
		queue = shard.NewQueue()
	}
	m := &Set{
		token:      token,
		shardIDs:   slices.Clone(shardIDs),
		shardCount: shardCount,
		cfg:        cfg,
		queue:      queue,
		log:        cfg.logger,
		shards:     make(map[int]*shard.Shard, len(shardIDs)),
		past:       make(map[int]shard.Stats),
		opened:     make(map[*shard.Shard]bool, len(shardIDs)),
	}
	if cfg.handler != nil {
		m.SetHandler(cfg.handler)
	}
	for _, id := range m.shardIDs {
		m.shards[id] = m.newShard(id, cfg.states[id])
	}
	return m
}

// String describes the Set by its shards. Printing a *Set with fmt
// or slog shows only this, never the token it holds.
func (m *Set) String() string {
	return fmt.Sprintf("shardset.Set(shards %v of %d)", m.shardIDs, m.shardCount)
}

// GoString implements fmt.GoStringer for %#v, with the same redaction as
// String.
func (m *Set) GoString() string { return m.String() }

// LogValue implements slog.LogValuer: the shard ids and count.
func (m *Set) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("shards", m.shardIDs), slog.Int("count", m.shardCount))
}

// SetHandler sets the function every shard hands its dispatches to. It may
// be called at any time; dispatches handled before the first call are
// discarded.
func (m *Set) SetHandler(handler gateway.EventHandlerFunc) {
	if handler == nil {
		m.handler.Store(nil)
		return
	}
	m.handler.Store(&handler)
}

func (m *Set) handle(g gateway.Gateway, t gateway.EventType, seq int, data gateway.EventData) {
	if h := m.handler.Load(); h != nil {
		(*h)(g, t, seq, data)
	}
}

// ShardIDs returns the shard ids this Set runs, in the order given.
func (m *Set) ShardIDs() []int { return slices.Clone(m.shardIDs) }

// ShardCount returns the total shard count of the bot.
func (m *Set) ShardCount() int { return m.shardCount }

func (m *Set) newShard(shardID int, state shard.State) *shard.Shard {
	opts := slices.Clone(m.cfg.shardOpts)
	opts = append(opts, shard.WithQueue(m.queue), shard.WithLogger(m.log))
	if m.cfg.hook != nil {
		opts = append(opts, shard.WithEventHook(m.cfg.hook))
	}
	if state.Resumable() {
		opts = append(opts, shard.WithState(state))
	}
	return shard.New(m.token, shardID, m.shardCount, m.handle, opts...)
}

// Open implements sharding.ShardManager: it runs OpenAll and logs each
// shard that failed (see also Get(id).Err).
func (m *Set) Open(ctx context.Context) {
	for _, err := range m.openAll(ctx) {
		if err != nil {
			var oe *OpenError
			id := -1
			if errors.As(err, &oe) {
				id = oe.ShardID
			}
			m.log.Error("shard failed to open", slog.Int("shard", id), slog.Any("err", err))
		}
	}
}

// OpenAll opens the Set's shards concurrently (the identify Queue
// orders their identifies) and returns once each is ready or failed. It
// returns nil, or the failure of the lowest shard id as an *OpenError that
// unwraps to the shard's error: a fatal close code, ctx's error, or
// ErrClosed for a shard closed before it opened. A shard already open
// counts as opened and is not waited for. A shard removed by CloseShard is
// not reopened (use OpenShard).
func (m *Set) OpenAll(ctx context.Context) error {
	for _, err := range m.openAll(ctx) {
		if err != nil {
			return err
		}
	}
	return nil
}

// openAll opens every shard and returns each one's *OpenError or nil, in
// ascending shard id order.
func (m *Set) openAll(ctx context.Context) []error {
	shards := m.snapshot()
	m.mu.Lock()
	for _, s := range shards {
		m.opened[s] = true
	}
	m.mu.Unlock()
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Open(ctx); err != nil && !errors.Is(err, shard.ErrAlreadyOpen) {
				errs[i] = &OpenError{ShardID: s.ShardID(), Err: err}
			}
		}()
	}
	wg.Wait()
	return errs
}

// open builds a new shard shardID from state in place of one that is not
// running (never opened, or stopped) and opens it.
func (m *Set) open(ctx context.Context, shardID int, state shard.State) error {
	m.mu.Lock()
	old, ok := m.shards[shardID]
	if ok && m.running(old) {
		m.mu.Unlock()
		return &OpenError{ShardID: shardID, Err: shard.ErrAlreadyOpen}
	}
	if ok {
		m.past[shardID] = old.Stats().Add(m.past[shardID])
	}
	if ok {
		delete(m.opened, old)
	}
	s := m.newShard(shardID, state)
	m.shards[shardID] = s
	m.opened[s] = true
	m.mu.Unlock()
	if err := s.Open(ctx); err != nil {
		return &OpenError{ShardID: shardID, Err: err}
	}
	return nil
}

// running reports whether s was opened by m and has not stopped. It is
// called with m.mu held.
func (m *Set) running(s *shard.Shard) bool {
	if !m.opened[s] {
		return false
	}
	select {
	case <-s.Done():
		return false
	default:
		return true
	}
}

// OpenShard implements sharding.ShardManager: it opens shard shardID with
// a fresh identify, in place of a shard that is not running. It fails
// with an *OpenError: ErrAlreadyOpen if the shard runs, or the shard's
// error from Open.
func (m *Set) OpenShard(ctx context.Context, shardID int) error {
	return m.open(ctx, shardID, shard.State{})
}

// ResumeShard implements sharding.ShardManager: like OpenShard, but the new
// shard resumes the given session (or identifies if state has no session
// id).
func (m *Set) ResumeShard(ctx context.Context, shardID int, state sharding.ShardState) error {
	return m.open(ctx, shardID, shard.State{SessionID: state.SessionID, Seq: state.Sequence, ResumeURL: state.ResumeURL})
}

// Close implements sharding.ShardManager: it closes every shard with code
// 1000 (sessions end) and waits for them.
func (m *Set) Close(ctx context.Context) {
	m.CloseWithCode(ctx, 1000, "shutting down")
}

// CloseWithCode closes every shard with code and waits for them; shards
// not opened yet are marked closed, so a later or concurrent Open leaves
// them closed. A code other than 1000/1001 (for example 4000) keeps the
// sessions resumable: States afterwards hands them to a new Set
// (WithStates).
func (m *Set) CloseWithCode(ctx context.Context, code int, message string) {
	var wg sync.WaitGroup
	for _, s := range m.snapshot() {
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
func (m *Set) CloseShard(ctx context.Context, shardID int) {
	m.mu.Lock()
	s, ok := m.shards[shardID]
	delete(m.shards, shardID)
	m.mu.Unlock()
	if ok {
		s.Close(ctx)
		m.mu.Lock()
		m.past[shardID] = s.Stats().Add(m.past[shardID])
		m.mu.Unlock()
	}
}

// ShardByGuildID implements sharding.ShardManager: the shard that receives
// the guild's events, or nil if this Set does not run it.
func (m *Set) ShardByGuildID(guildID snowflake.ID) gateway.Gateway {
	if m.shardCount <= 0 {
		return nil
	}
	return m.Shard(shard.ShardOf(guildID, m.shardCount))
}

// Shard implements sharding.ShardManager: the shard with id shardID, or nil.
func (m *Set) Shard(shardID int) gateway.Gateway {
	if s := m.Get(shardID); s != nil {
		return s
	}
	return nil
}

// Get returns the *Shard with id shardID, or nil.
func (m *Set) Get(shardID int) *shard.Shard {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shards[shardID]
}

// Shards implements sharding.ShardManager: the shards, in ascending id
// order, as a snapshot taken when iteration starts.
func (m *Set) Shards() iter.Seq[gateway.Gateway] {
	return func(yield func(gateway.Gateway) bool) {
		for _, s := range m.snapshot() {
			if !yield(s) {
				return
			}
		}
	}
}

func (m *Set) snapshot() []*shard.Shard {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := slices.Sorted(maps.Keys(m.shards))
	out := make([]*shard.Shard, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.shards[id])
	}
	return out
}

// States returns every shard's resume State by shard id. Shards without a
// session are left out.
func (m *Set) States() map[int]shard.State {
	out := make(map[int]shard.State)
	for _, s := range m.snapshot() {
		if st := s.State(); st.Resumable() {
			out[s.ShardID()] = st
		}
	}
	return out
}

// QueueDepth returns the dispatches waiting in all the shards' dispatch
// queues for the handler. It costs a snapshot of the shard list (one
// mutex and one small allocation).
func (m *Set) QueueDepth() int {
	n := 0
	for _, s := range m.snapshot() {
		n += s.Stats().QueueDepth
	}
	return n
}

// Stats returns each shard's Stats, in ascending shard id order. The
// counters of a shard id include those of the Shards it replaced, so they
// never go back.
func (m *Set) Stats() []shard.Stats {
	shards := m.snapshot()
	m.mu.Lock()
	past := maps.Clone(m.past)
	m.mu.Unlock()
	out := make([]shard.Stats, 0, len(shards))
	for _, s := range shards {
		out = append(out, s.Stats().Add(past[s.ShardID()]))
	}
	return out
}
