package megane

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
)

// logSignal is a slog handler that closes a channel the first time a
// record's message contains want (and, if attr is set, carries that
// attribute as text).
type logSignal struct {
	slog.Handler
	want, attr string
	once       *sync.Once
	seen       chan struct{}
}

func newLogSignal(want, attr string) *logSignal {
	return &logSignal{Handler: slog.DiscardHandler, want: want, attr: attr, once: new(sync.Once), seen: make(chan struct{})}
}

func (h *logSignal) Enabled(context.Context, slog.Level) bool { return true }

func (h *logSignal) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, h.want) {
		return nil
	}
	match := h.attr == ""
	r.Attrs(func(a slog.Attr) bool {
		if a.String() == h.attr {
			match = true
		}
		return !match
	})
	if match {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}

func (h *logSignal) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logSignal) WithGroup(string) slog.Handler      { return h }

func waitSignal(t *testing.T, what string, ch <-chan struct{}, fake *discordtest.Server) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s; fake counters %+v", what, fake.Counters())
	}
}

// TestSessionStartLimitFollowsDiscord spends session starts behind the
// Manager's back (another process with the same token): the re-shard
// check's GET /gateway/bot must bring the queue's budget down to Discord's
// figure, so that re-identifying shards wait for the reset instead of
// being refused. The queue used to keep its own count from Run's start
// for good: it let both shards identify, and Discord refused one.
func TestSessionStartLimitFollowsDiscord(t *testing.T) {
	t.Parallel()
	const total = 6
	fake := newFake(t, 2, discordtest.WithSessionStartLimit(total, total, time.Hour))
	tl := newTally()
	exhausted := newLogSignal("identify budget exhausted", "")
	m, err := New(fake.Token(), append(baseOpts(fake, tl),
		WithShards(2), WithClusters(1),
		WithLogger(slog.New(exhausted)),
		WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)

	// Three identifies elsewhere: Discord has 1 left, the queue thinks 4.
	elsewhere := shard.NewQueue(shard.WithIdentifyWindow(fake.IdentifyWindow()),
		shard.WithIdentifyMargin(testutil.IdentifyMargin), shard.WithQueueLogger(slog.New(slog.DiscardHandler)))
	for id := 2; id < 5; id++ {
		s := shard.New(fake.Token(), id, 5, nil, shard.WithURL(fake.GatewayURL()), shard.WithQueue(elsewhere),
			shard.WithLogger(slog.New(slog.DiscardHandler)))
		if err := s.Open(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
	}
	if c := fake.Counters(); c.SessionStartRemaining != 1 {
		t.Fatalf("fake has %d session starts left, want 1", c.SessionStartRemaining)
	}
	// One re-shard check (what WithReshardCheck runs on its ticker; it
	// returns once done): its GET /gateway/bot answer is Discord's figure
	// after the identifies above.
	if err := m.checkReshard(t.Context()); err != nil {
		t.Fatal(err)
	}

	for id := range 2 {
		if err := fake.InvalidSession(id, false); err != nil {
			t.Fatal(err)
		}
	}
	waitSignal(t, "the queue to wait for the reset", exhausted.seen, fake)
	if c := fake.Counters(); c.SessionLimitRefusals != 0 {
		t.Fatalf("Discord refused %d identifies: the queue spent starts it did not have", c.SessionLimitRefusals)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestSessionStartLimitRefreshedAfterReset: once reset_after has passed,
// Run asks GET /gateway/bot for the limit again.
func TestSessionStartLimitRefreshedAfterReset(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1, discordtest.WithSessionStartLimit(50, 40, 10*time.Millisecond))
	tl := newTally()
	// The fake refills to 50 at the reset; the Manager started from 40.
	refreshed := newLogSignal("identify limits refreshed", "total=50")
	m, err := New(fake.Token(), append(baseOpts(fake, tl),
		WithLogger(slog.New(refreshed)),
		WithWorker(func() cluster.Worker { return &tallyWorker{t: tl} }))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitSignal(t, "the limits refreshed after the reset", refreshed.seen, fake)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
