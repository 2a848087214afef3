package discordtest

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// DefaultReplayBuffer is the default number of dispatches a session keeps
// for RESUME (see [WithReplayBuffer]).
const DefaultReplayBuffer = 1 << 14

type config struct {
	shards            int
	guilds            int
	members           int
	channels          int
	roles             int
	maxConcurrency    int
	sessionTotal      int
	sessionRemaining  int
	sessionResetAfter time.Duration
	identifyWindow    time.Duration
	sendLimit         int
	sendWindow        time.Duration
	heartbeatInterval time.Duration
	ackDelay          time.Duration
	rate              float64
	token             string
	logger            *slog.Logger
	maxGuildsPerShard int
	allowedIntents    gateway.Intents
	addr              string
	compressions      []gateway.CompressionType
	replayBuffer      int
	closeGrace        time.Duration
	writeTimeout      time.Duration
	contentsEvery     int      // WithContents; see contents.go
	contents          []string // WithContents
	dataNotLast       bool     // WithDataNotLast

	// WithClientLatency; see latency.go
	clientLatency time.Duration
	latencySeed   uint64
	sleepUntil    func(t time.Time, stop <-chan struct{}) bool // nil: waitUntil; tests set it
}

func defaultConfig() config {
	return config{
		shards:            1,
		guilds:            100,
		members:           10,
		channels:          10,
		roles:             5,
		maxConcurrency:    1,
		sessionTotal:      1000,
		sessionRemaining:  1000,
		sessionResetAfter: 24 * time.Hour,
		identifyWindow:    5 * time.Second,
		sendLimit:         120,
		sendWindow:        60 * time.Second,
		heartbeatInterval: 41250 * time.Millisecond,
		ackDelay:          time.Millisecond,
		logger:            slog.New(slog.DiscardHandler),
		maxGuildsPerShard: 2500,
		allowedIntents:    gateway.IntentsAll,
		addr:              "127.0.0.1:0",
		compressions:      []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream},
		replayBuffer:      DefaultReplayBuffer,
		closeGrace:        2 * time.Second,
		writeTimeout:      10 * time.Second,
	}
}

func (c *config) validate() error {
	switch {
	case c.shards < 1:
		return &OptionError{Option: "WithShards", Reason: "must be at least 1"}
	case c.guilds < 0:
		return &OptionError{Option: "WithGuilds", Reason: "must not be negative"}
	case c.members < 0:
		return &OptionError{Option: "WithMembers", Reason: "must not be negative"}
	case c.channels < 0:
		return &OptionError{Option: "WithChannels", Reason: "must not be negative"}
	case c.roles < 0:
		return &OptionError{Option: "WithRoles", Reason: "must not be negative"}
	case c.maxConcurrency < 0:
		return &OptionError{Option: "WithMaxConcurrency", Reason: "must not be negative"}
	case c.sessionTotal < 0 || c.sessionRemaining < 0 || c.sessionRemaining > c.sessionTotal:
		return &OptionError{Option: "WithSessionStartLimit", Reason: "need 0 <= remaining <= total"}
	case c.sessionResetAfter <= 0:
		return &OptionError{Option: "WithSessionStartLimit", Reason: "resetAfter must be positive"}
	case c.identifyWindow < 0:
		return &OptionError{Option: "WithIdentifyWindow", Reason: "must not be negative"}
	case c.sendLimit < 1 || c.sendWindow <= 0:
		return &OptionError{Option: "WithSendLimit", Reason: "need n >= 1 and a positive window"}
	case c.heartbeatInterval <= 0:
		return &OptionError{Option: "WithHeartbeatInterval", Reason: "must be positive"}
	case c.maxGuildsPerShard < 1:
		return &OptionError{Option: "WithMaxGuildsPerShard", Reason: "must be at least 1"}
	case c.replayBuffer < 1:
		return &OptionError{Option: "WithReplayBuffer", Reason: "must be at least 1"}
	case c.rate < 0 && c.rate != -1:
		return &OptionError{Option: "WithRate", Reason: "must be >= 0 or -1"}
	case c.clientLatency < 0:
		return &OptionError{Option: "WithClientLatency", Reason: "must not be negative"}
	}
	if err := c.validateContents(); err != nil {
		return err
	}
	for _, comp := range c.compressions {
		switch comp {
		case gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream:
		default:
			return &OptionError{Option: "WithCompressions", Reason: "unsupported compression " + strconv.Quote(string(comp)) +
				": want gateway.CompressionNone, CompressionZlibStream or CompressionZstdStream"}
		}
	}
	if c.ackDelay < time.Millisecond {
		c.ackDelay = time.Millisecond
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Option configures a Server built by [New] or [Start].
type Option func(*config)

// WithShards sets the shard count recommended by GET /gateway/bot
// (default 1). It does not limit what clients identify with.
func WithShards(n int) Option { return func(c *config) { c.shards = n } }

// WithGuilds sets how many guilds the bot is in (default 100). Guild i has a
// snowflake whose timestamp part is consecutive, so guilds spread evenly
// over any shard count.
func WithGuilds(n int) Option { return func(c *config) { c.guilds = n } }

// WithMembers sets the members per guild sent in GUILD_CREATE (default 10).
func WithMembers(n int) Option { return func(c *config) { c.members = n } }

// WithChannels sets the channels per guild (default 10): with 3 or more,
// channel 0 is a category and every fourth one a voice channel; the rest
// are text channels, which carry the MESSAGE_CREATE traffic.
func WithChannels(n int) Option { return func(c *config) { c.channels = n } }

// WithRoles sets the roles per guild, including @everyone (default 5).
func WithRoles(n int) Option { return func(c *config) { c.roles = n } }

// WithMaxConcurrency sets session_start_limit.max_concurrency (default 1).
// 0 is allowed: it is reported as 0, so a client's guard against a division
// by zero can be tested, and the server treats it as 1 for its buckets.
func WithMaxConcurrency(n int) Option { return func(c *config) { c.maxConcurrency = n } }

// WithSessionStartLimit sets the session start limit (default 1000 of
// 1000, reset after 24 h). Each accepted IDENTIFY spends one; when none
// remain, IDENTIFY is answered with op 9 d:false and counted in
// Counters.SessionLimitRefusals until resetAfter has passed since the
// server started (or since the last reset), when remaining returns to total.
func WithSessionStartLimit(total, remaining int, resetAfter time.Duration) Option {
	return func(c *config) {
		c.sessionTotal, c.sessionRemaining, c.sessionResetAfter = total, remaining, resetAfter
	}
}

// WithIdentifyWindow sets how long an identify bucket stays closed after an
// IDENTIFY (default 5 s, Discord's value). 0 disables the bucket check.
// The bot's identify queue must wait as long: give it
// [Server.IdentifyWindow] rather than the same number a second time.
func WithIdentifyWindow(d time.Duration) Option { return func(c *config) { c.identifyWindow = d } }

// IdentifyWindow returns the identify window the server enforces (see
// [WithIdentifyWindow]), for the bot's identify queue, so that a test sets
// the window once, on the fake:
//
//	fake := discordtest.New(t, discordtest.WithIdentifyWindow(time.Millisecond))
//	queue := shard.NewQueue(shard.WithIdentifyWindow(fake.IdentifyWindow()))
func (s *Server) IdentifyWindow() time.Duration { return s.cfg.identifyWindow }

// WithSendLimit sets how many payloads a client may send per window before
// the connection is closed with 4008 (default 120 per 60 s).
func WithSendLimit(n int, window time.Duration) Option {
	return func(c *config) { c.sendLimit, c.sendWindow = n, window }
}

// WithHeartbeatInterval sets the heartbeat_interval sent in HELLO
// (default 41.25 s).
func WithHeartbeatInterval(d time.Duration) Option {
	return func(c *config) { c.heartbeatInterval = d }
}

// WithAckDelay sets the delay between receiving a heartbeat and sending its
// ACK (default 1 ms; values under 1 ms are raised to 1 ms, because disgo's
// gateway counts an instant ACK as a zombie connection).
func WithAckDelay(d time.Duration) Option { return func(c *config) { c.ackDelay = d } }

// WithRate sets the initial traffic rate in dispatches per second per shard
// (default 0: none; -1: as fast as the connection takes them). See
// [Server.SetRate].
func WithRate(r float64) Option { return func(c *config) { c.rate = r } }

// WithToken sets the bot token the server accepts. The application ID is
// read from the token's first part (base64 of the ID) when it parses, and
// is a fixed default otherwise. By default a token is generated.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithLogger sets the logger (default: discard). The server logs with the
// attribute service=discordtest and, per connection, shard; never the token.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithMaxGuildsPerShard sets how many guilds one shard may own (default
// 2500). An IDENTIFY for a shard that would own more is closed with 4011.
func WithMaxGuildsPerShard(n int) Option { return func(c *config) { c.maxGuildsPerShard = n } }

// WithAllowedIntents sets which privileged intents the application may use
// (default: all). An IDENTIFY asking for a privileged intent outside this
// set is closed with 4014. Non-privileged intents are always allowed.
func WithAllowedIntents(i gateway.Intents) Option {
	return func(c *config) { c.allowedIntents = i }
}

// WithAddr sets the listen address (default "127.0.0.1:0").
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithCompressions sets the transport compressions the gateway accepts,
// as disgo's gateway.CompressionType (default: gateway.CompressionNone,
// gateway.CompressionZlibStream and gateway.CompressionZstdStream, all the
// server speaks). Any other value, gateway.CompressionZlibPayload included,
// makes Start fail with an *OptionError. A connection asking for a
// compression not in the list is closed with 4002.
func WithCompressions(cs ...gateway.CompressionType) Option {
	return func(c *config) { c.compressions = append([]gateway.CompressionType(nil), cs...) }
}

// WithReplayBuffer sets how many dispatches each session keeps for RESUME
// (default [DefaultReplayBuffer]). Each kept dispatch costs about 32 bytes;
// frames are re-rendered on replay. A RESUME whose seq is older than the
// oldest kept dispatch is answered with op 9 d:false.
func WithReplayBuffer(n int) Option { return func(c *config) { c.replayBuffer = n } }

// WithCloseGrace sets how long the server waits, after writing a close
// frame, for the client to close the TCP connection before closing it
// itself (default 2 s).
func WithCloseGrace(d time.Duration) Option { return func(c *config) { c.closeGrace = d } }

// WithWriteTimeout bounds each write of a batch of frames to a client
// (default 10 s); a client that does not read within it is dropped.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithDataNotLast makes every dispatch frame (READY, GUILD_CREATE,
// RESUMED, replays and traffic) carry one more member after "d":
// {"t":…,"s":…,"op":0,"d":{…},"_trace":["discordtest"]}. A JSON object
// allows it, though Discord writes "d" last; it tests a client that reads
// "d" lazily. Off by default.
func WithDataNotLast() Option { return func(c *config) { c.dataNotLast = true } }

// WithClientLatency delays every frame a client sends (heartbeats,
// IDENTIFY, RESUME, ...) by a random latency, uniform in [0, max] and drawn
// from a generator seeded with seed, before the server acts on it. The
// server times the frame when it arrives, after the delay: the identify
// window, the send limit and the heartbeat ACK count from then, as
// Discord's do. Frames of one connection keep their order: its reader
// delays them one after another, so a burst accumulates delay. Off (0) by
// default; change it live with [Server.SetClientLatency].
func WithClientLatency(max time.Duration, seed uint64) Option {
	return func(c *config) { c.clientLatency, c.latencySeed = max, seed }
}
