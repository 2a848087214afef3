package megane

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/engine"
	"github.com/megane-go/megane/shard"
)

// The bad-input catalogue of the Manager (README, "Bad input: what you
// get"). The GET /gateway/bot entries are in gatewaybot_test.go, the
// options and tokens in options_test.go.

// TestFatalCloseCodes: each fatal close code stops Run at once with its
// sentinel, and an error that names the close code; no shard identifies
// again.
func TestFatalCloseCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		want error
	}{
		{4004, shard.ErrInvalidToken},
		{4010, shard.ErrInvalidShard},
		{4012, shard.ErrInvalidAPIVersion},
		{4013, shard.ErrInvalidIntents},
		{4014, shard.ErrDisallowedIntents},
	}
	for _, tt := range tests {
		t.Run(tt.want.Error(), func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 2)
			tl := newTally()
			m := gatewayBotManager(t, fake, tl, WithClusters(2))
			done := make(chan error, 1)
			go func() { done <- m.Run(context.Background()) }()
			waitAllReady(t, tl)
			if err := fake.CloseShard(0, tt.code); err != nil {
				t.Fatal(err)
			}
			err := waitRun(t, done)
			var ce *shard.CloseError
			if !errors.Is(err, tt.want) || !errors.As(err, &ce) || ce.Code != tt.code || !engine.IsFatal(err) {
				t.Fatalf("Run = %v, want close %d matching %v", err, tt.code, tt.want)
			}
			var ge *GatewayError
			if errors.As(err, &ge) || !strings.Contains(err.Error(), fmt.Sprintf("(close %d)", tt.code)) {
				t.Fatalf("Run = %q, want its close code and no GatewayError", err)
			}
			if c := fake.Counters(); c.Identifies != 2 || c.Resumes != 0 {
				t.Fatalf("identifies %d, resumes %d: want 2 and 0 (no retry after a fatal close)", c.Identifies, c.Resumes)
			}
		})
	}
}

// waitRun waits for Run's result, failing the test after testTimeout (a
// hang guard).
func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	return waitReturn(t, "Run", done)
}

// waitReturn waits for the result of what, failing the test after
// testTimeout (a hang guard).
func waitReturn(t *testing.T, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(testTimeout):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

// TestCallsToNothing: a request to a cluster or a service that does not
// exist fails at once with bus.ErrNoTarget; so do a service command and
// a restart of a missing cluster (a *NoClusterError).
func TestCallsToNothing(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	m := gatewayBotManager(t, fake, tl)
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	ctx := ctxFor(t)
	for _, to := range []bus.Address{bus.Cluster(7), bus.Service("nope")} {
		if _, err := bus.Request[int](ctx, m.Bus(), bus.Manager(), to, "anything", nil); !errors.Is(err, bus.ErrNoTarget) {
			t.Fatalf("request to %v = %v, want bus.ErrNoTarget", to, err)
		}
		if err := m.Bus().Send(ctx, bus.Manager(), to, "anything", nil); !errors.Is(err, bus.ErrNoTarget) {
			t.Fatalf("send to %v = %v, want bus.ErrNoTarget", to, err)
		}
	}
	if _, err := bus.Request[int](ctx, m.Bus(), bus.Manager(), bus.Service("nope"), "incr", nil); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("command to a missing service = %v, want bus.ErrNoTarget", err)
	}
	var nc *NoClusterError
	if err := m.Restart(ctx, 7, cluster.RestartFull); !errors.As(err, &nc) || nc.ID != 7 {
		t.Fatalf("Restart(7) = %v, want a *NoClusterError", err)
	}
	if err := m.Restart(ctx, -1, cluster.RestartFull); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("Restart(-1) = %v, want ErrNoCluster", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// signalLog is a slog handler that closes seen the first time a record
// whose message contains msg is handled.
type signalLog struct {
	msg  string
	seen chan struct{}
	once *sync.Once
}

func newSignalLog(msg string) *signalLog {
	return &signalLog{msg: msg, seen: make(chan struct{}), once: &sync.Once{}}
}

func (h *signalLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *signalLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *signalLog) WithGroup(string) slog.Handler            { return h }
func (h *signalLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.msg) {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}

// blockingWorker's Launch tells launched it runs, then blocks until its
// context ends.
type blockingWorker struct{ launched chan<- struct{} }

func (w *blockingWorker) Launch(ctx context.Context, _ *cluster.Cluster) error {
	w.launched <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TestCancelDuringStartup cancels Run's context at three points of its
// start: Run returns, and (TestMain's goleak) every goroutine ends.
func TestCancelDuringStartup(t *testing.T) {
	t.Parallel()
	t.Run("waiting to retry GET /gateway/bot", func(t *testing.T) {
		t.Parallel()
		fake := newFake(t, 1)
		if err := fake.FailGatewayBot(-1, 429, `{"message":"You are being rate limited.","retry_after":50,"global":false}`); err != nil {
			t.Fatal(err)
		}
		tl := newTally()
		sig := newSignalLog("GET /gateway/bot failed; trying again")
		m := gatewayBotManager(t, fake, tl, WithLogger(slog.New(sig)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		<-sig.seen
		cancel()
		err := waitRun(t, done)
		var ge *GatewayError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &ge) {
			t.Fatalf("Run = %v, want a GatewayError matching context.Canceled", err)
		}
	})
	t.Run("a shard waiting in the identify queue", func(t *testing.T) {
		t.Parallel()
		fake := newFake(t, 2)
		tl := newTally()
		// One bucket, one identify an hour: shard 1 waits.
		m := gatewayBotManager(t, fake, tl, WithQueueOptions(shard.WithIdentifyWindow(time.Hour)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		tl.waitFor(t, "shard 0 ready", func(tl *tally) bool { return tl.count(cluster.EventShardReady, -1) == 1 })
		cancel()
		if err := waitRun(t, done); err != nil {
			t.Fatalf("Run = %v", err)
		}
		if c := fake.Counters(); c.Identifies != 1 {
			t.Fatalf("%d identifies, want 1", c.Identifies)
		}
	})
	t.Run("a worker's Launch", func(t *testing.T) {
		t.Parallel()
		fake := newFake(t, 1)
		tl := newTally()
		launched := make(chan struct{}, 1)
		m := gatewayBotManager(t, fake, tl, WithWorker(func() cluster.Worker { return &blockingWorker{launched: launched} }))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		<-launched
		cancel()
		if err := waitRun(t, done); err != nil {
			t.Fatalf("Run = %v", err)
		}
	})
}

// TestCancelMidRestart cancels Run while a full restart of cluster 0 waits
// for its new worker's Launch: Run and Restart both return.
func TestCancelMidRestart(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	tl := newTally()
	launched := make(chan struct{}, 1)
	var calls int
	var mu sync.Mutex
	m := gatewayBotManager(t, fake, tl, WithClusters(2), WithWorker(func() cluster.Worker {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls > 2 { // the first two are the clusters' first workers
			return &blockingWorker{launched: launched}
		}
		return &tallyWorker{t: tl}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitAllReady(t, tl)
	restarted := make(chan error, 1)
	go func() { restarted <- m.Restart(context.Background(), 0, cluster.RestartFull) }()
	<-launched
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := waitReturn(t, "Restart", restarted); err == nil {
		t.Fatal("Restart succeeded though Run stopped before the cluster was ready")
	}
}

// TestCancelMidReshard cancels Run while a re-shard is under way: while
// its new shard set waits in the identify queue, and while it waits to
// retry GET /gateway/bot. Run and Reshard both return. (Before, a
// Reshard waiting on a 429 of GET /gateway/bot went on waiting, and
// retrying, after Run had returned.)
func TestCancelMidReshard(t *testing.T) {
	t.Parallel()
	t.Run("new set in the identify queue", func(t *testing.T) {
		t.Parallel()
		fake := newFake(t, 1)
		gt := newGenTally()
		// One bucket, one identify an hour: the first shard starts at once,
		// the new set's shards wait.
		m := reshardManager(t, fake, gt, WithShards(1), WithQueueOptions(shard.WithIdentifyWindow(time.Hour)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		waitAllReady(t, gt.tally)
		resharded := make(chan error, 1)
		go func() { resharded <- m.Reshard(context.Background(), 2) }()
		gt.waitFor(t, "the re-shard to start", func(t *tally) bool { return t.count(cluster.EventReshardStarted, -1) == 1 })
		cancel()
		if err := waitRun(t, done); err != nil {
			t.Fatalf("Run = %v", err)
		}
		if err := waitReturn(t, "Reshard", resharded); err == nil {
			t.Fatal("Reshard succeeded though Run stopped")
		}
	})
	t.Run("waiting to retry GET /gateway/bot", func(t *testing.T) {
		t.Parallel()
		fake := newFake(t, 1)
		gt := newGenTally()
		sig := newSignalLog("GET /gateway/bot failed; trying again")
		m := reshardManager(t, fake, gt, WithLogger(slog.New(sig)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		waitAllReady(t, gt.tally)
		if err := fake.FailGatewayBot(-1, 429, `{"message":"You are being rate limited.","retry_after":50,"global":false}`); err != nil {
			t.Fatal(err)
		}
		resharded := make(chan error, 1)
		go func() { resharded <- m.Reshard(context.Background(), AutoShards) }()
		<-sig.seen
		cancel()
		if err := waitRun(t, done); err != nil {
			t.Fatalf("Run = %v", err)
		}
		err := waitReturn(t, "Reshard", resharded)
		if !errors.Is(err, ErrReshardFailed) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Reshard = %v, want a failed re-shard matching context.Canceled", err)
		}
	})
}

// TestBadInputTableNamesTests checks that every test the README's "Bad
// input: what you get" table names exists, so the table cannot point at a
// test that was renamed or removed.
func TestBadInputTableNamesTests(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Bad input: what you get\n")
	if !ok {
		t.Fatal("no bad-input section in README.md")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	defined := map[string]bool{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	named := tableTest.FindAllStringSubmatch(section, -1)
	if len(named) < 40 {
		t.Fatalf("only %d tests named in the table", len(named))
	}
	for _, m := range named {
		if !defined[m[1]] {
			t.Errorf("the table names %s, which no _test.go file defines", m[1])
		}
	}
}

var (
	testFunc  = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	tableTest = regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9]+)(?:/[^`]*)?`")
)
