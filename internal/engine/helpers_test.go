package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/events"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// TestMain checks for leaks. disgo's REST rate limiter starts a cleanup
// goroutine that never stops (rest.NewRateLimiter); each Cluster.Serve
// without WithRESTClient builds one REST client, so that one goroutine per
// served cluster is the only one ignored.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

// testTimeout bounds every wait of a test; reaching it is a failure, never
// a pass.
const testTimeout = 20 * time.Second

// newFake starts a fake Discord with millisecond windows and 4 guilds per
// shard.
func newFake(t *testing.T, shards int, opts ...discordtest.Option) *discordtest.Server {
	t.Helper()
	return testutil.NewFake(t, shards, 4, opts...)
}

// newQueue returns an identify queue matching newFake's window.
func newQueue(t *testing.T) *shard.LocalQueue {
	q := shard.NewQueue(shard.WithIdentifyWindow(testutil.IdentifyWindow), shard.WithIdentifyMargin(testutil.IdentifyMargin))
	t.Cleanup(q.Close)
	return q
}

// fastShards are shard options with millisecond protocol times.
func fastShards() []shard.Option {
	return []shard.Option{
		shard.WithBackoff(time.Millisecond, 10*time.Millisecond),
		shard.WithInvalidSessionWait(time.Millisecond, 2*time.Millisecond),
		shard.WithCloseTimeout(500 * time.Millisecond),
	}
}

// fastPolicy restarts quickly and never gives up within a test.
func fastPolicy() supervisor.Policy {
	return supervisor.Policy{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, Multiplier: 2, MaxRestarts: -1}
}

// recorder collects what the workers' listeners received and the
// cluster's events, and wakes waiters on every change.
type recorder struct {
	mu      sync.Mutex
	seqs    map[int]map[int]int // shard → seq → generation that got it (any event)
	msgs    map[int]int         // generation → MESSAGE_CREATE count
	msgSeqs map[int][]int       // generation → MESSAGE_CREATE seqs, in order
	events  []Event
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{
		seqs:    map[int]map[int]int{},
		msgs:    map[int]int{},
		msgSeqs: map[int][]int{},
		changed: make(chan struct{}),
	}
}

func (r *recorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) hook(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.notify()
}

// got records one bot event of a generation.
func (r *recorder) got(gen int, e bot.Event) {
	sh, ok := e.(interface{ ShardID() int })
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.seqs[sh.ShardID()]
	if m == nil {
		m = map[int]int{}
		r.seqs[sh.ShardID()] = m
	}
	if _, dup := m[e.SequenceNumber()]; !dup {
		m[e.SequenceNumber()] = gen
	}
	if _, ok := e.(*events.MessageCreate); ok {
		r.msgs[gen]++
		r.msgSeqs[gen] = append(r.msgSeqs[gen], e.SequenceNumber())
	}
	r.notify()
}

// waitFor blocks until cond holds (checked under the lock after every
// change) or the test timeout passes.
func (r *recorder) waitFor(t *testing.T, what string, cond func(r *recorder) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		r.mu.Lock()
		ok := cond(r)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// count returns how many events of kind were recorded.
func (r *recorder) count(kind EventKind) int {
	n := 0
	for _, e := range r.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// msgTotal is the number of MESSAGE_CREATE over all generations.
func (r *recorder) msgTotal() int {
	n := 0
	for _, v := range r.msgs {
		n += v
	}
	return n
}

// missing returns the seqs in 1..last that no generation received on the
// shard.
func (r *recorder) missing(shardID, last int) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for s := 1; s <= last; s++ {
		if _, ok := r.seqs[shardID][s]; !ok {
			out = append(out, s)
		}
	}
	return out
}

// testWorker records every event into rec; onMsg (optional) runs after that for
// each MESSAGE_CREATE; gate (optional) delays Launch.
type testWorker struct {
	gen      int
	rec      *recorder
	onMsg    func(ctx context.Context, c *cluster.Cluster, gen int, e *events.MessageCreate)
	gate     <-chan struct{}
	launched chan<- int
	shutdown *atomic.Int32
}

func (w *testWorker) Launch(ctx context.Context, c *cluster.Cluster) error {
	if w.gate != nil {
		select {
		case <-w.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.AddEventListeners(listenerFunc(func(e bot.Event) {
		w.rec.got(w.gen, e)
		if mc, ok := e.(*events.MessageCreate); ok && w.onMsg != nil {
			w.onMsg(ctx, c, w.gen, mc)
		}
	}))
	if w.launched != nil {
		w.launched <- w.gen
	}
	return nil
}

func (w *testWorker) Shutdown(context.Context) error {
	if w.shutdown != nil {
		w.shutdown.Add(1)
	}
	return nil
}

var _ Shutdowner = (*testWorker)(nil)

type listenerFunc func(e bot.Event)

func (f listenerFunc) OnEvent(e bot.Event) { f(e) }

// harness runs one cluster against a fake.
type harness struct {
	t      *testing.T
	fake   *discordtest.Server
	c      *Cluster
	rec    *recorder
	gen    atomic.Int32
	cancel context.CancelFunc
	errc   chan error
}

// newHarness builds a cluster of all the fake's shards with a worker
// factory made by mk.
func newHarness(t *testing.T, fake *discordtest.Server, shards []int, count int, mk func(gen int, rec *recorder) Worker, opts ...Option) *harness {
	h := &harness{t: t, fake: fake, rec: newRecorder(), errc: make(chan error, 1)}
	base := []Option{
		WithAPIURL(fake.APIURL()),
		WithGatewayURL(fake.GatewayURL()),
		WithQueue(newQueue(t)),
		WithShardOptions(fastShards()...),
		WithLogger(slog.New(slog.DiscardHandler)),
		WithEventHook(h.rec.hook),
		WithRestartPolicy(fastPolicy()),
		WithDrainTimeout(2 * time.Second),
		WithClientOpts(bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds))),
	}
	h.c = New(fake.Token(), 0, shards, count, func() Worker {
		return mk(int(h.gen.Add(1)), h.rec)
	}, append(base, opts...)...)
	return h
}

// start serves the cluster until the test ends.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.errc <- h.c.Serve(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		<-h.c.Done()
	})
}

// stop cancels Serve and returns its error.
func (h *harness) stop() error {
	h.cancel()
	select {
	case err := <-h.errc:
		return err
	case <-time.After(testTimeout):
		h.t.Fatal("Serve did not return")
		return nil
	}
}

// waitReady waits until the cluster is ready.
func (h *harness) waitReady() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := h.c.WaitReady(ctx); err != nil {
		h.t.Fatalf("WaitReady: %v (last error %v)\n%s", err, h.c.LastError(), h.diagnose())
	}
}

// diagnose describes the cluster and the fake for a failure message: the
// fake's counters, each shard's sessions and the seqs the recorder got,
// the shards' stats and the cluster's events.
func (h *harness) diagnose() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fake counters: %+v\n", h.fake.Counters())
	for _, id := range h.c.ShardIDs() {
		l := h.fake.Ledger()
		for _, sess := range l.Sessions(id) {
			fmt.Fprintf(&b, "shard %d session %s: last seq %d\n", id, sess, l.LastSeq(id, sess))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, st := range h.c.Stats(ctx).Shards {
		fmt.Fprintf(&b, "shard stats: %+v\n", st)
	}
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	for id, seqs := range h.rec.seqs {
		fmt.Fprintf(&b, "recorder: shard %d got %d seqs\n", id, len(seqs))
	}
	for _, e := range h.rec.events {
		fmt.Fprintf(&b, "event: %v shard=%d gen=%d err=%v\n", e.Kind, e.Shard, e.Generation, e.Err)
	}
	return b.String()
}

// session returns the only session of a shard.
func (h *harness) session(shardID int) string {
	h.t.Helper()
	s := h.fake.Ledger().Sessions(shardID)
	if len(s) == 0 {
		h.t.Fatalf("shard %d has no session", shardID)
	}
	return s[len(s)-1]
}

// waitCovered waits until every sequence number the fake assigned to the
// shards' only session reached some worker.
func (h *harness) waitCovered(shards ...int) {
	h.t.Helper()
	for _, id := range shards {
		if n := len(h.fake.Ledger().Sessions(id)); n != 1 {
			h.t.Fatalf("shard %d has %d sessions, want 1", id, n)
		}
		last := h.fake.Ledger().LastSeq(id, h.session(id))
		h.rec.waitFor(h.t, "every ledger seq", func(r *recorder) bool {
			for s := 1; s <= last; s++ {
				if _, ok := r.seqs[id][s]; !ok {
					return false
				}
			}
			return true
		})
	}
}

// waitLedger polls the fake's ledger until the shard's last session has at
// least n sequence numbers. The ledger has no change notification, so this
// is the one poll of the tests; it is bounded by the test timeout.
func (h *harness) waitLedger(shardID, n int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for h.fake.Ledger().LastSeq(shardID, h.session(shardID)) < n {
		select {
		case <-tick.C:
		case <-ctx.Done():
			h.t.Fatalf("the fake never wrote %d dispatches to shard %d", n, shardID)
		}
	}
}

// isErr reports errors.Is for tests.
func isErr(err, target error) bool { return errors.Is(err, target) }
