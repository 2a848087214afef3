package discordtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"
	"github.com/gorilla/websocket"
)

// AllShards, passed as a shard ID, makes a fault or traffic method act on
// every shard that has a live session.
const AllShards = -1

// Server is the fake Discord. Its methods are safe for concurrent use. It
// must not be copied. Build it with [New] or [Start]; the zero value is not
// usable.
type Server struct {
	cfg    config
	log    *slog.Logger
	token  string
	appID  snowflake.ID
	world  *world
	ledger *Ledger
	gate   *identifyGate
	ln     net.Listener
	http   *http.Server
	url    string
	wsURL  string
	ctr    counters
	rate   atomic.Uint64 // math.Float64bits of dispatches/s per shard
	connN  atomic.Uint64
	served chan struct{} // closed when http.Serve returns
	feed   guildFeed     // SetGuildRate; see guildfeed.go

	recommended atomic.Int64    // SetRecommendedShards; 0: derived (see recommendedShards)
	gbFault     gatewayBotFault // FailGatewayBot; see rest.go

	contents contentTable               // message contents carried by traffic
	mix      atomic.Pointer[contentMix] // WithContents / SetContents; nil: none
	posted   postedLog                  // POST /channels/{id}/messages
	webhooks webhookLog                 // POST /webhooks/{id}/{token}; see webhooks.go

	upgrader websocket.Upgrader

	latency    *clientLatency                               // WithClientLatency, SetClientLatency
	sleepUntil func(t time.Time, stop <-chan struct{}) bool // waits out a frame's latency: waitUntil, or a test's

	mu       sync.Mutex // guards the fields below
	closed   bool
	conns    map[*conn]struct{}
	live     map[shardKey]*conn  // (shard, count) → newest connection bound to a session
	sessions map[string]*session // resumable sessions by ID
	wg       sync.WaitGroup      // connection goroutines; Add only under mu while !closed
}

// New starts a Server for a test on 127.0.0.1:0 (or WithAddr), registers
// its Close with tb.Cleanup and calls tb.Fatal if it cannot start.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a Server and returns once it accepts connections. The caller
// must call Close.
func Start(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.logger.With(slog.String("service", "discordtest")),
		served:   make(chan struct{}),
		feed:     newGuildFeed(),
		conns:    make(map[*conn]struct{}),
		live:     make(map[shardKey]*conn),
		sessions: make(map[string]*session),
	}
	s.token = cfg.token
	if s.token == "" {
		var secret [20]byte
		_, _ = rand.Read(secret[:])
		s.appID = defaultApplicationID
		s.token = makeToken(s.appID, base64.RawURLEncoding.EncodeToString(secret[:]))
	} else if id, ok := appIDFromToken(s.token); ok {
		s.appID = id
	} else {
		s.appID = defaultApplicationID
	}
	s.world = newWorld(&cfg, s.appID)
	s.ledger = newLedger(s.world)
	s.contents.init()
	if err := s.SetContents(cfg.contentsEvery, cfg.contents...); err != nil {
		return nil, err
	}
	s.gate = newIdentifyGate(&cfg, time.Now)
	s.latency = newClientLatency(cfg.clientLatency, cfg.latencySeed)
	s.sleepUntil = cfg.sleepUntil
	if s.sleepUntil == nil {
		s.sleepUntil = waitUntil
	}
	s.rate.Store(math.Float64bits(cfg.rate))
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 8192,
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.wsURL = "ws://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v10/", s.serveREST)
	for _, p := range []string{"/gateway", "/gateway/", "/resume", "/resume/"} {
		mux.HandleFunc(p, s.serveGateway)
	}
	mux.HandleFunc("/", serveNotFound)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go s.runGuildFeed()
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http serve", slog.Any("err", err))
		}
	}()
	s.log.Info("fake discord listening", slog.String("url", s.url))
	return s, nil
}

// Close stops the server: it stops accepting, closes every connection
// without a close frame, and waits for every goroutine it started. It is
// idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.feed.done
		<-s.served
		s.wg.Wait()
		return
	}
	s.closed = true
	close(s.feed.stop)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
	}
	<-s.feed.done
	<-s.served
	s.wg.Wait()
}

// URL returns the server's base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.url }

// APIURL returns the REST base, URL()+"/api/v10", which disgo's
// rest.WithURL takes.
func (s *Server) APIURL() string { return s.url + "/api/v10" }

// GatewayURL returns the gateway URL, "ws://127.0.0.1:PORT/gateway", also
// the url in GET /gateway/bot.
func (s *Server) GatewayURL() string { return s.wsURL + "/gateway" }

// ResumeURL returns the resume_gateway_url sent in READY, which serves the
// same gateway on another path.
func (s *Server) ResumeURL() string { return s.wsURL + "/resume" }

// Token returns the bot token the server accepts. Keep it out of logs.
func (s *Server) Token() string { return s.token }

// ApplicationID returns the application ID, which is also the bot user's ID.
func (s *Server) ApplicationID() snowflake.ID { return s.appID }

// GuildIDs returns the guilds shardID owns among shardCount shards, those
// with (id>>22) % shardCount == shardID, in ascending order.
func (s *Server) GuildIDs(shardID, shardCount int) []snowflake.ID {
	if shardCount < 1 || shardID < 0 || shardID >= shardCount {
		return nil
	}
	idx := s.world.guildsOf(shardID, shardCount)
	out := make([]snowflake.ID, len(idx))
	for i, g := range idx {
		out[i] = s.world.guildID(g)
	}
	return out
}

// Ledger returns the server's ledger of sessions and sequence numbers.
func (s *Server) Ledger() *Ledger { return s.ledger }

// SetRate sets the traffic every live session receives, in dispatches per
// second per shard: 0 stops it, -1 sends as fast as each connection takes
// them. Traffic is a mixed stream: 7 in 10 MESSAGE_CREATE, and one each of
// GUILD_MEMBER_ADD, MESSAGE_REACTION_ADD and TYPING_START. Other negative
// values are treated as 0.
func (s *Server) SetRate(perShardPerSecond float64) {
	if perShardPerSecond < 0 && perShardPerSecond != -1 || math.IsNaN(perShardPerSecond) {
		perShardPerSecond = 0
	}
	s.rate.Store(math.Float64bits(perShardPerSecond))
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.poke()
	}
}

func (s *Server) currentRate() float64 { return math.Float64frombits(s.rate.Load()) }

// shardKey names a shard within a shard count: shard 3 of 8 and shard 3 of
// 16 are different shards, and both may have a live session at once (as
// during a re-shard).
type shardKey struct{ id, count int }

func (s *session) key() shardKey { return shardKey{s.shardID, s.shardCount} }

// track registers a new connection; it fails once the server is closed.
// It adds both of the connection's goroutines to wg.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	return true
}

// untrack forgets a finished connection.
func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if k := c.key(); s.live[k] == c {
		delete(s.live, k)
	}
}

// bindLive makes c the live connection of its shard.
func (s *Server) bindLive(c *conn, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sess.id] = sess
	s.live[sess.key()] = c
}

// session returns a resumable session by ID.
func (s *Server) session(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// forget removes a session so it cannot be resumed, and unbinds its owner.
func (s *Server) forget(sess *session) {
	owner := sess.kill()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess.id)
	if owner != nil && s.live[sess.key()] == owner {
		delete(s.live, sess.key())
	}
}

// targets returns the live connections for shardID, whatever their shard
// count (one per count, in ascending order of count), or every live
// connection for AllShards.
func (s *Server) targets(shardID int) ([]*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := make([]*conn, 0, len(s.live))
	for k, c := range s.live {
		if shardID == AllShards || k.id == shardID {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoSession
	}
	if len(out) > 1 && shardID != AllShards {
		slices.SortFunc(out, func(a, b *conn) int { return cmp.Compare(a.key().count, b.key().count) })
	}
	return out, nil
}
