package shard

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

var _ gateway.Gateway = (*Shard)(nil)

// Shard is one Discord gateway connection. It implements disgo's
// gateway.Gateway, so a disgo bot.Client consumes its events unchanged.
//
// Goroutines: after Open, a Shard runs one connection goroutine (dial,
// read loop, reconnects) and one heartbeat goroutine per live connection.
// The read loop handles control opcodes and decodes every dispatch as soon
// as it is read, while the frame is in cache. With a dispatch queue (the
// default, WithDispatchBuffer) a dispatch goroutine calls the handler, in
// sequence order, for every decoded dispatch, so a slow handler never
// holds up the read loop. Without one (WithDispatchBuffer(0), as a
// cluster runs its shards) the read loop calls the handler itself, which
// must hand the event on and return: one goroutine hop less per event.
//
// Full dispatch queue: decoded dispatches wait in a bounded queue. When it
// is full (or a handler run on the read loop blocks) the read loop waits
// until the handler takes one (backpressure: no dispatch is ever dropped
// for lack of room), and counts the wait in Stats.QueueFullWaits. While
// the read loop waits the heartbeat goroutine keeps beating, and does not
// count a missing ACK as a zombie, because the ACK may be sitting unread
// in the socket. The sequence number (State, heartbeats, RESUME) only
// advances once a dispatch is accepted (into the queue, or by the
// handler).
//
// Bad input: a frame or dispatch that does not decode is logged (shard,
// sequence number and event type; never the payload), counted in
// Stats.Dropped and dropped; the connection stays up. The read loop reads
// a dispatch's op, s and t lazily when they come before "d", as Discord
// sends them (wire.ParseEnvelopeLazy); such a frame that turns out
// malformed after them, or that repeats op, s, t or d after d, is dropped
// when it is decoded, with its sequence number recorded, like data that
// does not decode. DM and group DM channels inside
// GUILD_CREATE/GUILD_UPDATE, on which disgo's decoder panics, are removed
// first and counted in Stats.FilteredChannels. A frame
// over wire.MaxPayload (64 MiB) is not buffered: the connection ends
// (close 1009) and the shard resumes. The token never appears in a log
// line, error or stat. A panic in the handler itself is not recovered.
//
// Cost: every frame of a connection is read into one buffer (dropped after
// a frame over 1 MiB) and decoded in place on the read loop; the decoded
// event never aliases it. Decoding (internal/wire) dominates the cost per
// event.
//
// A Shard must not be copied. All methods are safe for concurrent use. It
// is opened at most once; after Close, build a new one (WithState resumes
// the old session).
type Shard struct {
	token      string
	shardID    int
	shardCount int
	handler    gateway.EventHandlerFunc
	cfg        config
	log        *slog.Logger
	queue      Queue
	limiter    *sendLimiter
	epoch      time.Time

	ctx    context.Context // the shard's lifetime; cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex // guards the fields below
	status    gateway.Status
	sessionID string
	resumeURL string
	conn      *conn
	opened    bool
	closing   bool
	closeCode int
	err       error // fatal error or ErrClosed, set once the shard stopped
	prevTime  time.Time
	prevCount uint64
	prevRate  float64
	rated     bool // prevRate covers a whole stats window

	seq     atomic.Int64 // last sequence number accepted into the queue
	latency atomic.Int64 // nanoseconds

	events, identifies, resumes, reconnects, dropped, duplicates atomic.Uint64
	filtered, unknownOps, zombies, fullWaits, beats, acks        atomic.Uint64

	// handledSeq is written by the dispatch goroutine for every event,
	// while the read loop writes seq and events for every event: each
	// gets its own cache line, so the two goroutines (usually on two
	// cores) do not invalidate each other's line per event.
	_          cacheLinePad
	handledSeq atomic.Int64 // last sequence number handed to the handler
	_          cacheLinePad

	dispatch     chan dispatchItem
	abandon      atomic.Bool
	firstResult  chan error // capacity 1: the first READY/RESUMED (nil) or fatal error
	firstOnce    sync.Once
	runDone      chan struct{}
	dispatchDone chan struct{}
	done         chan struct{}
	stopOnce     sync.Once
}

// New returns an unopened shard shardID of shardCount. handler receives
// every dispatch in order, on the shard's dispatch goroutine (or its read
// loop, see WithDispatchBuffer); it may be nil
// (events are then decoded and discarded). The token is only ever written
// into IDENTIFY and RESUME frames. New does no I/O.
func New(token string, shardID, shardCount int, handler gateway.EventHandlerFunc, opts ...Option) *Shard {
	cfg := defaultConfig()
	cfg.apply(opts)
	queue := cfg.queue
	if queue == nil {
		queue = NewQueue()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Shard{
		token:        token,
		shardID:      shardID,
		shardCount:   shardCount,
		handler:      handler,
		cfg:          cfg,
		log:          cfg.logger.With(slog.Int("shard", shardID)),
		queue:        queue,
		limiter:      newSendLimiter(cfg.sendLimit, cfg.sendWindow, cfg.sendReserved),
		epoch:        time.Now(),
		ctx:          ctx,
		cancel:       cancel,
		status:       gateway.StatusUnconnected,
		sessionID:    cfg.state.SessionID,
		resumeURL:    cfg.state.ResumeURL,
		dispatch:     newDispatchQueue(cfg),
		firstResult:  make(chan error, 1),
		runDone:      make(chan struct{}),
		dispatchDone: make(chan struct{}),
		done:         make(chan struct{}),
	}
	s.prevTime = s.epoch
	if s.dispatch == nil {
		close(s.dispatchDone) // no dispatch goroutine
	}
	if cfg.state.SessionID != "" {
		s.seq.Store(int64(cfg.state.Seq))
		s.handledSeq.Store(int64(cfg.state.Seq))
	}
	return s
}

// String describes the shard as "shard ID/COUNT". Printing a *Shard with
// fmt (%v, %+v, %s) or slog shows only this: the token it holds never
// reaches a log line or panic message that way.
func (s *Shard) String() string {
	return "shard " + strconv.Itoa(s.shardID) + "/" + strconv.Itoa(s.shardCount)
}

// GoString implements fmt.GoStringer for %#v, with the same redaction as
// String.
func (s *Shard) GoString() string { return "shard.Shard(" + s.String() + ")" }

// LogValue implements slog.LogValuer: the shard's id and count.
func (s *Shard) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", s.shardID), slog.Int("count", s.shardCount))
}

// ShardID implements gateway.Gateway.
func (s *Shard) ShardID() int { return s.shardID }

// ShardCount implements gateway.Gateway.
func (s *Shard) ShardCount() int { return s.shardCount }

// Intents implements gateway.Gateway.
func (s *Shard) Intents() gateway.Intents { return s.cfg.intents }

// Presence implements gateway.Gateway: the presence sent in IDENTIFY, or nil.
func (s *Shard) Presence() *gateway.MessageDataPresenceUpdate { return s.cfg.presence }

// SessionID implements gateway.Gateway. It is nil when there is no session
// to resume.
func (s *Shard) SessionID() *string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessionID == "" {
		return nil
	}
	id := s.sessionID
	return &id
}

// LastSequenceReceived implements gateway.Gateway: the last sequence number
// accepted into the dispatch queue, or nil before any.
func (s *Shard) LastSequenceReceived() *int {
	seq := int(s.seq.Load())
	if seq == 0 {
		return nil
	}
	return &seq
}

// ResumeURL implements gateway.Gateway.
func (s *Shard) ResumeURL() *string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resumeURL == "" {
		return nil
	}
	u := s.resumeURL
	return &u
}

// Status implements gateway.Gateway.
func (s *Shard) Status() gateway.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Latency implements gateway.Gateway: the round trip of the last
// acknowledged heartbeat, 0 before the first ACK.
func (s *Shard) Latency() time.Duration { return time.Duration(s.latency.Load()) }

// State returns the resume state. After Close (code 1000) it is the zero
// State; after CloseWithCode with another code it still resumes.
//
// Seq is the last dispatch accepted into the dispatch queue. While the
// shard runs, the handler may not have been given it yet, so a State taken
// then and resumed elsewhere can skip queued dispatches. Take it after
// CloseWithCode for a hand-over: by then every accepted dispatch has been
// handled, or, if Close's context ended first, Seq has been moved back to
// the last handled one so a resume replays the rest.
func (s *Shard) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessionID == "" {
		return State{}
	}
	return State{SessionID: s.sessionID, Seq: int(s.seq.Load()), ResumeURL: s.resumeURL}
}

// Done returns a channel closed once the shard stopped for good: after a
// fatal close code or after Close. Err then says why.
func (s *Shard) Done() <-chan struct{} { return s.done }

// Err returns nil while the shard runs (or was never opened), the fatal
// error that stopped it (match with errors.Is, e.g. ErrInvalidToken, or
// errors.As with *CloseError), or ErrClosed after Close.
func (s *Shard) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Stats returns a snapshot of the shard's counters. It costs a mutex and
// a few atomic loads.
func (s *Shard) Stats() Stats {
	now := time.Now()
	events := s.events.Load()
	s.mu.Lock()
	status := s.status
	elapsed := now.Sub(s.prevTime)
	rate := s.prevRate
	switch {
	case elapsed >= s.cfg.statsWindow:
		rate = float64(events-s.prevCount) / elapsed.Seconds()
		s.prevRate, s.prevTime, s.prevCount, s.rated = rate, now, events, true
	case !s.rated && elapsed > 0:
		rate = float64(events-s.prevCount) / elapsed.Seconds()
	}
	s.mu.Unlock()
	return Stats{
		ShardID:          s.shardID,
		Status:           status,
		Latency:          s.Latency(),
		Events:           events,
		EventsPerSecond:  rate,
		Identifies:       s.identifies.Load(),
		Resumes:          s.resumes.Load(),
		Reconnects:       s.reconnects.Load(),
		Dropped:          s.dropped.Load(),
		Duplicates:       s.duplicates.Load(),
		FilteredChannels: s.filtered.Load(),
		UnknownOpcodes:   s.unknownOps.Load(),
		Heartbeats:       s.beats.Load(),
		Acks:             s.acks.Load(),
		Zombies:          s.zombies.Load(),
		QueueDepth:       len(s.dispatch),
		QueueFullWaits:   s.fullWaits.Load(),
	}
}

func (s *Shard) setStatus(status gateway.Status) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

func (s *Shard) emit(e Event) {
	if s.cfg.hook != nil {
		s.cfg.hook(e)
	}
}
