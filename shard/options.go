package shard

import (
	"log/slog"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/internal/wire"
)

// DefaultGatewayURL is the gateway dialled when WithURL is not given.
const DefaultGatewayURL = "wss://gateway.discord.gg"

// APIVersion is the gateway API version sent in the dial URL.
const APIVersion = 10

// MaxPayloadSize is the largest payload Discord accepts from a client.
const MaxPayloadSize = 4096

// config holds a Shard's settings. Build it with defaultConfig and Options.
type config struct {
	url              string
	proxy            string // WithGatewayProxy: dialled for every connection
	intents          gateway.Intents
	compression      gateway.CompressionType
	queue            Queue
	logger           *slog.Logger
	state            State
	dispatchBuffer   int
	backoffMin       time.Duration
	backoffMax       time.Duration
	invalidWaitMin   time.Duration
	invalidWaitMax   time.Duration
	jitter           func() float64
	sendLimit        int
	sendWindow       time.Duration
	sendReserved     int
	presence         *gateway.MessageDataPresenceUpdate
	largeThreshold   int
	os               string
	browser          string
	device           string
	hook             func(Event)
	closeTimeout     time.Duration
	writeTimeout     time.Duration
	readyTimeout     time.Duration
	readLimit        int64 // largest frame read, in bytes
	statsWindow      time.Duration
	heartbeatAckHook bool
	batchHandler     func(*Shard, []Dispatch) // WithBatchHandler; nil: the handler given to New
	readCoalescing   time.Duration            // WithReadCoalescing; 0: Go's netpoller
}

func defaultConfig() config {
	return config{
		url:            DefaultGatewayURL,
		intents:        gateway.IntentsDefault,
		compression:    gateway.CompressionNone,
		logger:         slog.Default(),
		dispatchBuffer: 1024,
		backoffMin:     time.Second,
		backoffMax:     2 * time.Minute,
		invalidWaitMin: time.Second,
		invalidWaitMax: 5 * time.Second,
		jitter:         rand.Float64,
		sendLimit:      120,
		sendWindow:     60 * time.Second,
		sendReserved:   5,
		largeThreshold: 50,
		os:             runtime.GOOS,
		browser:        "megane",
		device:         "megane",
		closeTimeout:   2 * time.Second,
		writeTimeout:   10 * time.Second,
		readyTimeout:   DefaultReadyTimeout,
		readLimit:      wire.MaxPayload,
		statsWindow:    10 * time.Second,
	}
}

func (c *config) apply(opts []Option) {
	for _, opt := range opts {
		opt(c)
	}
	if c.dispatchBuffer < 0 {
		c.dispatchBuffer = 0
	}
	if c.backoffMin <= 0 {
		c.backoffMin = time.Millisecond
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = c.backoffMin
	}
	if c.invalidWaitMin < 0 {
		c.invalidWaitMin = 0
	}
	if c.invalidWaitMax < c.invalidWaitMin {
		c.invalidWaitMax = c.invalidWaitMin
	}
	if c.sendLimit < 1 {
		c.sendLimit = 1
	}
	if c.sendReserved < 0 {
		c.sendReserved = 0
	}
	if c.sendReserved >= c.sendLimit {
		c.sendReserved = c.sendLimit - 1
	}
	if c.sendWindow <= 0 {
		c.sendWindow = time.Millisecond
	}
	if c.jitter == nil {
		c.jitter = rand.Float64
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.closeTimeout <= 0 {
		c.closeTimeout = time.Millisecond
	}
	if c.readyTimeout <= 0 {
		c.readyTimeout = DefaultReadyTimeout
	}
	if c.statsWindow <= 0 {
		c.statsWindow = time.Second
	}
}

// Option configures a Shard. Options are applied in order; later ones win.
type Option func(*config)

// WithURL sets the gateway URL to dial for a fresh session, without query
// string (for example "wss://gateway.discord.gg" or a discordtest server's
// GatewayURL). Resumes dial the resume_gateway_url from READY instead.
func WithURL(gatewayURL string) Option {
	return func(c *config) { c.url = gatewayURL }
}

// WithGatewayProxy makes the shard dial proxyURL for every connection,
// fresh sessions and resumes alike, instead of the gateway URL (WithURL,
// or the Manager's from GET /gateway/bot) and READY's
// resume_gateway_url. It is for a gateway proxy that holds the sessions
// itself and takes resumes too, such as gateway-proxy
// (github.com/Gelbpunkt/gateway-proxy): for example
// "ws://127.0.0.1:7878", without query string. REST is unaffected (see
// megane.WithAPIURL). A URL that is not ws:// or wss:// makes Open fail
// with ErrInvalidGatewayURL before any dial.
func WithGatewayProxy(proxyURL string) Option {
	return func(c *config) { c.proxy = proxyURL }
}

// WithIntents sets the gateway intents sent in IDENTIFY. Default:
// gateway.IntentsDefault.
func WithIntents(intents ...gateway.Intents) Option {
	return func(c *config) {
		var all gateway.Intents
		for _, i := range intents {
			all |= i
		}
		c.intents = all
	}
}

// WithCompression sets the transport compression, as sent in the
// `compress` parameter of the gateway URL (default
// gateway.CompressionNone, plain JSON). gateway.CompressionZlibStream and
// gateway.CompressionZstdStream are supported; compression costs CPU per
// event and saves bandwidth (see the README's benchmarks). Any other value,
// gateway.CompressionZlibPayload included, makes Open fail with an error
// matching ErrUnsupportedCompression, before anything is dialled.
func WithCompression(compression gateway.CompressionType) Option {
	return func(c *config) { c.compression = compression }
}

// WithQueue sets the identify queue. Every IDENTIFY waits on it; resumes do
// not. Share one Queue between all shards of a process. Default: a
// LocalQueue of the shard's own (right only for a single shard).
func WithQueue(queue Queue) Option {
	return func(c *config) { c.queue = queue }
}

// WithLogger sets the logger. Every line carries the shard id. Default:
// slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// WithState makes Open resume the given session instead of identifying.
// A zero State (no session id) means identify as usual.
func WithState(state State) Option {
	return func(c *config) { c.state = state }
}

// WithDispatchBuffer sets how many decoded dispatches wait for the
// handler in the shard's dispatch queue (default 1024), handled by a
// dispatch goroutine of the shard; when it is full the read loop waits
// (see Shard for the policy). 0 means no queue and no dispatch goroutine:
// the handler runs on the read loop, so it must hand the event on and
// return at once (a cluster's executor does; a blocking handler stalls
// the connection's reads, not its heartbeats), and it must return once
// the shard closes. Negative values mean 0.
func WithDispatchBuffer(n int) Option {
	return func(c *config) { c.dispatchBuffer = n }
}

// WithReadCoalescing sets how long incoming data may wait before the
// shard reads it, so that one wake-up serves every frame that arrived on
// every shard meanwhile. Go's netpoller wakes a reader for each TCP
// segment; at a gateway's paced traffic (one small frame at a time) those
// wake-ups, not decoding, are most of a shard's CPU. With d > 0 the
// connection is a socket the netpoller never sees, watched by one pacer
// goroutine per period (shared by every shard of the process with the
// same d) that wakes the readers with data, then sleeps d. The cost: an
// event is delivered up to d later than with the netpoller. Writes
// (heartbeats, identifies) are not delayed. 0 (or a negative d) reads
// through the netpoller. Only Linux paces; elsewhere d is ignored.
func WithReadCoalescing(d time.Duration) Option {
	return func(c *config) { c.readCoalescing = max(d, 0) }
}

// WithBackoff sets the reconnect backoff: the first retry after a healthy
// session is immediate, then waits grow from min, doubling up to max, each
// with jitter in [d/2, d]. Default 1 s to 2 min.
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(c *config) { c.backoffMin, c.backoffMax = minDelay, maxDelay }
}

// WithInvalidSessionWait sets the random wait in [min, max] after an
// opcode 9 with d:false before identifying again. Default 1 to 5 s, as
// Discord asks.
func WithInvalidSessionWait(minWait, maxWait time.Duration) Option {
	return func(c *config) { c.invalidWaitMin, c.invalidWaitMax = minWait, maxWait }
}

// WithHeartbeatJitter sets the source of the first heartbeat's jitter; it
// must return a value in [0, 1). Default: math/rand/v2.Float64.
func WithHeartbeatJitter(jitter func() float64) Option {
	return func(c *config) { c.jitter = jitter }
}

// WithSendLimit sets the gateway send limit: at most n frames per window,
// of which reserved are kept for heartbeats, IDENTIFY and RESUME (a user
// Send never uses them). Default 120 per 60 s with 5 reserved.
func WithSendLimit(n int, window time.Duration, reserved int) Option {
	return func(c *config) { c.sendLimit, c.sendWindow, c.sendReserved = n, window, reserved }
}

// WithPresence sets the presence sent in IDENTIFY.
func WithPresence(presence gateway.MessageDataPresenceUpdate) Option {
	return func(c *config) { c.presence = &presence }
}

// WithLargeThreshold sets IDENTIFY's large_threshold (50 to 250; default 50).
func WithLargeThreshold(n int) Option {
	return func(c *config) { c.largeThreshold = n }
}

// WithProperties sets IDENTIFY's connection properties. Default:
// runtime.GOOS, "megane", "megane".
func WithProperties(os, browser, device string) Option {
	return func(c *config) { c.os, c.browser, c.device = os, browser, device }
}

// WithEventHook sets a function called for each lifecycle Event. It is
// called synchronously from the shard's own goroutines, so it must be quick
// and must not call Close or Open on the shard; hand work off to another
// goroutine if needed.
func WithEventHook(hook func(Event)) Option {
	return func(c *config) { c.hook = hook }
}

// DefaultReadyTimeout is how long a shard waits for the gateway to answer
// by default (see WithReadyTimeout).
const DefaultReadyTimeout = 2 * time.Minute

// WithReadyTimeout bounds how long the gateway may take to answer: HELLO
// after the connection opened, and READY or RESUMED after the IDENTIFY or
// RESUME was written. The wait on the identify queue does not count. When
// it passes, the connection ends with ErrReadyTimeout (close 4000, so the
// session stays resumable): before the shard's first ready session that
// stops the shard and fails Open; after it, the shard reconnects. Default
// DefaultReadyTimeout; 0 or less keeps the default.
func WithReadyTimeout(d time.Duration) Option { return func(c *config) { c.readyTimeout = d } }

// WithCloseTimeout bounds how long Close waits for the gateway to answer
// the close frame before dropping the TCP connection (default 2 s). The
// context given to Close can end the wait earlier.
func WithCloseTimeout(d time.Duration) Option {
	return func(c *config) { c.closeTimeout = d }
}

// WithStatsWindow sets the window over which Stats computes events per
// second (default 10 s).
func WithStatsWindow(d time.Duration) Option {
	return func(c *config) { c.statsWindow = d }
}

// WithHeartbeatAckEvents makes the shard hand disgo's EventTypeHeartbeatAck
// to the handler after each ACK, as disgo's own gateway does. The event is
// offered without waiting: it is skipped when the dispatch buffer is full.
// Default off.
func WithHeartbeatAckEvents(on bool) Option {
	return func(c *config) { c.heartbeatAckHook = on }
}
