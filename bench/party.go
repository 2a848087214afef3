package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/disgo/sharding"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/wire"
	"github.com/megane-go/megane/shard"
)

// The parties a bot child can run.
const (
	partyMegane = "megane" // a megane.Manager (clusters of disgo clients over our shards)
	partyDisgo  = "disgo"  // a plain disgo bot.Client with disgo's own sharding
)

// The JSON engines a bot child can install before anything decodes.
const (
	engineFast = "fast" // wire.UseFastJSON
	engineStd  = "std"  // encoding/json (v2 inside when built with GOEXPERIMENT=jsonv2)
)

// The cache implementations a megane party can run with.
const (
	cacheDisgo   = ""        // disgo's cache.New with exactly the given flags
	cacheCompact = "compact" // megane's compact cache (package cache) with the given flags
	cacheMegane  = "default" // no cache option: the Manager's DefaultCacheFlags on disgo's caches
)

// benchIntents are the intents every party identifies with.
const benchIntents = gateway.IntentsNonPrivileged | gateway.IntentGuildMembers | gateway.IntentMessageContent

// partySpec says which bot to run against which fake.
type partySpec struct {
	Party       string    `json:"party"`
	Engine      string    `json:"engine"`
	Shards      int       `json:"shards"`
	Clusters    int       `json:"clusters"`
	Compression string    `json:"compression"`
	Caches      []int     `json:"caches"`     // disgo cache.Flags; empty: none
	CacheImpl   string    `json:"cache_impl"` // for megane: cacheDisgo (default), cacheCompact or cacheMegane
	Guilds      int       `json:"guilds"`     // how many guild events mean "ready"
	Fake        fakeAddr  `json:"fake"`
	CPUProfile  string    `json:"cpuprofile,omitempty"`
	Debug       bool      `json:"debug,omitempty"` // log at debug level to stderr (startup child)
	Bench       benchPlan `json:"bench"`
	Work        int       `json:"work,omitempty"` // rounds of spin the handler runs per MESSAGE_CREATE; 0: it only counts
}

// counter is the bot's event listener: it counts the events the benches
// wait for. It is the whole "user handler" of every party, so every
// party does the same work per event.
//
// Message counts live in one slot per shard, each on its own cache lines:
// the goroutines that run handlers (one per cluster for Megane, one per
// shard for disgo) then never write to a shared cache line per event, so
// the harness adds no cross-core traffic to any party's figures. A wait
// for a round of messages is armed per shard before the round is sent.
type counter struct {
	slots   []slot
	pending atomic.Int64  // shards whose round target is not reached yet
	ready   atomic.Int64  // *events.Ready (one per shard session)
	guilds  atomic.Int64  // guild ready, available or join
	hit     chan struct{} // capacity 1: every shard reached its round target
	change  chan struct{} // capacity 1: ready or guilds changed
	work    int           // rounds of spin per MESSAGE_CREATE; set before the bot starts
}

// slot is one shard's counts.
type slot struct {
	_      [128]byte
	msgs   atomic.Int64  // *events.MessageCreate
	mixed  atomic.Int64  // MESSAGE_CREATE, GUILD_MEMBER_ADD, MESSAGE_REACTION_ADD, TYPING_START
	target atomic.Int64  // msgs value that ends this shard's round; -1 when unarmed
	sink   atomic.Uint64 // spin's last result, so the work cannot be optimised away
}

// spin is the handler work of the working-handler parties: n rounds of a
// xorshift from x. It is a fixed amount of CPU per call whatever the
// input, and its result depends on every round.
func spin(x uint64, n int) uint64 {
	x |= 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

var _ bot.EventListener = (*counter)(nil)

// newCounter returns a counter for shards shards (at least 1).
func newCounter(shards int) *counter {
	c := &counter{slots: make([]slot, max(1, shards)), hit: make(chan struct{}, 1), change: make(chan struct{}, 1)}
	for i := range c.slots {
		c.slots[i].target.Store(-1)
	}
	return c
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// slotOf returns the slot of the shard that e came from.
func (c *counter) slotOf(e interface{ ShardID() int }) *slot {
	return &c.slots[e.ShardID()%len(c.slots)]
}

// OnEvent implements bot.EventListener.
func (c *counter) OnEvent(e bot.Event) {
	switch e := e.(type) {
	case *events.MessageCreate:
		s := c.slotOf(e)
		if c.work > 0 {
			s.sink.Store(spin(uint64(e.MessageID), c.work))
		}
		s.mixed.Add(1)
		if s.msgs.Add(1) == s.target.Load() && c.pending.Add(-1) == 0 {
			notify(c.hit)
		}
	case *events.GuildMemberJoin:
		c.slotOf(e).mixed.Add(1)
	case *events.MessageReactionAdd:
		c.slotOf(e).mixed.Add(1)
	case *events.UserTypingStart:
		c.slotOf(e).mixed.Add(1)
	case *events.Ready:
		c.ready.Add(1)
		notify(c.change)
	case *events.GuildReady, *events.GuildAvailable, *events.GuildJoin:
		c.guilds.Add(1)
		notify(c.change)
	}
}

// msgs is the number of MESSAGE_CREATEs counted so far.
func (c *counter) msgs() int64 {
	var n int64
	for i := range c.slots {
		n += c.slots[i].msgs.Load()
	}
	return n
}

// mixed is the number of mixed-stream events counted so far.
func (c *counter) mixed() int64 {
	var n int64
	for i := range c.slots {
		n += c.slots[i].mixed.Load()
	}
	return n
}

// expect arms a round: every shard is to receive perShard more
// MESSAGE_CREATEs. Call it before the round is sent, then waitMsgs. The
// previous round must be complete.
func (c *counter) expect(perShard int) {
	select {
	case <-c.hit:
	default:
	}
	c.pending.Store(int64(len(c.slots)))
	for i := range c.slots {
		s := &c.slots[i]
		s.target.Store(s.msgs.Load() + int64(perShard))
	}
}

// waitMsgs waits until every shard reached the target of the armed round.
func (c *counter) waitMsgs(ctx context.Context) error {
	select {
	case <-c.hit:
		return nil
	case <-ctx.Done():
		if c.pending.Load() <= 0 {
			return nil
		}
		return fmt.Errorf("waiting for MESSAGE_CREATE: %d of %d shards complete, %d messages in all: %w",
			int64(len(c.slots))-c.pending.Load(), len(c.slots), c.msgs(), ctx.Err())
	}
}

// waitReady waits until every shard is READY and every guild arrived.
func (c *counter) waitReady(ctx context.Context, shards, guilds int) error {
	for c.ready.Load() < int64(shards) || c.guilds.Load() < int64(guilds) {
		select {
		case <-c.change:
		case <-ctx.Done():
			return fmt.Errorf("waiting for ready: %d/%d shards, %d/%d guilds: %w",
				c.ready.Load(), shards, c.guilds.Load(), guilds, ctx.Err())
		}
	}
	return nil
}

// party is a running bot.
type party struct {
	stop    func()          // stops the bot; bounded in time
	manager *megane.Manager // set for partyMegane
}

// installEngine installs the JSON engine of spec before anything decodes.
// megane.New installs the fast engine unless megane.UseStdJSON ran first,
// so the std engine is chosen through Megane's public switch.
func installEngine(engine string) {
	if engine == engineFast {
		wire.UseFastJSON()
		return
	}
	megane.UseStdJSON()
}

// cacheFlags ORs the flags of a spec.
func cacheFlags(flags []int) cache.Flags {
	var f cache.Flags
	for _, x := range flags {
		f |= cache.Flags(x)
	}
	return f
}

// cacheOpt returns the cache option for the flags in spec, for a plain
// disgo client (whose default is no caches).
func cacheOpt(flags []int) bot.ConfigOpt {
	return bot.WithCacheConfigOpts(cache.WithCaches(cacheFlags(flags)))
}

// meganeCacheOpts returns the Manager options that give a megane party
// exactly the caches of spec, one new Caches value per cluster.
func meganeCacheOpts(spec partySpec) []megane.Option {
	flags := cacheFlags(spec.Caches)
	switch spec.CacheImpl {
	case cacheMegane:
		return nil
	case cacheCompact:
		return []megane.Option{megane.WithCacheFlags(flags)}
	}
	return []megane.Option{megane.WithCacheFlags(flags), megane.WithDisgoCache()}
}

// startParty starts the bot of spec, with c as its only listener, and
// returns once it runs (not necessarily ready: see counter.waitReady).
func startParty(ctx context.Context, spec partySpec, c *counter) (*party, error) {
	discard := slog.New(slog.DiscardHandler)
	switch spec.Party {
	case partyMegane:
		return startMegane(ctx, spec, c, discard, nil)
	case partyDisgo:
		ids := make([]int, spec.Shards)
		for i := range ids {
			ids[i] = i
		}
		client, err := disgo.New(spec.Fake.Token,
			bot.WithLogger(discard),
			bot.WithRestClientConfigOpts(rest.WithURL(spec.Fake.APIURL)),
			bot.WithShardManagerConfigOpts(
				sharding.WithShardIDs(ids...), sharding.WithShardCount(spec.Shards),
				sharding.WithAutoScaling(false), sharding.WithLogger(discard),
				sharding.WithGatewayConfigOpts(gateway.WithIntents(benchIntents), gateway.WithLogger(discard),
					gateway.WithCompression(gateway.CompressionType(spec.Compression))),
				sharding.WithIdentifyRateLimiterConfigOpt(gateway.WithIdentifyWait(time.Millisecond),
					gateway.WithIdentifyRateLimiterLogger(discard)),
			),
			cacheOpt(spec.Caches),
			bot.WithEventListeners(c),
		)
		if err != nil {
			return nil, err
		}
		if err := client.OpenShardManager(ctx); err != nil {
			return nil, err
		}
		return &party{stop: func() {
			// disgo's identify limiter can hang in Close: bound it.
			closeBounded(func(ctx context.Context) { client.Close(ctx) })
		}}, nil
	}
	return nil, fmt.Errorf("unknown party %q", spec.Party)
}

// startMegane runs a megane.Manager; hook, when set, sees its events.
func startMegane(ctx context.Context, spec partySpec, c *counter, log *slog.Logger, hook func(cluster.Event)) (*party, error) {
	clusters := spec.Clusters
	if clusters <= 0 {
		clusters = runtime.GOMAXPROCS(0)
	}
	opts := []megane.Option{
		megane.WithWorker(func() cluster.Worker {
			return cluster.WorkerFunc(func(_ context.Context, cl *cluster.Cluster) error {
				cl.AddEventListeners(c)
				return nil
			})
		}),
		megane.WithShards(spec.Shards), megane.WithClusters(clusters),
		megane.WithAPIURL(spec.Fake.APIURL), megane.WithLogger(log),
		megane.WithIntents(benchIntents),
		megane.WithCompression(gateway.CompressionType(spec.Compression)),
		megane.WithShardOptions(shard.WithLogger(log)),
	}
	opts = append(opts, meganeCacheOpts(spec)...)
	if d := spec.Bench.ReadCoalescing; d != nil {
		opts = append(opts, megane.WithShardOptions(shard.WithReadCoalescing(*d)))
	}
	if spec.Bench.WindowMs > 0 {
		// A scaled identify window scales the op 9 wait with it: Discord's
		// 1 to 5 s against its 5 s window.
		w := time.Duration(spec.Bench.WindowMs * float64(time.Millisecond))
		opts = append(opts, megane.WithQueueOptions(shard.WithIdentifyWindow(w)),
			megane.WithShardOptions(shard.WithInvalidSessionWait(w/5, w)))
		if spec.Bench.MarginMs > 0 {
			opts = append(opts, megane.WithQueueOptions(
				shard.WithIdentifyMargin(time.Duration(spec.Bench.MarginMs*float64(time.Millisecond)))))
		}
	} else {
		opts = append(opts, megane.WithQueueOptions(shard.WithIdentifyWindow(time.Millisecond)))
	}
	if hook != nil {
		opts = append(opts, megane.WithEventHandler(hook))
	}
	m, err := megane.New(spec.Fake.Token, opts...)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	var once sync.Once
	p := &party{stop: func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					fmt.Fprintln(stderr, "megane.Run:", err)
				}
			case <-time.After(10 * time.Second):
				fmt.Fprintln(stderr, "megane.Run did not return within 10 s of cancel")
			}
		})
	}}
	p.manager = m
	return p, nil
}

// closeBounded runs close with a context of 5 s and gives up waiting
// after 6 s (the child exits right after, ending whatever is stuck).
func closeBounded(closeFn func(context.Context)) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		closeFn(ctx)
	}()
	select {
	case <-done:
	case <-time.After(6 * time.Second):
	}
}
