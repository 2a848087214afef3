package bus

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Defaults used by [New].
const (
	// DefaultMailboxSize is the default number of messages a mailbox holds.
	DefaultMailboxSize = 256
	// DefaultFanout is the default number of goroutines one broadcast or
	// eval may start to wait for room in full mailboxes.
	DefaultFanout = 32
	// DefaultRequestTimeout bounds a request whose context has no deadline.
	DefaultRequestTimeout = 30 * time.Second
)

// GuildResolver returns the ID of the cluster that owns a guild, and false if
// no cluster owns it. It is called on the sender's goroutine for every message
// to a [GuildOwner] address, so it must be fast and safe for concurrent use.
type GuildResolver func(guildID uint64) (clusterID int, ok bool)

type config struct {
	logger         *slog.Logger
	resolver       GuildResolver
	mailboxSize    int
	fanout         int
	requestTimeout time.Duration
}

func defaultConfig() config {
	return config{
		logger:         slog.Default(),
		mailboxSize:    DefaultMailboxSize,
		fanout:         DefaultFanout,
		requestTimeout: DefaultRequestTimeout,
	}
}

// Option configures a [Bus].
type Option func(*config)

// WithLogger sets the logger. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithGuildResolver sets how a [GuildOwner] address finds its cluster.
// Without one, every message to a GuildOwner address fails with [ErrNoTarget].
func WithGuildResolver(r GuildResolver) Option {
	return func(c *config) { c.resolver = r }
}

// WithMailboxSize sets the default capacity of a mailbox (at least 1; the
// default is [DefaultMailboxSize]). [WithCapacity] overrides it per mailbox.
func WithMailboxSize(n int) Option {
	return func(c *config) { c.mailboxSize = max(n, 1) }
}

// WithFanout bounds the goroutines one broadcast or eval starts (at least 1;
// the default is [DefaultFanout]). A broadcast offers its message to every
// target without blocking and starts goroutines only for targets whose
// mailbox is full, to wait for room as [Request] does.
func WithFanout(n int) Option {
	return func(c *config) { c.fanout = max(n, 1) }
}

// WithRequestTimeout bounds requests, broadcasts and evals whose context has
// no deadline (the default is [DefaultRequestTimeout]). Zero or less means no
// bound: such a request can wait as long as its context lives.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) { c.requestTimeout = d }
}

// transport is the routing seam. The in-process implementation delivers into
// local mailboxes; a networked one can be added later without changing the
// public API. A delivered request's reply must arrive on its reply channel.
type transport interface {
	// deliver puts msg into the mailbox of msg.To, a concrete address,
	// following mode when the mailbox is full.
	deliver(ctx context.Context, msg *delivery, mode deliveryMode) error
	// members returns the known concrete addresses of a group, sorted. The
	// slice may be shared and must not be modified.
	members(group kind) []Address
}

var _ transport = (*localTransport)(nil)

// deliveryMode says what deliver does when the mailbox is full.
type deliveryMode uint8

const (
	// deliverNow fails at once with ErrMailboxFull, counted (Send).
	deliverNow deliveryMode = iota
	// deliverTry fails at once with errFullTry, not counted: the caller
	// retries with deliverWait (broadcast fan-out).
	deliverTry
	// deliverWait waits for room until ctx ends (Request).
	deliverWait
)

// Bus routes messages between the manager, the clusters and the services of
// one process. Create it with [New]; the zero Bus is not usable. A Bus is safe
// for concurrent use and must not be copied. It starts no goroutines of its
// own: handlers run on the goroutines that call [Mailbox.Serve], and a
// broadcast's fan-out goroutines end before it returns.
type Bus struct {
	cfg   config
	log   *slog.Logger
	local *localTransport
	tr    transport

	funcsMu sync.RWMutex
	funcs   map[string]*namedFunc
}

// New returns a Bus configured by opts.
func New(opts ...Option) *Bus {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	b := &Bus{
		cfg:   cfg,
		log:   cfg.logger.With(slog.String("component", "bus")),
		funcs: make(map[string]*namedFunc),
	}
	b.local = newLocalTransport()
	b.tr = b.local
	return b
}

// Attach attaches a mailbox for addr, a concrete address (the manager, a
// cluster or a service), and returns it. The caller owns the mailbox and must
// drain it by running [Mailbox.Serve]; messages wait in the mailbox until
// then. h may be nil if the target only answers evals.
//
// Attaching an address that was detached (a restart) replaces the old
// mailbox. Attaching an address that is attached fails with
// [ErrAlreadyAttached].
func (b *Bus) Attach(addr Address, h Handler, opts ...MailboxOption) (*Mailbox, error) {
	if err := addr.Validate(); err != nil {
		return nil, err
	}
	if !addr.isConcrete() {
		return nil, &AddressError{Text: addr.String(), Reason: "attach needs a concrete address"}
	}
	mc := mailboxConfig{capacity: b.cfg.mailboxSize}
	for _, o := range opts {
		o(&mc)
	}
	m := newMailbox(b, addr, h, mc)
	if err := b.local.attach(m); err != nil {
		return nil, err
	}
	b.log.Debug("bus: attached", addr.logAttr(), slog.Int("capacity", mc.capacity))
	return m, nil
}

// Forget removes addr from the bus: later messages to it fail with
// [ErrNoTarget] and broadcasts leave it out. If a mailbox is still attached
// it is detached first (see [Mailbox.Detach]). Forgetting an unknown address
// does nothing.
func (b *Bus) Forget(addr Address) {
	if m := b.local.forget(addr); m != nil {
		m.detach()
	}
	b.log.Debug("bus: forgotten", addr.logAttr())
}

// members returns the known concrete targets that addr resolves to, sorted:
// every known cluster for [AllClusters] (attached or detached), every known
// service for [AllServices], the owning cluster for a [GuildOwner] address,
// and addr itself for a concrete address, known or not. The caller owns the
// returned slice.
func (b *Bus) members(addr Address) ([]Address, error) {
	m, err := b.resolve(addr)
	return slices.Clone(m), err
}

// resolve is members without the copy: the result may be shared and must not
// be modified.
func (b *Bus) resolve(addr Address) ([]Address, error) {
	if err := addr.Validate(); err != nil {
		return nil, err
	}
	switch addr.kind {
	case kindNone:
		return nil, &AddressError{Text: addr.String(), Reason: "no target"}
	case kindAllClusters:
		return b.tr.members(kindCluster), nil
	case kindAllServices:
		return b.tr.members(kindService), nil
	case kindGuildOwner:
		a, err := b.resolveGuild(addr.Guild)
		if err != nil {
			return nil, err
		}
		return []Address{a}, nil
	default:
		return []Address{addr}, nil
	}
}

func (b *Bus) resolveGuild(guild uint64) (Address, error) {
	if b.cfg.resolver == nil {
		return Address{}, fmt.Errorf("%w: guild/%d: no guild resolver configured", ErrNoTarget, guild)
	}
	id, ok := b.cfg.resolver(guild)
	if !ok || id < 0 {
		return Address{}, fmt.Errorf("%w: guild/%d has no owning cluster", ErrNoTarget, guild)
	}
	return Cluster(id), nil
}

// single resolves to, which must name exactly one target.
func (b *Bus) single(to Address) (Address, error) {
	if err := to.Validate(); err != nil {
		return Address{}, err
	}
	switch {
	case to.isConcrete():
		return to, nil
	case to.kind == kindGuildOwner:
		return b.resolveGuild(to.Guild)
	default:
		return Address{}, &AddressError{Text: to.String(), Reason: "a request needs one target; use Broadcast for a group"}
	}
}

// withDeadline applies the bus's default request timeout to ctx if ctx has
// no deadline.
func (b *Bus) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || b.cfg.requestTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, b.cfg.requestTimeout)
}
