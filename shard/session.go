package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/internal/pacedconn"
	"github.com/megane-go/megane/internal/wire"
)

// dialer is shared by all shards; gorilla's Dialer is safe for concurrent
// use.
var dialer = &websocket.Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: 30 * time.Second,
	ReadBufferSize:   32 << 10,
	WriteBufferSize:  4 << 10,
}

// session is the read loop's state for one connection.
type session struct {
	c         *conn
	inflater  wire.Inflater
	hbCancel  context.CancelFunc
	hbDone    chan struct{}
	helloSeen bool
	resuming  bool
	healthy   bool
	replayed  int
	// frame is the buffer the read loop reads each frame into. A
	// dispatch is decoded before the next frame is read, and its result
	// never aliases the buffer, so one buffer serves the connection.
	frame []byte
	// pending is the batch a batch handler gets next (WithBatchHandler),
	// and pendingSize the sum of its events' Size.
	pending     []Dispatch
	pendingSize int
	// answer is the ready timeout's timer (see expectAnswer); phase
	// tells its callback whether it was disarmed since it was armed.
	answer *time.Timer
	phase  atomic.Int64
}

// expectAnswer arms the ready timeout: unless disarmed first, the
// connection ends with ErrReadyTimeout once it passes without what.
// Only the read loop calls it.
func (s *Shard) expectAnswer(ss *session, what string) {
	ss.disarm()
	phase, c, d := ss.phase.Load(), ss.c, s.cfg.readyTimeout
	ss.answer = time.AfterFunc(d, func() {
		if ss.phase.Load() != phase {
			return // disarmed meanwhile
		}
		err := fmt.Errorf("%w: no %s within %v", ErrReadyTimeout, what, d)
		s.log.Warn("gateway did not answer; reconnecting", slog.String("err", err.Error()))
		c.kill(4000, err)
	})
}

// disarm stops the ready timeout. Only the read loop calls it.
func (ss *session) disarm() {
	ss.phase.Add(1)
	if ss.answer != nil {
		ss.answer.Stop()
		ss.answer = nil
	}
}

// connect dials once and runs the read loop until the connection ends. It
// reports whether the session became ready and why the connection ended.
func (s *Shard) connect() (healthy bool, err error) {
	if s.stopping() {
		return false, ErrClosed // do not dial for a shard that is closing
	}
	state := s.State()
	resuming := state.Resumable()
	base := s.cfg.url
	switch {
	case s.cfg.proxy != "":
		base = s.cfg.proxy
	case resuming && state.ResumeURL != "":
		base = state.ResumeURL
	}
	dialURL, err := gatewayURL(base, s.cfg.compression)
	if err != nil {
		return false, err
	}
	s.setStatus(gateway.StatusConnecting)
	d, idle := s.dialer()
	ws, resp, err := d.DialContext(s.ctx, dialURL, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return false, fmt.Errorf("shard: dial gateway: %w", err)
	}
	inflater, err := wire.NewInflater(s.cfg.compression)
	if err != nil {
		_ = ws.Close()
		return false, fmt.Errorf("shard: %w", err)
	}
	defer func() { _ = inflater.Close() }()

	c := newConn(ws, s.cfg.writeTimeout, s.cfg.readLimit)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = ws.Close()
		return false, ErrClosed
	}
	s.conn = c
	s.status = gateway.StatusWaitingForHello
	s.mu.Unlock()
	s.limiter.reset()

	ss := &session{c: c, inflater: inflater, resuming: resuming}
	if idle != nil {
		*idle = func() { s.flush(ss) } // runs on the read loop, in its Reads
	}
	s.expectAnswer(ss, "HELLO")
	defer func() {
		ss.disarm()
		s.mu.Lock()
		s.conn = nil
		s.mu.Unlock()
		// Close first: a heartbeat stuck writing to a dead peer then fails
		// at once instead of waiting for its write deadline.
		_ = ws.Close()
		if ss.hbCancel != nil {
			ss.hbCancel()
			<-ss.hbDone
		}
	}()
	err = s.readLoop(ss)
	return ss.healthy, err
}

// dialer returns the dialer of the next connection. With read coalescing
// (WithReadCoalescing) it dials through pacedconn; with a batch handler it
// dials TCP connections that tell the read loop when they are about to
// wait (see idleConn, and pacedconn.Dialer.Idle), through idle, which the
// caller sets once the session exists.
func (s *Shard) dialer() (*websocket.Dialer, *func()) {
	period := s.cfg.readCoalescing
	paced := period > 0 && pacedconn.Supported
	if s.cfg.batchHandler == nil && !paced {
		return dialer, nil
	}
	var idle *func()
	var onIdle func()
	if s.cfg.batchHandler != nil {
		idle = new(func())
		onIdle = func() {
			if *idle != nil {
				(*idle)()
			}
		}
	}
	d := *dialer
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if paced {
			pd := pacedconn.Dialer{Period: period, Idle: onIdle}
			return pd.DialContext(ctx, network, addr)
		}
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return newIdleConn(c, onIdle), nil
	}
	return &d, idle
}

func gatewayURL(base string, compression gateway.CompressionType) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("shard: gateway url: %w", err)
	}
	q := u.Query()
	q.Set("v", strconv.Itoa(APIVersion))
	q.Set("encoding", "json")
	if compression != gateway.CompressionNone {
		q.Set("compress", string(compression))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// maxKeptReadBuffer bounds the read buffer kept between frames; a larger
// one (after a big GUILD_CREATE) is dropped.
const maxKeptReadBuffer = 1 << 20

// readLoop reads frames until the connection ends and returns why. Each
// frame is read into the session's buffer, inflated if the transport is
// compressed, and handled before the next is read: control opcodes here,
// dispatches decoded here and handed to the handler (see hand).
func (s *Shard) readLoop(ss *session) error {
	defer s.flush(ss) // what the batch holds was received: hand it over
	for {
		if cap(ss.frame) > maxKeptReadBuffer {
			ss.frame = nil // after a big GUILD_CREATE: do not keep its size
		}
		_, r, err := ss.c.ws.NextReader()
		if err == nil {
			ss.frame, err = readFrame(r, ss.frame[:0])
		}
		if err != nil {
			if reason := ss.c.getReason(); reason != nil {
				return reason
			}
			return classifyReadError(err)
		}
		payload, err := ss.inflater.Inflate(ss.frame)
		if err != nil {
			// A broken compressed stream cannot be recovered on this
			// connection: resume on a new one.
			s.log.Warn("undecodable compressed frame; reconnecting", slog.Any("err", err))
			ss.c.kill(4000, fmt.Errorf("shard: inflate: %w", err))
			return ss.c.getReason()
		}
		if payload == nil {
			continue // a partial zlib-stream message
		}
		// Lazy: a dispatch's data is not scanned here, only decoded (see
		// wire.ParseEnvelopeLazy).
		env, err := wire.ParseEnvelopeLazy(payload)
		if err != nil {
			s.dropped.Add(1)
			s.log.Warn("malformed gateway frame dropped", slog.Any("err", err))
			continue
		}
		if err := s.handleFrame(ss, env); err != nil {
			if errors.Is(err, errStopped) {
				return s.drain(ss)
			}
			// Close with 4000, not 1000: the session stays resumable.
			ss.c.kill(4000, err)
			return ss.c.getReason()
		}
	}
}

// minFrameBuffer is the least capacity a frame is read into: a typical
// MESSAGE_CREATE (1 to 2 KiB) fits a new buffer without growing it.
const minFrameBuffer = 2 << 10

// readFrame appends everything r yields until io.EOF to b and returns it.
// It grows b only when b is full (doubling), so a pooled buffer that once
// held a frame of this size reads the next one without allocating.
func readFrame(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = slices.Grow(b, max(minFrameBuffer, cap(b)))
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// errStopped means the shard's context ended while the read loop waited.
var errStopped = errors.New("shard: stopped")

// drain keeps reading after the shard was told to stop, until the gateway
// answers the close frame or Close drops the connection, so the close
// frame is not lost to a reset.
func (s *Shard) drain(ss *session) error {
	for {
		if _, _, err := ss.c.ws.ReadMessage(); err != nil {
			if reason := ss.c.getReason(); reason != nil {
				return reason
			}
			return ErrClosed
		}
	}
}

// handleFrame handles one frame on the read loop. A non-nil error ends the
// connection with that reason.
func (s *Shard) handleFrame(ss *session, env wire.Envelope) error {
	switch env.Op {
	case gateway.OpcodeDispatch:
		return s.handleDispatch(ss, env)
	case gateway.OpcodeHeartbeatACK:
		ss.c.acked.Store(true)
		s.acks.Add(1)
		if sent := ss.c.beatSentAt.Swap(0); sent != 0 {
			now := time.Since(s.epoch)
			s.latency.Store(int64(now - time.Duration(sent)))
			if s.cfg.heartbeatAckHook {
				s.offer(ss, dispatchItem{typ: gateway.EventTypeHeartbeatAck, data: gateway.EventHeartbeatAck{
					LastHeartbeat: s.epoch.Add(time.Duration(sent)),
					NewHeartbeat:  s.epoch.Add(now),
				}})
			}
		}
		return nil
	case gateway.OpcodeHeartbeat:
		return s.sendHeartbeat(ss.c, true)
	case gateway.OpcodeHello:
		return s.handleHello(ss, env)
	case gateway.OpcodeReconnect:
		s.log.Info("gateway asked to reconnect (op 7)")
		return ErrReconnectRequested
	case gateway.OpcodeInvalidSession:
		md, err := wire.DecodeControl(env.Op, env.D)
		resumable := false
		if err == nil {
			if v, ok := md.(gateway.MessageDataInvalidSession); ok {
				resumable = bool(v)
			}
		}
		s.log.Warn("invalid session (op 9)", slog.Bool("resumable", resumable))
		return &InvalidSessionError{Resumable: resumable}
	default:
		s.unknownOps.Add(1)
		s.log.Warn("unknown opcode ignored", slog.Any("err", &UnknownOpcodeError{Op: env.Op}))
		return nil
	}
}

// maxHeartbeatInterval is the largest HELLO interval (ms) accepted: a day,
// far above Discord's ~41 s and far below time.Duration's range.
const maxHeartbeatInterval = 24 * 60 * 60 * 1000

func (s *Shard) handleHello(ss *session, env wire.Envelope) error {
	if ss.helloSeen {
		return nil
	}
	ss.disarm() // the identify queue's wait does not count
	md, err := wire.DecodeControl(env.Op, env.D)
	if err != nil {
		return fmt.Errorf("%w: bad HELLO: %w", ErrProtocol, err)
	}
	hello, ok := md.(gateway.MessageDataHello)
	if !ok || hello.HeartbeatInterval <= 0 {
		return fmt.Errorf("%w: HELLO without heartbeat interval", ErrProtocol)
	}
	if hello.HeartbeatInterval > maxHeartbeatInterval {
		// Would overflow time.Duration into a negative interval: a beat
		// storm judged a zombie at once.
		return fmt.Errorf("%w: HELLO heartbeat interval %d ms out of range", ErrProtocol, hello.HeartbeatInterval)
	}
	ss.helloSeen = true
	interval := time.Duration(hello.HeartbeatInterval) * time.Millisecond
	hbCtx, cancel := context.WithCancel(s.ctx)
	ss.hbCancel, ss.hbDone = cancel, make(chan struct{})
	go s.heartbeat(hbCtx, ss.c, interval, ss.hbDone)
	s.emit(Connected{ShardID: s.shardID, Resuming: ss.resuming})

	if ss.resuming {
		return s.resume(ss)
	}
	return s.identify(ss)
}

func (s *Shard) identify(ss *session) error {
	s.setStatus(gateway.StatusIdentifying)
	// The read loop does not read while it waits: mark it stalled so the
	// heartbeat goroutine does not take unread ACKs for a zombie.
	ss.c.stallBegin()
	err := s.queue.Wait(s.ctx, s.shardID)
	ss.c.stallEnd()
	if err != nil {
		if s.ctx.Err() != nil {
			return errStopped
		}
		return fmt.Errorf("shard: identify queue: %w", err)
	}
	s.clearSession()
	identify := gateway.MessageDataIdentify{
		Token: s.token,
		Properties: gateway.IdentifyCommandDataProperties{
			OS: s.cfg.os, Browser: s.cfg.browser, Device: s.cfg.device,
		},
		LargeThreshold: s.cfg.largeThreshold,
		Shard:          &[2]int{s.shardID, s.shardCount},
		Intents:        s.cfg.intents,
		Presence:       s.cfg.presence,
	}
	// The queue learns when the frame was written: Discord times the
	// IDENTIFY when it arrives, so the bucket's window starts then.
	written, err := s.sendInternal(ss.c, int(gateway.OpcodeIdentify), identify)
	if written {
		s.queue.Identified(s.shardID, time.Now(), nil)
	} else {
		s.queue.Identified(s.shardID, time.Time{}, err)
	}
	if err != nil {
		return err
	}
	s.expectAnswer(ss, "READY after IDENTIFY")
	s.identifies.Add(1)
	s.setStatus(gateway.StatusWaitingForReady)
	s.log.Debug("identify sent")
	return nil
}

func (s *Shard) resume(ss *session) error {
	state := s.State()
	s.setStatus(gateway.StatusResuming)
	resume := gateway.MessageDataResume{Token: s.token, SessionID: state.SessionID, Seq: state.Seq}
	if _, err := s.sendInternal(ss.c, int(gateway.OpcodeResume), resume); err != nil {
		return err
	}
	s.expectAnswer(ss, "RESUMED after RESUME")
	s.resumes.Add(1)
	s.log.Debug("resume sent", slog.Int("seq", state.Seq))
	return nil
}

// handleDispatch takes one dispatch: READY and RESUMED change the session
// here; every dispatch is then decoded and handed to the handler. A
// dispatch that does not decode (or whose type is unknown) is recorded, so
// that a resume does not ask for it again, and goes no further.
func (s *Shard) handleDispatch(ss *session, env wire.Envelope) error {
	if env.HasSeq && env.Seq != 0 && int64(env.Seq) <= s.seq.Load() {
		s.duplicates.Add(1)
		s.log.Debug("duplicate dispatch dropped", slog.Int("seq", env.Seq), slog.String("type", string(env.Type)))
		return nil
	}
	item := dispatchItem{seq: env.Seq, size: len(env.D), typ: env.Type}
	switch env.Type {
	case gateway.EventTypeReady:
		data, err := wire.DecodeUnchecked(env.Type, env.D)
		ready, ok := data.(gateway.EventReady)
		if err != nil || !ok || ready.SessionID == "" {
			return fmt.Errorf("%w: undecodable READY", ErrProtocol)
		}
		s.mu.Lock()
		s.sessionID, s.resumeURL = ready.SessionID, ready.ResumeGatewayURL
		s.status = gateway.StatusReady
		s.mu.Unlock()
		ss.disarm()
		ss.healthy = true
		item.data = ready
		s.log.Info("session ready", slog.Int("guilds", len(ready.Guilds)))
		s.emit(Ready{ShardID: s.shardID, SessionID: ready.SessionID})
		s.report(nil)
	case gateway.EventTypeResumed:
		s.setStatus(gateway.StatusReady)
		ss.disarm()
		ss.healthy = true
		item.data = gateway.EventResumed{}
		s.log.Info("session resumed", slog.Int("replayed", ss.replayed))
		s.emit(Resumed{ShardID: s.shardID, Replayed: ss.replayed})
		s.report(nil)
	default:
		if ss.resuming && !ss.healthy {
			ss.replayed++
		}
		data, err := s.decode(env.Seq, env.Type, env.D, env.Unchecked)
		switch {
		case err != nil:
			s.dropped.Add(1)
			s.log.Warn("malformed dispatch dropped",
				slog.Int("seq", env.Seq), slog.String("type", string(env.Type)), slog.Any("err", err))
		case isUnknown(data):
			s.log.Debug("unknown event type skipped", slog.Int("seq", env.Seq), slog.String("type", string(env.Type)))
		default:
			item.data = data
		}
	}
	// The sequence number and the count are recorded before the
	// hand-over, so that State and Stats have them by the time the handler
	// (on another goroutine) sees the event, and taken back if the shard
	// stopped before accepting it.
	prev := s.seq.Load()
	if env.HasSeq && env.Seq != 0 {
		s.seq.Store(int64(env.Seq))
	}
	s.events.Add(1)
	if item.data != nil && !s.hand(ss, item) {
		s.seq.Store(prev)
		s.events.Add(^uint64(0))
		return errStopped
	}
	if item.data == nil {
		s.markHandled(item.seq) // dropped or skipped: there is nothing to hand over
	}
	return nil
}

// isUnknown reports whether data is an event type disgo does not know.
func isUnknown(data gateway.EventData) bool {
	_, unknown := data.(gateway.EventUnknown)
	return unknown
}
