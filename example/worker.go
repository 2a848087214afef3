package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/stats"
	"github.com/megane-go/megane/store"
)

// replyQueueSize bounds a worker's queue of pending replies. When it is full,
// a command is not answered and counted in replyDropped: the listener never
// waits for the REST API or the bus, so neither can stall the cluster's
// dispatch.
const replyQueueSize = 64

// cooldownBucket is the central store's bucket of per-user !ping counts
// inside the cooldown window, shared by every cluster.
const cooldownBucket = "ping_cooldown"

// commandTimeout bounds each bus request a reply makes.
const commandTimeout = 5 * time.Second

// messageSender is the part of disgo's rest.Rest the worker uses. rest.Rest
// implements it; tests pass a recorder.
type messageSender interface {
	CreateMessage(channelID snowflake.ID, messageCreate discord.MessageCreate, opts ...rest.RequestOpt) (*discord.Message, error)
}

// backend is what replies ask of the rest of the process over the bus.
// busBackend implements it; tests pass a fake.
type backend interface {
	// pings sends a command to the ping counter service.
	pings(ctx context.Context, cmd string) (int64, error)
	// stats returns the Manager's aggregated stats.
	stats(ctx context.Context) (stats.Snapshot, error)
}

// busBackend reaches the service and the Manager through a cluster's bus.
type busBackend struct {
	b    *bus.Bus
	from bus.Address
}

func (bb busBackend) pings(ctx context.Context, cmd string) (int64, error) {
	return bus.Request[int64](ctx, bb.b, bb.from, bus.Service(pingService), cmd, nil)
}

func (bb busBackend) stats(ctx context.Context) (stats.Snapshot, error) {
	return megane.RequestStats(ctx, bb.b)
}

// shared is what every worker of the process shares: the master's counters,
// the cooldown window and the "first reply failure logged" flag. It is built
// once by the master and read-only afterwards.
type shared struct {
	counters *counters
	ttl      time.Duration           // the !ping cooldown window; 0 disables it
	warned   *atomic.Bool            // set once the first reply failure was logged
	replied  func(replyKind, string) // test hook, called with each accepted reply's content; may be nil
}

// pingBot is the example's cluster worker. A new pingBot is made for every
// (re)start of a cluster (see newWorker); what must survive a restart lives in
// shared, in the central store and in the ping counter service. Its listeners
// run on the cluster's one dispatch goroutine; its reply goroutine is owned
// by the incarnation and stops on Shutdown or when the incarnation's context
// ends.
type pingBot struct {
	shared *shared

	// Set by Launch (or start), before any listener runs.
	c        *clusterCounters
	log      *slog.Logger
	sender   messageSender
	backend  backend
	cooldown *store.Bucket[snowflake.ID, int]
	replies  chan reply
	cancel   context.CancelFunc
	done     chan struct{}

	// lastSeq is only touched by the dispatch goroutine.
	lastSeq map[int]int
}

var (
	_ cluster.Worker     = (*pingBot)(nil)
	_ cluster.Shutdowner = (*pingBot)(nil)
	_ bus.StatsProvider  = (*pingBot)(nil)
)

// replyKind says which command a reply answers.
type replyKind uint8

const (
	replyPong  replyKind = iota + 1 // !ping
	replyStats                      // !stats
)

// reply is one answer to send.
type reply struct {
	kind    replyKind
	channel snowflake.ID
	message snowflake.ID
}

// newWorker returns the worker factory handed to megane.WithWorker.
func newWorker(s *shared) func() cluster.Worker {
	return func() cluster.Worker { return &pingBot{shared: s} }
}

// Launch opens the cooldown bucket, registers the listeners and starts the
// reply goroutine.
func (b *pingBot) Launch(ctx context.Context, c *cluster.Cluster) error {
	cooldown, err := store.Open[snowflake.ID, int](c.Store(), cooldownBucket)
	if err != nil {
		return fmt.Errorf("example: open the cooldown bucket: %w", err)
	}
	b.start(ctx, c.ID(), c.Logger(), c.Client().Rest, busBackend{b: c.Bus(), from: c.Address()}, cooldown)
	c.AddEventListeners(bot.NewListenerFunc(b.onEvent), bot.NewListenerFunc(b.onMessage))
	return nil
}

// start sets the worker up and starts its reply goroutine, which stops when
// ctx ends or Shutdown is called.
func (b *pingBot) start(ctx context.Context, clusterID int, log *slog.Logger, sender messageSender, be backend,
	cooldown *store.Bucket[snowflake.ID, int]) {
	b.c, b.log, b.sender, b.backend, b.cooldown = b.shared.counters.cluster(clusterID), log, sender, be, cooldown
	b.lastSeq = make(map[int]int)
	b.replies = make(chan reply, replyQueueSize)
	b.done = make(chan struct{})
	rctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	go b.replyLoop(rctx)
}

// Shutdown stops the reply goroutine and waits for it (replies still queued
// are not sent).
func (b *pingBot) Shutdown(ctx context.Context) error {
	if b.cancel == nil {
		return nil
	}
	b.cancel()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats adds the cluster's counters to its stats (megane_custom in
// Prometheus). It reads atomics only, so it is safe beside the listeners.
func (b *pingBot) Stats() map[string]any {
	if b.c == nil {
		return nil
	}
	return map[string]any{
		"events":   b.c.events.Load(),
		"messages": b.c.messages.Load(),
		"pings":    b.c.pings.Load(),
		"pongs":    b.c.pongs.Load(),
	}
}

// sequenced is implemented by every disgo event that came from a gateway
// dispatch (through the embedded *events.GenericEvent).
type sequenced interface {
	SequenceNumber() int
	ShardID() int
}

// onEvent counts gateway dispatches. disgo turns one dispatch into several
// events (MESSAGE_CREATE gives MessageCreate and GuildMessageCreate), which
// share the dispatch's shard and sequence number, so a dispatch is counted
// once.
func (b *pingBot) onEvent(e bot.Event) {
	s, ok := e.(sequenced)
	if !ok || s.SequenceNumber() <= 0 {
		return
	}
	if b.lastSeq[s.ShardID()] == s.SequenceNumber() {
		return
	}
	b.lastSeq[s.ShardID()] = s.SequenceNumber()
	b.shared.counters.countEvent(b.c)
}

// onMessage counts users' messages and answers the commands.
func (b *pingBot) onMessage(e *events.MessageCreate) {
	b.handleMessage(e.Message)
}

// handleMessage is onMessage for a plain message (tests call it directly).
// It never blocks: replies are queued for the reply goroutine.
func (b *pingBot) handleMessage(m discord.Message) {
	if m.Author.Bot {
		return
	}
	b.c.messages.Add(1)
	switch strings.TrimSpace(m.Content) {
	case "!ping":
		b.c.pings.Add(1)
		if b.onCooldown(m.Author.ID) {
			b.c.cooldowns.Add(1)
			return
		}
		b.queue(reply{kind: replyPong, channel: m.ChannelID, message: m.ID})
	case "!stats":
		b.c.statsCommands.Add(1)
		b.queue(reply{kind: replyStats, channel: m.ChannelID, message: m.ID})
	}
}

// onCooldown counts a !ping of user and reports whether the user already
// pinged inside the window. The count lives in the central store, so the
// cooldown holds across clusters (a user in guilds of two clusters still
// gets one pong per window) and across restarts.
func (b *pingBot) onCooldown(user snowflake.ID) bool {
	if b.shared.ttl <= 0 {
		return false
	}
	n, _ := b.cooldown.ComputeTTL(user, b.shared.ttl, func(old int, _ bool) (int, store.Op) {
		return old + 1, store.OpUpdate
	})
	return n > 1
}

// queue hands r to the reply goroutine, or drops it if the queue is full.
func (b *pingBot) queue(r reply) {
	select {
	case b.replies <- r:
	default:
		b.c.replyDropped.Add(1)
	}
}

// replyLoop sends the queued replies until ctx ends.
func (b *pingBot) replyLoop(ctx context.Context) {
	defer close(b.done)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-b.replies:
			b.reply(ctx, r)
		}
	}
}

// reply answers one command through the REST API (the embedded fake
// records what it is sent: discordtest's Server.Posted). The first failure
// to send of the process is logged with its error; later ones are only
// counted, so an API that refuses every message does not flood the log.
func (b *pingBot) reply(ctx context.Context, r reply) {
	var content string
	switch r.kind {
	case replyPong:
		b.countPing(ctx)
		content = "pong"
	case replyStats:
		content = b.statsText(ctx)
	}
	msg := discord.MessageCreate{
		Content:          content,
		MessageReference: &discord.MessageReference{MessageID: &r.message},
		AllowedMentions:  &discord.AllowedMentions{RepliedUser: false},
	}
	_, err := b.sender.CreateMessage(r.channel, msg, rest.WithCtx(ctx))
	if err == nil {
		switch r.kind {
		case replyPong:
			b.c.pongs.Add(1)
		case replyStats:
			b.c.statsReplies.Add(1)
		}
		if b.shared.replied != nil {
			b.shared.replied(r.kind, content)
		}
		return
	}
	if ctx.Err() != nil {
		return // shutting down: not the API's fault
	}
	b.c.replyErrors.Add(1)
	if b.shared.warned.CompareAndSwap(false, true) {
		b.log.Warn("reply failed; further failures are only counted (ping_reply_errors)",
			slog.Uint64("channel", uint64(r.channel)), slog.Any("err", err))
	}
}

// countPing tells the ping counter service about one answered !ping. The
// pong goes out even if the service is restarting.
func (b *pingBot) countPing(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	if _, err := b.backend.pings(cctx, cmdIncr); err != nil && ctx.Err() == nil {
		b.c.serviceErrors.Add(1)
		b.log.Debug("ping counter service unavailable", slog.Any("err", err))
	}
}

// statsText answers !stats from the Manager's aggregated stats and the ping
// counter service.
func (b *pingBot) statsText(ctx context.Context) string {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	snap, err := b.backend.stats(cctx)
	if err != nil {
		b.c.serviceErrors.Add(1)
		return "stats are unavailable right now"
	}
	t := snap.Totals
	text := fmt.Sprintf("clusters ready %d/%d, shards ready %d/%d, guilds %d, %.1f events/s, up %s",
		t.ClustersReady, t.Clusters, t.ShardsReady, t.Shards, t.Guilds, t.EventsPerSecond,
		snap.Manager.Uptime.Truncate(time.Second))
	if n, err := b.backend.pings(cctx, cmdCount); err == nil {
		text += fmt.Sprintf(", pings answered %d", n)
	} else {
		b.c.serviceErrors.Add(1)
	}
	return text
}
