package shardset

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
)

// TestMain checks for leaked goroutines.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

const testWait = 30 * time.Second

func eventually(t testing.TB, what string, cond func() bool, wake ...<-chan struct{}) {
	t.Helper()
	testutil.Eventually(t, testWait, what, cond, wake...)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func fakeOpts(extra ...discordtest.Option) []discordtest.Option {
	return append(testutil.FakeOptions(), extra...)
}

// shardOpts are the shard settings matching fakeOpts.
func shardOpts(srv *discordtest.Server, extra ...shard.Option) []shard.Option {
	return append([]shard.Option{
		shard.WithURL(srv.GatewayURL()),
		shard.WithLogger(quietLogger()),
		shard.WithQueue(testQueue()),
		shard.WithBackoff(time.Millisecond, 10*time.Millisecond),
		shard.WithInvalidSessionWait(time.Millisecond, 5*time.Millisecond),
		shard.WithCloseTimeout(time.Second),
	}, extra...)
}

// testQueue is an identify queue with the tests' window and margin.
func testQueue(opts ...shard.QueueOption) *shard.LocalQueue {
	return shard.NewQueue(append([]shard.QueueOption{
		shard.WithIdentifyWindow(testutil.IdentifyWindow),
		shard.WithIdentifyMargin(testutil.IdentifyMargin),
		shard.WithQueueLogger(quietLogger()),
	}, opts...)...)
}

// recorder counts the events a Set's handler got.
type recorder struct {
	mu     sync.Mutex
	counts map[gateway.EventType]int
	wake   chan struct{}
}

func newRecorder() *recorder {
	return &recorder{counts: map[gateway.EventType]int{}, wake: make(chan struct{}, 1)}
}

func (r *recorder) handle(_ gateway.Gateway, t gateway.EventType, _ int, _ gateway.EventData) {
	r.mu.Lock()
	r.counts[t]++
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
