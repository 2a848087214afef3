package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/stats"
	"github.com/megane-go/megane/store"
)

// recorder is a messageSender that records what it was asked to send and
// fails when err is set.
type recorder struct {
	mu   sync.Mutex
	sent []sentMessage
	err  error
}

type sentMessage struct {
	channel snowflake.ID
	msg     discord.MessageCreate
}

func (r *recorder) CreateMessage(channelID snowflake.ID, m discord.MessageCreate, _ ...rest.RequestOpt) (*discord.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sentMessage{channel: channelID, msg: m})
	if r.err != nil {
		return nil, r.err
	}
	return &discord.Message{ID: 1, ChannelID: channelID, Content: m.Content}, nil
}

func (r *recorder) messages() []sentMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentMessage(nil), r.sent...)
}

func msg(id, channel, author snowflake.ID, content string, isBot bool) discord.Message {
	return discord.Message{ID: id, ChannelID: channel, Content: content,
		Author: discord.User{ID: author, Bot: isBot}}
}

// fakeBackend is a backend with a ping counter and a fixed snapshot; err
// makes every call fail.
type fakeBackend struct {
	n    atomic.Int64
	snap stats.Snapshot
	err  error
}

func (f *fakeBackend) pings(_ context.Context, cmd string) (int64, error) {
	if f.err != nil {
		return 0, f.err
	}
	if cmd == cmdIncr {
		return f.n.Add(1), nil
	}
	return f.n.Load(), nil
}

func (f *fakeBackend) stats(context.Context) (stats.Snapshot, error) {
	return f.snap, f.err
}

// newTestBot builds a started pingBot over a fresh store, as Launch does,
// without a cluster. It must run inside a synctest bubble.
func newTestBot(t *testing.T, sender messageSender, be backend, cooldown time.Duration, log *slog.Logger) (*pingBot, *counters) {
	t.Helper()
	st := store.New()
	t.Cleanup(st.Close)
	bucket, err := store.Open[snowflake.ID, int](st, cooldownBucket)
	if err != nil {
		t.Fatal(err)
	}
	cnt := newCounters(nil)
	b := &pingBot{shared: &shared{counters: cnt, ttl: cooldown, warned: new(atomic.Bool)}}
	b.start(t.Context(), 0, log, sender, be, bucket)
	t.Cleanup(func() {
		if err := b.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return b, cnt
}

// TestPingBot feeds messages to the worker and checks the replies and the
// counters. Each case runs in a synctest bubble: synctest.Wait returns once
// the reply goroutine has sent everything and is idle again.
func TestPingBot(t *testing.T) {
	t.Parallel()
	const user, other, channel = 100, 200, 300
	cases := []struct {
		name     string
		msgs     []discord.Message
		cooldown time.Duration
		wantSent int
		want     clusterTotals
	}{
		{name: "ping gets pong", msgs: []discord.Message{msg(1, channel, user, "!ping", false)},
			cooldown: time.Second, wantSent: 1, want: clusterTotals{messages: 1, pings: 1, pongs: 1}},
		{name: "spaces around the command", msgs: []discord.Message{msg(1, channel, user, "  !ping\n", false)},
			cooldown: time.Second, wantSent: 1, want: clusterTotals{messages: 1, pings: 1, pongs: 1}},
		{name: "other messages are only counted", msgs: []discord.Message{msg(1, channel, user, "hello", false), msg(2, channel, user, "!pingx", false)},
			cooldown: time.Second, want: clusterTotals{messages: 2}},
		{name: "bots are ignored", msgs: []discord.Message{msg(1, channel, user, "!ping", true)},
			cooldown: time.Second, want: clusterTotals{}},
		{name: "cooldown per user", msgs: []discord.Message{msg(1, channel, user, "!ping", false), msg(2, channel, user, "!ping", false),
			msg(3, channel, other, "!ping", false)},
			cooldown: time.Second, wantSent: 2, want: clusterTotals{messages: 3, pings: 3, cooldowns: 1, pongs: 2}},
		{name: "no cooldown", msgs: []discord.Message{msg(1, channel, user, "!ping", false), msg(2, channel, user, "!ping", false)},
			wantSent: 2, want: clusterTotals{messages: 2, pings: 2, pongs: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				b, cnt := newTestBot(t, rec, &fakeBackend{}, tc.cooldown, slog.New(slog.DiscardHandler))
				for _, m := range tc.msgs {
					b.handleMessage(m)
				}
				synctest.Wait()
				sent := rec.messages()
				if len(sent) != tc.wantSent {
					t.Fatalf("sent %d messages, want %d: %+v", len(sent), tc.wantSent, sent)
				}
				for i, s := range sent {
					ref := s.msg.MessageReference
					if s.channel != channel || s.msg.Content != "pong" || ref == nil || ref.MessageID == nil {
						t.Errorf("reply %d = %+v to %d, want pong in %d replying to a message", i, s.msg, s.channel, channel)
					}
				}
				if got, _ := cnt.sum(); got != tc.want {
					t.Errorf("counters = %+v, want %+v", got, tc.want)
				}
			})
		})
	}
}

// TestPingCooldownExpires checks that the cooldown ends after its window
// (the bubble's clock moves only when every goroutine is blocked).
func TestPingCooldownExpires(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b, cnt := newTestBot(t, rec, &fakeBackend{}, time.Minute, slog.New(slog.DiscardHandler))
		b.handleMessage(msg(1, 2, 3, "!ping", false))
		b.handleMessage(msg(2, 2, 3, "!ping", false))
		time.Sleep(time.Minute + time.Millisecond)
		b.handleMessage(msg(3, 2, 3, "!ping", false))
		synctest.Wait()
		if got, _ := cnt.sum(); got.pongs != 2 || got.cooldowns != 1 || len(rec.messages()) != 2 {
			t.Errorf("counters = %+v, sent %d; want 2 pongs and 1 cooldown", got, len(rec.messages()))
		}
	})
}

// TestPingReplyFailures checks that failed replies are counted and logged
// once, as against an API that does not implement message creation.
func TestPingReplyFailures(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		rec := &recorder{err: errors.New("404: Not Found")}
		b, cnt := newTestBot(t, rec, &fakeBackend{}, 0, slog.New(slog.NewTextHandler(&logs, nil)))
		for i := range 3 {
			b.handleMessage(msg(snowflake.ID(i+1), 2, 3, "!ping", false))
		}
		synctest.Wait()
		if got, _ := cnt.sum(); got.replyErrors != 3 || got.pongs != 0 {
			t.Errorf("counters = %+v, want 3 reply errors", got)
		}
		if n := strings.Count(logs.String(), "reply failed"); n != 1 {
			t.Errorf("logged %d failures, want 1:\n%s", n, logs.String())
		}
	})
}

// blockingSender blocks every CreateMessage until release is closed.
type blockingSender struct{ release chan struct{} }

func (s blockingSender) CreateMessage(snowflake.ID, discord.MessageCreate, ...rest.RequestOpt) (*discord.Message, error) {
	<-s.release
	return &discord.Message{}, nil
}

// TestPingReplyQueueFull checks the full-queue policy: with the API stuck,
// the listener never blocks and drops what does not fit.
func TestPingReplyQueueFull(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := blockingSender{release: make(chan struct{})}
		b, cnt := newTestBot(t, s, &fakeBackend{}, 0, slog.New(slog.DiscardHandler))
		const extra = 5
		// One reply is taken by the stuck sender, replyQueueSize wait.
		b.handleMessage(msg(1, 2, 3, "!ping", false))
		synctest.Wait()
		for i := range replyQueueSize + extra {
			b.handleMessage(msg(snowflake.ID(i+2), 2, 3, "!ping", false))
		}
		if got, _ := cnt.sum(); got.replyDropped != extra {
			t.Errorf("dropped %d, want %d", got.replyDropped, extra)
		}
		close(s.release)
		synctest.Wait()
		if got, _ := cnt.sum(); got.pongs != replyQueueSize+1 {
			t.Errorf("pongs = %d, want %d", got.pongs, replyQueueSize+1)
		}
	})
}

// TestOnEventCountsDispatchesOnce checks that the several disgo events made
// from one dispatch count once.
func TestOnEventCountsDispatchesOnce(t *testing.T) {
	t.Parallel()
	cnt := newCounters(nil)
	b := &pingBot{shared: &shared{counters: cnt}, c: cnt.cluster(0), lastSeq: map[int]int{}}
	for _, e := range []fakeEvent{{0, 1}, {0, 1}, {0, 2}, {1, 2}, {1, 2}, {1, 3}, {0, 0}, {0, -1}} {
		b.onEvent(e)
	}
	if got := cnt.total.Load(); got != 4 {
		t.Errorf("counted %d dispatches, want 4", got)
	}
}

// fakeEvent is a bot.Event with a shard and a sequence number.
type fakeEvent struct{ shard, seq int }

func (e fakeEvent) Client() *bot.Client { return nil }
func (e fakeEvent) SequenceNumber() int { return e.seq }
func (e fakeEvent) ShardID() int        { return e.shard }

// TestStatsCommand checks the !stats answer, built from the aggregated stats
// and the ping counter service, and what happens when they do not answer.
func TestStatsCommand(t *testing.T) {
	t.Parallel()
	snap := stats.Snapshot{
		Manager: stats.ManagerStats{Uptime: 90*time.Second + 300*time.Millisecond},
		Totals:  stats.Totals{Clusters: 2, ClustersReady: 2, Shards: 16, ShardsReady: 15, Guilds: 2000, EventsPerSecond: 801.25},
	}
	cases := []struct {
		name       string
		be         *fakeBackend
		pings      int // !ping before !stats
		want       string
		wantErrors uint64
	}{
		{"answered", &fakeBackend{snap: snap}, 2,
			"clusters ready 2/2, shards ready 15/16, guilds 2000, 801.2 events/s, up 1m30s, pings answered 2", 0},
		{"bus down", &fakeBackend{err: errors.New("bus: target stopped")}, 1,
			"stats are unavailable right now", 2}, // the !ping's incr and the !stats
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				b, cnt := newTestBot(t, rec, tc.be, 0, slog.New(slog.DiscardHandler))
				for i := range tc.pings {
					b.handleMessage(msg(snowflake.ID(i+1), 5, snowflake.ID(100+i), "!ping", false))
				}
				synctest.Wait() // the pongs first, so the count is known
				b.handleMessage(msg(99, 5, 7, "!stats", false))
				synctest.Wait()
				sent := rec.messages()
				if len(sent) != tc.pings+1 {
					t.Fatalf("sent %d messages, want %d", len(sent), tc.pings+1)
				}
				if got := sent[len(sent)-1].msg.Content; got != tc.want {
					t.Errorf("!stats answered %q, want %q", got, tc.want)
				}
				got, _ := cnt.sum()
				if got.statsCommands != 1 || got.serviceErrors != tc.wantErrors || got.pongs != uint64(tc.pings) {
					t.Errorf("counters = %+v, want 1 !stats, %d service errors, %d pongs", got, tc.wantErrors, tc.pings)
				}
			})
		})
	}
}

// TestPingCounterService checks the service's commands.
func TestPingCounterService(t *testing.T) {
	t.Parallel()
	p := newPingCounter()
	for _, tc := range []struct {
		cmd  string
		want int64
	}{{cmdIncr, 1}, {cmdIncr, 2}, {cmdCount, 2}} {
		got, err := p.HandleMessage(context.Background(), &bus.Message{To: bus.Service(pingService), Topic: tc.cmd})
		if err != nil || got != tc.want {
			t.Errorf("%s = %v, %v; want %d", tc.cmd, got, err, tc.want)
		}
	}
	if _, err := p.HandleMessage(context.Background(), &bus.Message{To: bus.Service(pingService), Topic: "reset"}); !errors.Is(err, bus.ErrUnknownTopic) {
		t.Errorf("reset: err = %v, want bus.ErrUnknownTopic", err)
	}
	if got := p.Stats()["pings"]; got != int64(2) {
		t.Errorf("Stats = %v", p.Stats())
	}
}
