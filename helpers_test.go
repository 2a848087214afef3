package megane

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// TestMain checks for leaks, tolerating only disgo's REST rate-limiter
// goroutine (each Manager.Run builds exactly one REST client).
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

const testTimeout = 20 * time.Second

// newFake starts a fake Discord with millisecond windows and 3 guilds per
// shard.
func newFake(t *testing.T, shards int, opts ...discordtest.Option) *discordtest.Server {
	t.Helper()
	return testutil.NewFake(t, shards, 3, opts...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer = testutil.LogBuffer

// tally counts what workers received, per cluster and generation, and
// keeps every event; waiters are woken on each change.
type tally struct {
	mu      sync.Mutex
	msgs    map[int]int          // cluster → MESSAGE_CREATE count
	seqs    map[int]map[int]bool // shard → seqs received (any event)
	events  []cluster.Event
	changed chan struct{}
}

func newTally() *tally {
	return &tally{msgs: map[int]int{}, seqs: map[int]map[int]bool{}, changed: make(chan struct{})}
}

func (t *tally) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tally) event(e cluster.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, e)
	t.notify()
}

func (t *tally) got(c *cluster.Cluster, e bot.Event) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sh, ok := e.(interface{ ShardID() int }); ok {
		m := t.seqs[sh.ShardID()]
		if m == nil {
			m = map[int]bool{}
			t.seqs[sh.ShardID()] = m
		}
		m[e.SequenceNumber()] = true
	}
	n := 0
	if _, ok := e.(*events.MessageCreate); ok {
		t.msgs[c.ID()]++
		n = t.msgs[c.ID()]
	}
	t.notify()
	return n
}

func (t *tally) waitFor(tb testing.TB, what string, cond func(t *tally) bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		t.mu.Lock()
		ok := cond(t)
		ch := t.changed
		t.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			tb.Fatalf("timed out waiting for %s; events so far:\n%s", what, t.trace())
		}
	}
}

// trace lists the events seen so far, one a line, for a failure message.
func (t *tally) trace() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for _, e := range t.events {
		fmt.Fprintf(&b, "  %v cluster=%d shard=%d gen=%d err=%v\n", e.Kind, e.Cluster, e.Shard, e.Generation, e.Err)
	}
	return b.String()
}

func (t *tally) count(kind cluster.EventKind, clusterID int) int {
	n := 0
	for _, e := range t.events {
		if e.Kind == kind && (clusterID < 0 || e.Cluster == clusterID) {
			n++
		}
	}
	return n
}

// tallyWorker records into a tally; panicAt > 0 makes it panic when its
// cluster's message count reaches panicAt.
type tallyWorker struct {
	t        *tally
	panicAt  int
	allReady chan<- int
}

func (w *tallyWorker) Launch(_ context.Context, c *cluster.Cluster) error {
	c.AddEventListeners(bot.NewListenerFunc(func(e bot.Event) {
		n := w.t.got(c, e)
		if n > 0 && n == w.panicAt {
			panic("worker bug")
		}
	}))
	return nil
}

func (w *tallyWorker) AllClustersReady(context.Context) {
	if w.allReady != nil {
		w.allReady <- 1
	}
}

// run starts m.Run and returns a function that stops it and returns its
// error.
func run(t *testing.T, m *Manager) (stop func() error, errc <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- m.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-ch:
			case <-time.After(testTimeout):
				t.Fatal("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop, ch
}

// baseOpts are the Manager options of every test against a fake.
func baseOpts(fake *discordtest.Server, tl *tally) []Option {
	return []Option{
		WithAPIURL(fake.APIURL()),
		WithLogger(slog.New(slog.DiscardHandler)),
		WithEventHandler(tl.event),
		WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(testutil.IdentifyMargin)),
		WithShardOptions(
			shard.WithBackoff(time.Millisecond, 10*time.Millisecond),
			shard.WithInvalidSessionWait(time.Millisecond, 2*time.Millisecond),
			shard.WithCloseTimeout(500*time.Millisecond),
		),
		WithRestartPolicy(supervisor.Policy{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRestarts: -1}),
	}
}

// waitAllReady waits for the AllClustersReady event.
func waitAllReady(t *testing.T, tl *tally) {
	t.Helper()
	tl.waitFor(t, "all clusters ready", func(tl *tally) bool { return tl.count(cluster.EventAllReady, -1) == 1 })
}
