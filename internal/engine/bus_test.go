package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/clusterlink"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/supervisor"
)

// cmdWorker is a testWorker that answers commands on its embedded bus.Mux,
// registered by Launch: "echo" returns its payload's JSON as a string, "gen"
// its generation, "boom" panics, "nope" fails; Stats returns stats, or
// panics if statsPanic is set. gates[gen], when set, holds that generation's Launch.
type cmdWorker struct {
	testWorker
	bus.Mux
	stats      map[string]any
	statsPanic bool // Stats panics
}

// Launch registers the commands, then launches like a testWorker.
func (w *cmdWorker) Launch(ctx context.Context, c *cluster.Cluster) error {
	bus.Handle(&w.Mux, "echo", func(_ context.Context, payload json.RawMessage) (string, error) { return string(payload), nil })
	bus.Handle(&w.Mux, "gen", func(context.Context, any) (int, error) { return w.gen, nil })
	bus.Handle(&w.Mux, "boom", func(context.Context, any) (any, error) { panicInHandler(); return nil, nil })
	bus.Handle(&w.Mux, "nope", func(context.Context, any) (any, error) { return nil, errors.New("no such command: nope") })
	return w.testWorker.Launch(ctx, c)
}

func (w *cmdWorker) Stats() map[string]any {
	if w.statsPanic {
		panicInStats()
	}
	return w.stats
}

// The panicking functions have names of their own, so that a test can
// find them in a recovered stack.
func panicInHandler() { panic("handler boom") }
func panicInStats()   { panic("stats boom") }
func panicInEval()    { panic("eval boom") }

var (
	_ bus.Handler       = (*cmdWorker)(nil)
	_ bus.StatsProvider = (*cmdWorker)(nil)
)

// newBus returns a bus whose guilds all belong to cluster owner.
func newBus(owner int) *bus.Bus {
	return bus.New(bus.WithLogger(slog.New(slog.DiscardHandler)),
		bus.WithGuildResolver(func(uint64) (int, bool) { return owner, true }))
}

func request[T any](t *testing.T, b *bus.Bus, to bus.Address, topic string, payload any) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return bus.Request[T](ctx, b, bus.Manager(), to, topic, payload)
}

// TestBusCommands proves that cluster 0 answers worker commands through
// the bus once ready, that its reserved topics are not passed to the
// worker, and that a cluster nobody runs is bus.ErrNoTarget.
func TestBusCommands(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	b := newBus(0)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		return &cmdWorker{testWorker: testWorker{gen: gen, rec: rec}}
	}, WithBus(b))
	if h.c.Bus() != b || h.c.Address() != bus.Cluster(0) || h.c.Store() != nil {
		t.Fatal("accessors do not return the configured bus and address")
	}
	h.start()
	h.waitReady()

	tests := []struct {
		name    string
		to      bus.Address
		topic   string
		payload any
		want    string
		wantErr error
		wantMsg string // a *bus.HandlerError with this message
	}{
		{"echo raw JSON to cluster 0", bus.Cluster(0), "echo", json.RawMessage(`"hi"`), `"hi"`, nil, ""},
		{"echo a value, encoded", bus.Cluster(0), "echo", map[string]int{"n": 1}, `{"n":1}`, nil, ""},
		{"handler error carries its message", bus.Cluster(0), "nope", nil, "", nil, "no such command: nope"},
		{"reserved topic", bus.Cluster(0), "megane.nope", nil, "", bus.ErrUnknownTopic, ""},
		{"missing cluster", bus.Cluster(3), "echo", nil, "", bus.ErrNoTarget, ""},
		{"owner of a guild", bus.GuildOwner(81384788765712384), "echo", json.RawMessage(`1`), "1", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := request[string](t, b, tt.to, tt.topic, tt.payload)
			if tt.wantMsg != "" {
				var he *bus.HandlerError
				if !errors.As(err, &he) || !strings.Contains(he.Msg, tt.wantMsg) || he.Target != bus.Cluster(0) {
					t.Fatalf("err = %v, want a handler error %q", err, tt.wantMsg)
				}
				return
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestBusDetachedWhileRestarting proves that a cluster is known but
// stopped (bus.ErrTargetStopped) before its first attempt is ready and
// during a restart, answers again once ready, and is forgotten
// (bus.ErrNoTarget) once Serve has returned.
func TestBusDetachedWhileRestarting(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	b := newBus(0)
	gates := []chan struct{}{make(chan struct{}), make(chan struct{})}
	launched := make(chan int, 4)
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker {
		w := &cmdWorker{testWorker: testWorker{gen: gen, rec: rec, launched: launched}}
		if gen <= len(gates) {
			w.gate = gates[gen-1]
		}
		return w
	}, WithBus(b))
	h.start()
	// The first Launch waits on its gate: the cluster is known, not ready.
	h.rec.waitFor(t, "spawned", func(r *recorder) bool { return r.count(cluster.EventSpawned) == 1 })
	if _, err := request[int](t, b, bus.Cluster(0), "gen", nil); !errors.Is(err, bus.ErrTargetStopped) {
		t.Fatalf("before ready: err = %v, want ErrTargetStopped", err)
	}
	close(gates[0])
	h.waitReady()
	if got, err := request[int](t, b, bus.Cluster(0), "gen", nil); err != nil || got != 1 {
		t.Fatalf("ready: got %d, %v", got, err)
	}

	if err := h.c.RestartCluster(context.Background(), 0, cluster.RestartResume); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "restarted", func(r *recorder) bool { return r.count(cluster.EventRestarted) == 1 })
	// The second Launch waits on its gate: mid-restart.
	if _, err := request[int](t, b, bus.Cluster(0), "gen", nil); !errors.Is(err, bus.ErrTargetStopped) {
		t.Fatalf("mid-restart: err = %v, want ErrTargetStopped", err)
	}
	results := bus.Broadcast[int](context.Background(), b, bus.Manager(), bus.AllClusters(), "gen", nil)
	if len(results) != 1 || !errors.Is(results[0].Err, bus.ErrTargetStopped) {
		t.Fatalf("broadcast mid-restart = %+v, want one stopped result", results)
	}
	close(gates[1])
	h.waitReady()
	if got, err := request[int](t, b, bus.Cluster(0), "gen", nil); err != nil || got != 2 {
		t.Fatalf("after restart: got %d, %v", got, err)
	}

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := request[int](t, b, bus.Cluster(0), "gen", nil); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("after Serve: err = %v, want ErrNoTarget", err)
	}
}

// startPanicking starts cluster 0, alone on its bus, with a cmdWorker
// whose Stats panics and a logger into the returned buffer, and waits
// until it is ready.
func startPanicking(t *testing.T) (*harness, *bus.Bus, *testutil.LogBuffer) {
	t.Helper()
	b := newBus(0)
	logs := &testutil.LogBuffer{}
	h := newHarness(t, newFake(t, 1), []int{0}, 1, func(gen int, rec *recorder) Worker {
		return &cmdWorker{testWorker: testWorker{gen: gen, rec: rec}, statsPanic: true}
	}, WithBus(b), WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	h.start()
	h.waitReady()
	return h, b, logs
}

// TestBusPanicKeepsClusterRunning proves that a panic in a worker's
// command handler, in its Stats or in an eval closure comes back to the
// requester as a *bus.HandlerError with the panicking function's stack
// (and no token), while the cluster keeps running: no crash, no restart,
// and the same worker answers the next request.
func TestBusPanicKeepsClusterRunning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		call  func(t *testing.T, b *bus.Bus) error
		topic string
		fn    string // the function the stack must name
	}{
		{"command handler", func(t *testing.T, b *bus.Bus) error {
			_, err := request[int](t, b, bus.Cluster(0), "boom", nil)
			return err
		}, "boom", "engine.panicInHandler"},
		{"Stats", func(t *testing.T, b *bus.Bus) error {
			_, err := request[map[string]any](t, b, bus.Cluster(0), clusterlink.TopicStats, nil)
			return err
		}, clusterlink.TopicStats, "engine.panicInStats"},
		{"Eval", func(t *testing.T, b *bus.Bus) error {
			res, err := bus.Eval(t.Context(), b, bus.Manager(), bus.AllClusters(), func(context.Context, *cluster.Cluster) (int, error) {
				panicInEval()
				return 0, nil
			})
			if err != nil || len(res) != 1 {
				t.Fatalf("Eval = %+v, %v; want one result", res, err)
			}
			return res[0].Err
		}, bus.EvalTopic, "engine.panicInEval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, b, logs := startPanicking(t)
			fake := h.fake
			err := tt.call(t, b)
			var he *bus.HandlerError
			if !errors.Is(err, bus.ErrHandlerPanic) || !errors.As(err, &he) {
				t.Fatalf("err = %v, want a *bus.HandlerError matching ErrHandlerPanic", err)
			}
			if he.Target != bus.Cluster(0) || he.Topic != tt.topic || !strings.Contains(string(he.Stack), tt.fn) {
				t.Fatalf("HandlerError = {%v %q %q}, want cluster/0 %q with a stack naming %s:\n%s",
					he.Target, he.Topic, he.Msg, tt.topic, tt.fn, he.Stack)
			}
			if tok := fake.Token(); strings.Contains(err.Error(), tok) || strings.Contains(string(he.Stack), tok) {
				t.Fatal("the token is in the panic's error or stack")
			}
			if got, err := request[int](t, b, bus.Cluster(0), "gen", nil); err != nil || got != 1 {
				t.Fatalf("after the panic: gen = %d, %v; want the first worker", got, err)
			}
			if n := h.c.Restarts(); n != 0 {
				t.Errorf("Restarts = %d, want 0", n)
			}
			h.rec.mu.Lock()
			crashes := h.rec.count(cluster.EventCrashed)
			h.rec.mu.Unlock()
			if crashes != 0 || h.c.Crashes() != 0 {
				t.Errorf("%d cluster.EventCrashed, Crashes() = %d; want none", crashes, h.c.Crashes())
			}
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(logs.String(), fake.Token()) {
				t.Fatal("the token is in the log")
			}
		})
	}
}

// TestStatsPanicIsLogged proves that Cluster.Stats survives a worker's
// panicking Stats: the snapshot has no Custom figures, the panic is logged
// at error level with its stack, and the cluster is not restarted.
func TestStatsPanicIsLogged(t *testing.T) {
	t.Parallel()
	h, b, logs := startPanicking(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st := h.c.Stats(ctx)
	if !st.Ready || st.Custom != nil {
		t.Fatalf("stats = %+v, want ready without Custom", st)
	}
	lines := logs.Lines("level=ERROR", "worker Stats panicked")
	if len(lines) != 1 || !strings.Contains(lines[0], "engine.panicInStats") || strings.Count(lines[0], " cluster=") != 1 {
		t.Fatalf("want one error line with the stack and one cluster attribute; log:\n%s", logs.String())
	}
	if got, err := request[int](t, b, bus.Cluster(0), "gen", nil); err != nil || got != 1 {
		t.Fatalf("after the panic: gen = %d, %v; want the first worker", got, err)
	}
	if h.c.Restarts() != 0 || h.c.Crashes() != 0 {
		t.Fatalf("Restarts %d, Crashes %d; want 0", h.c.Restarts(), h.c.Crashes())
	}
}

// TestEvalGetsCluster proves that bus.Eval closures run with the
// *Cluster as their target, typed, and that a closure for another target
// type gets a *bus.TypeError rather than a panic.
func TestEvalGetsCluster(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	b := newBus(0)
	h := newHarness(t, fake, []int{0, 1}, 2, plainWorker, WithBus(b))
	h.start()
	h.waitReady()
	var ran atomic.Int32
	res, err := bus.Eval(context.Background(), b, bus.Manager(), bus.AllClusters(),
		func(_ context.Context, c *cluster.Cluster) ([]int, error) {
			ran.Add(1)
			return c.ShardIDs(), nil
		})
	if err != nil || len(res) != 1 || res[0].Err != nil || len(res[0].Value) != 2 || ran.Load() != 1 {
		t.Fatalf("eval = %+v, %v", res, err)
	}
	wrong, err := bus.Eval(context.Background(), b, bus.Manager(), bus.Cluster(0),
		func(context.Context, *Cluster) (int, error) { ran.Add(1); return 0, nil })
	var te *bus.TypeError
	if err != nil || len(wrong) != 1 || !errors.As(wrong[0].Err, &te) || te.Want != "*engine.Cluster" || te.Got != "*cluster.Cluster" || ran.Load() != 1 {
		t.Fatalf("eval for the engine's *Cluster = %+v, %v; want a *bus.TypeError, not run", wrong, err)
	}
}

// TestClusterStats proves the stats figures: caches, shards and the
// worker's custom fields asked through the mailbox.
func TestClusterStats(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	b := newBus(0)
	h := newHarness(t, fake, []int{0, 1}, 2, func(gen int, rec *recorder) Worker {
		return &cmdWorker{testWorker: testWorker{gen: gen, rec: rec}, stats: map[string]any{"gen": gen}}
	}, WithBus(b), WithClientOpts(allCaches()))
	idle := h.c.Stats(context.Background())
	if idle.Status != supervisor.StateIdle || idle.Ready || idle.Custom != nil || len(idle.Shards) != 0 {
		t.Fatalf("idle stats = %+v", idle)
	}
	h.start()
	h.waitReady()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st := h.c.Stats(ctx)
	guilds := len(fake.GuildIDs(0, 2)) + len(fake.GuildIDs(1, 2))
	if !st.Ready || st.Guilds != guilds || st.Channels != 2*guilds || st.Members != 2*guilds || st.Users != 2*guilds {
		t.Fatalf("stats = %+v, want %d guilds with 2 channels and 2 members each", st, guilds)
	}
	if len(st.Shards) != 2 || st.Shards[0].ShardID != 0 || st.Shards[1].ShardID != 1 || st.Shards[0].Identifies != 1 {
		t.Fatalf("shard stats = %+v", st.Shards)
	}
	if st.Custom["gen"] != 1 {
		t.Fatalf("custom = %v", st.Custom)
	}
}
