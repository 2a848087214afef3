package main

// The code blocks of README.md, kept here so that they compile and run.
// When you change one, change the other.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/store"
	"github.com/megane-go/megane/supervisor"
)

// README: "The store".
func Example_store() {
	st := store.New()
	defer st.Close()
	cooldowns, err := store.Open[snowflake.ID, int](st, "ping_cooldown")
	if err != nil {
		panic(err)
	}
	user := snowflake.ID(42)
	for range 3 {
		// One atomic read-modify-write; a new entry expires after 5 s.
		n, _ := cooldowns.ComputeTTL(user, 5*time.Second, func(old int, _ bool) (int, store.Op) {
			return old + 1, store.OpUpdate
		})
		fmt.Println("pings in this window:", n, "answer:", n == 1)
	}
	// Output:
	// pings in this window: 1 answer: true
	// pings in this window: 2 answer: false
	// pings in this window: 3 answer: false
}

// README: "The bus".
func Example_bus() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := bus.New()

	// Each target attaches a mailbox and drains it on a goroutine it owns.
	var mux bus.Mux
	bus.Handle(&mux, "guild_count", func(ctx context.Context, _ struct{}) (int, error) { return 125, nil })
	for id := range 2 {
		mb, err := b.Attach(bus.Cluster(id), &mux)
		if err != nil {
			panic(err)
		}
		go mb.Serve(ctx) // returns when ctx ends
	}

	n, err := bus.Request[int](ctx, b, bus.Manager(), bus.Cluster(0), "guild_count", nil)
	fmt.Println(n, err)
	for _, r := range bus.Broadcast[int](ctx, b, bus.Manager(), bus.AllClusters(), "guild_count", nil) {
		fmt.Println(r.From, r.Value, r.Err)
	}
	_, err = bus.Request[int](ctx, b, bus.Manager(), bus.Cluster(7), "guild_count", nil)
	fmt.Println(err) // bus: no such target: cluster/7
	// Output:
	// 125 <nil>
	// cluster/0 125 <nil>
	// cluster/1 125 <nil>
	// bus: no such target: cluster/7
}

// Counter is a service: a plain struct with Serve. Its embedded bus.Mux
// makes it a bus.Handler for the commands sent to it over the bus.
type Counter struct {
	bus.Mux
	n atomic.Int64
}

// NewCounter registers the commands, once: the same value serves every run.
func NewCounter() *Counter {
	c := &Counter{}
	bus.Handle(&c.Mux, "incr", c.incr)
	return c
}

// Serve runs until ctx ends; it says once when it is ready.
func (c *Counter) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	<-ctx.Done()
	return nil
}

// incr answers the "incr" command (no payload) with the new count.
func (c *Counter) incr(ctx context.Context, _ struct{}) (int64, error) {
	return c.n.Add(1), nil
}

// newCounterBot is a Manager that runs the Counter service beside its
// clusters; opts are the bot's other options (its worker, ...).
func newCounterBot(token string, opts ...megane.Option) (*megane.Manager, error) {
	return megane.New(token, append(opts,
		megane.WithService("counter", NewCounter(), service.WithReadyTimeout(time.Minute)))...)
}

// useCounter talks to the services while Run serves. Anyone holding the bus
// (a cluster, a service, here the master) sends a command with a typed
// reply; Run started the services before the clusters, and a command sent
// before a service is ready waits for its Ready (up to ctx).
func useCounter(ctx context.Context, m *megane.Manager) error {
	for range 2 {
		n, err := bus.Request[int64](ctx, m.Bus(), bus.Manager(), bus.Service("counter"), "incr", nil)
		fmt.Println(n, err)
	}
	// Services are added, restarted and stopped by name while Run serves.
	if err := m.AddService("visits", NewCounter()); err != nil {
		return err
	}
	n, err := bus.Request[int64](ctx, m.Bus(), bus.Manager(), bus.Service("visits"), "incr", nil)
	fmt.Println(n, err)
	for _, s := range m.Services(ctx) {
		fmt.Println(s.Name, "restarts:", s.Restarts)
	}
	return m.StopService(ctx, "visits")
}

// idleWorker is the worker of Example_service: it registers nothing.
type idleWorker struct{}

func (idleWorker) Launch(context.Context, *cluster.Cluster) error { return nil }

// README: "Services".
func Example_service() {
	fake, err := discordtest.Start(discordtest.WithShards(1), discordtest.WithIdentifyWindow(time.Millisecond),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	ready := make(chan struct{})
	m, err := newCounterBot(fake.Token(),
		megane.WithWorker(func() cluster.Worker { return idleWorker{} }),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond)),
		megane.WithLogger(slog.New(slog.DiscardHandler)),
		megane.WithEventHandler(func(e cluster.Event) {
			if e.Kind == cluster.EventAllReady {
				close(ready)
			}
		}))
	if err != nil {
		panic(err)
	}
	ctx, stop, err := runUntilReady(context.Background(), m, ready)
	if err != nil {
		panic(err)
	}

	fmt.Println(useCounter(ctx, m))
	fmt.Println(stop())
	// Output:
	// 1 <nil>
	// 2 <nil>
	// 1 <nil>
	// counter restarts: 0
	// visits restarts: 0
	// <nil>
	// <nil>
}

// Jukebox is a worker that adds a figure of its own to its cluster's stats.
type Jukebox struct{}

// Launch registers the worker's listeners (none here).
func (*Jukebox) Launch(context.Context, *cluster.Cluster) error { return nil }

// Stats runs at every collection; numbers become megane_custom{cluster,key}.
func (*Jukebox) Stats() map[string]any { return map[string]any{"songs_playing": 3} }

// README: "Stats". A Manager of two clusters runs on the fake Discord.
func Example_stats() {
	fake, err := discordtest.Start(discordtest.WithShards(2), discordtest.WithGuilds(40),
		discordtest.WithIdentifyWindow(10*time.Millisecond), discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	ready := make(chan struct{})
	m, err := megane.New(fake.Token(),
		megane.WithWorker(func() cluster.Worker { return &Jukebox{} }),
		megane.WithClusters(2),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond)),
		megane.WithLogger(slog.New(slog.DiscardHandler)),
		megane.WithEventHandler(func(e cluster.Event) {
			if e.Kind == cluster.EventAllReady {
				close(ready)
			}
		}))
	if err != nil {
		panic(err)
	}
	ctx, stop, err := runUntilReady(context.Background(), m, ready)
	if err != nil {
		panic(err)
	}

	snap, err := m.Stats(ctx) // collected now; m.LatestStats() is the last periodic one
	t := snap.Totals
	fmt.Println(t.Clusters, t.ClustersReady, t.ShardsReady, t.Guilds, err) // 2 2 2 40 <nil>
	c1, _ := snap.Cluster(1)
	fmt.Println(c1.State, c1.Custom["songs_playing"]) // ready 3

	// Export to Prometheus, with the Go and process collectors; serve it on loopback only.
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.PrometheusCollector(), // megane_*: read at scrape time
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if l := lines.Text(); strings.HasPrefix(l, "megane_custom{") || strings.HasPrefix(l, "megane_shards_ready ") {
			fmt.Println(l)
		}
	}
	fmt.Println(stop())
	// Output:
	// 2 2 2 40 <nil>
	// ready 3
	// megane_custom{cluster="0",key="songs_playing"} 3
	// megane_custom{cluster="1",key="songs_playing"} 3
	// megane_shards_ready 2
	// <nil>
}

// TestREADMEFakeDiscord is the README's "Testing your bot with the fake
// Discord" test: a resume after op 7 spends no identify.
func TestREADMEFakeDiscord(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t, discordtest.WithShards(2), discordtest.WithGuilds(50),
		discordtest.WithIdentifyWindow(time.Millisecond))

	ready, resumed := make(chan struct{}), make(chan int, 8)
	sh := testShared()
	m, err := megane.New(fake.Token(),
		megane.WithWorker(func() cluster.Worker { return &pingBot{shared: sh} }),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), // the fake's scaled-down window
			shard.WithIdentifyMargin(20*time.Millisecond)),
		megane.WithLogger(slog.New(slog.DiscardHandler)),
		megane.WithEventHandler(func(e cluster.Event) {
			switch e.Kind {
			case cluster.EventAllReady:
				close(ready)
			case cluster.EventShardResumed:
				select { // never block the Manager's event delivery
				case resumed <- e.Shard:
				default:
				}
			}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-ready

	if err := fake.Reconnect(0); err != nil { // fault: op 7 on shard 0
		t.Fatal(err)
	}
	if shardID := <-resumed; shardID != 0 {
		t.Fatalf("shard %d resumed, want 0", shardID)
	}
	if c := fake.Counters(); c.Identifies != 2 || c.Resumes != 1 {
		t.Errorf("identifies = %d, resumes = %d; want 2 and 1", c.Identifies, c.Resumes)
	}
	// The ledger lists every sequence number sent to each session.
	sessions := fake.Ledger().Sessions(0)
	if len(sessions) != 1 || fake.Ledger().LastSeq(0, sessions[0]) < 2 {
		t.Errorf("shard 0 sessions = %v", sessions)
	}
}

// testShared is the workers' shared state for tests that run a Manager.
func testShared() *shared {
	return &shared{counters: newCounters(nil), ttl: time.Second, warned: new(atomic.Bool)}
}

// README: "Restarts: what survives".
func restartEverything(ctx context.Context, m *megane.Manager) error {
	// One cluster, keeping its sessions and cache; returns once it is ready again.
	if err := m.Restart(ctx, 3, cluster.RestartResume); err != nil {
		return err
	}
	// Every cluster's worker, cluster by cluster, each after the previous is ready.
	if err := m.RollingRestart(ctx, cluster.RestartWorker); err != nil {
		return err
	}
	// Every cluster at once, from scratch.
	return m.RestartAll(ctx, cluster.RestartFull)
}

// README: "Rolling restarts" (compiled; TestRollingRestartGate and its
// neighbours in the megane package run the same calls).
func rollGently(ctx context.Context, m *megane.Manager) error {
	// 10 s between clusters; the next one restarts only once the previous
	// one is ready and handles at least 80% of its former event rate
	// (measured over 2 s windows), within a minute.
	err := m.RollingRestart(ctx, cluster.RestartResume,
		megane.RollPause(10*time.Second),
		megane.RollGate(0.8, 2*time.Second, time.Minute))
	var gate *megane.RollGateError
	if errors.As(err, &gate) {
		return fmt.Errorf("cluster %d did not recover; the rest were left alone: %w", gate.Cluster, err)
	}
	if err != nil {
		return err
	}
	// The services too, in name order, each once the previous is ready.
	return m.RollingRestartServices(ctx, megane.RollPause(time.Second))
}

var _ = rollGently

// TestREADMERestarts runs the README's restart calls against the fake: the
// resume restart spends no identify, the full restart one per shard.
func TestREADMERestarts(t *testing.T) {
	t.Parallel()
	const shards = 4
	fake := discordtest.New(t, discordtest.WithShards(shards), discordtest.WithGuilds(40),
		discordtest.WithIdentifyWindow(time.Millisecond))
	ready := make(chan struct{})
	sh := testShared()
	m, err := megane.New(fake.Token(),
		megane.WithWorker(func() cluster.Worker { return &pingBot{shared: sh} }),
		megane.WithService(pingService, newPingCounter()),
		megane.WithClusters(shards),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond)),
		megane.WithLogger(slog.New(slog.DiscardHandler)),
		megane.WithEventHandler(func(e cluster.Event) {
			if e.Kind == cluster.EventAllReady {
				close(ready)
			}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop, err := runUntilReady(t.Context(), m, ready)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	if err := restartEverything(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := fake.Counters().Identifies; got != 2*shards {
		t.Errorf("identifies = %d, want %d (the first start and the full restart)", got, 2*shards)
	}
	for _, c := range m.Clusters() {
		// Resume and full restarts count; worker-only reloads do not.
		want := 1
		if c.ID == 3 {
			want = 2
		}
		if c.Restarts != want || c.Status != supervisor.StateReady {
			t.Errorf("cluster %d: %d restarts, %s; want %d, ready", c.ID, c.Restarts, c.Status, want)
		}
	}
}

// runUntilReady runs m in the background and returns once ready is closed
// (the caller closes it on EventAllReady), or with an error if Run returns
// first. stop cancels Run and returns Run's result.
func runUntilReady(parent context.Context, m *megane.Manager, ready <-chan struct{}) (ctx context.Context, stop func() error, err error) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-ready:
		return ctx, func() error { cancel(); return <-done }, nil
	case err := <-done:
		cancel()
		return nil, nil, fmt.Errorf("example: Run returned before every cluster was ready: %v", err)
	}
}

// TestREADMEBlocksAreTested checks that every Go block of README.md, except
// the complete program (checked by compiling it), appears line for line in
// this package's files (the README's own examples here, or the example
// bot's code), so the README shows only code that compiles and runs.
func TestREADMEBlocksAreTested(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var sources [][]string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, codeLines(string(src)))
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go blocks")
	}
	for _, b := range blocks {
		want := codeLines(b[1])
		if len(want) == 0 || strings.HasPrefix(want[0], "package ") {
			continue
		}
		if !slices.ContainsFunc(sources, func(have []string) bool { return containsRun(have, want) }) {
			t.Errorf("README block starting %q is in no file of example/", want[0])
		}
	}
}

// TestREADMEProgramCompiles builds the README's complete program (its Go
// block that starts with "package main") with the go command, through an
// overlay that places it in a package of this module that exists only for
// the build, so it compiles against the current API.
func TestREADMEProgramCompiles(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var program string
	for _, b := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.HasPrefix(b[1], "package main") {
			program = b[1]
		}
	}
	if program == "" {
		t.Fatal("README.md has no complete program")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goCmd = filepath.Join(root, "bin", "go")
		} else {
			t.Fatalf("the go command is needed to build the README's program: %v", err)
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(program), 0o600); err != nil {
		t.Fatal(err)
	}
	virtual, err := filepath.Abs(filepath.Join("readmebot", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {virtual: src}})
	if err != nil {
		t.Fatal(err)
	}
	overlayPath := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayPath, overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), goCmd, "build", "-overlay", overlayPath, "-o", os.DevNull, "./readmebot")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the README's program does not build: %v\n%s", err, out)
	}
}

// codeLines returns the non-empty lines of src without their indentation.
func codeLines(src string) []string {
	var out []string
	for _, l := range strings.Split(src, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// containsRun reports whether want occurs as consecutive lines of have.
func containsRun(have, want []string) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		if slices.Equal(have[i:i+len(want)], want) {
			return true
		}
	}
	return false
}
