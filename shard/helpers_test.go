package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"go.uber.org/goleak"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
)

// TestMain checks for leaked goroutines. disgo v0.19.6's REST rate limiter
// starts a cleanup goroutine that nothing ever stops (its Close does not;
// the goroutine may even sit on the mutex Close leaves locked),
// so the disgo client test would always "leak" it; it is ignored by name.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/disgoorg/disgo/rest.(*rateLimiterImpl).cleanup"))
}

// testWait bounds every wait in the tests; reaching it fails the test.
const testWait = 30 * time.Second

// recorder is a handler that records what it was given.
type recorder struct {
	mu     sync.Mutex
	seqs   []int
	counts map[gateway.EventType]int
	events []gateway.EventData
	keep   bool
	wake   chan struct{}
}

func newRecorder() *recorder {
	return &recorder{counts: map[gateway.EventType]int{}, wake: make(chan struct{}, 1)}
}

func (r *recorder) handle(_ gateway.Gateway, t gateway.EventType, seq int, d gateway.EventData) {
	r.mu.Lock()
	if seq > 0 {
		r.seqs = append(r.seqs, seq)
	}
	r.counts[t]++
	if r.keep {
		r.events = append(r.events, d)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) count(t gateway.EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[t]
}

func (r *recorder) lastSeq() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seqs) == 0 {
		return 0
	}
	return r.seqs[len(r.seqs)-1]
}

// seqsFrom returns the recorded sequence numbers from the last seq==1 on
// (the current session's).
func (r *recorder) sessionSeqs() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := 0
	for i, s := range r.seqs {
		if s == 1 {
			start = i
		}
	}
	return slices.Clone(r.seqs[start:])
}

// hooks records lifecycle events.
type hooks struct {
	mu     sync.Mutex
	events []Event
	wake   chan struct{}
}

func newHooks() *hooks { return &hooks{wake: make(chan struct{}, 1)} }

func (h *hooks) hook(e Event) {
	h.mu.Lock()
	h.events = append(h.events, e)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func countEvents[T Event](h *hooks) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}

// eventually waits until cond holds; see testutil.Eventually.
func eventually(t testing.TB, what string, cond func() bool, wake ...<-chan struct{}) {
	t.Helper()
	testutil.Eventually(t, testWait, what, cond, wake...)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeOpts are testutil.FakeOptions, then extra.
func fakeOpts(extra ...discordtest.Option) []discordtest.Option {
	return append(testutil.FakeOptions(), extra...)
}

// shardOpts are the shard settings matching fakeOpts.
func shardOpts(srv *discordtest.Server, extra ...Option) []Option {
	return append([]Option{
		WithURL(srv.GatewayURL()),
		WithLogger(quietLogger()),
		WithQueue(testQueue()),
		WithBackoff(time.Millisecond, 10*time.Millisecond),
		WithInvalidSessionWait(time.Millisecond, 5*time.Millisecond),
		WithCloseTimeout(time.Second),
	}, extra...)
}

// testQueue returns an identify queue with the tests' window and margin,
// the window the fake of fakeOpts uses.
func testQueue(opts ...QueueOption) *LocalQueue {
	return NewQueue(append([]QueueOption{
		WithIdentifyWindow(testutil.IdentifyWindow),
		WithIdentifyMargin(testutil.IdentifyMargin),
		WithQueueLogger(quietLogger()),
	}, opts...)...)
}

// openShard opens a shard against srv and closes it at the end of the test.
func openShard(t *testing.T, srv *discordtest.Server, id, count int, h gateway.EventHandlerFunc, opts ...Option) *Shard {
	t.Helper()
	s := New(srv.Token(), id, count, h, shardOpts(srv, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatalf("open shard %d: %v", id, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

// currentSession returns the shard's session id, failing if it has none.
func currentSession(t testing.TB, s *Shard) string {
	t.Helper()
	st := s.State()
	if st.SessionID == "" {
		t.Fatal("shard has no session")
	}
	return st.SessionID
}

// assertNoLoss waits until the handler got messages MESSAGE_CREATEs in
// all and everything the fake assigned to the shard's current session,
// then checks the handler got each of the session's sequence numbers
// exactly once, in order.
func assertNoLoss(t testing.TB, srv *discordtest.Server, s *Shard, r *recorder, messages int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d MESSAGE_CREATEs", messages), func() bool {
		return r.count(gateway.EventTypeMessageCreate) >= messages
	}, r.wake)
	session := currentSession(t, s)
	want := srv.Ledger().LastSeq(s.ShardID(), session)
	eventually(t, "handler to catch up with the ledger", func() bool { return r.lastSeq() >= want }, r.wake)
	got := r.sessionSeqs()
	ledger := srv.Ledger().Seqs(s.ShardID(), session)
	if !slices.Equal(got, ledger) {
		t.Fatalf("handler seqs differ from ledger:\n got %v\nwant %v", got, ledger)
	}
	if n := r.count(gateway.EventTypeMessageCreate); n != messages {
		t.Fatalf("MESSAGE_CREATE handled %d times, want %d", n, messages)
	}
}

// Short names for the handler signature in tests.
type (
	gatewayT   = gateway.Gateway
	eventTypeT = gateway.EventType
	eventDataT = gateway.EventData
)

// emitWritten makes the fake emit n MESSAGE_CREATEs to the shard's current
// session and waits until the fake has written them all (they may still be
// in flight to the shard).
func emitWritten(t testing.TB, srv *discordtest.Server, s *Shard, n int) {
	t.Helper()
	session := currentSession(t, s)
	base := srv.Ledger().LastSeq(s.ShardID(), session)
	// A loaded machine may have made the shard a zombie (short test
	// heartbeats) so that it is resuming this very session: emit once it is
	// live again.
	eventually(t, "a live session to emit to", func() bool {
		err := srv.Emit(s.ShardID(), n)
		if err != nil && !errors.Is(err, discordtest.ErrNoSession) {
			t.Fatal(err)
		}
		return err == nil
	})
	eventually(t, "the fake to write the messages", func() bool {
		return srv.Ledger().LastSeq(s.ShardID(), session) >= base+n
	})
}
