package megane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/service"
)

// fakeRoll is a rolling restart over fake clusters, in a synctest bubble:
// each fake cluster's dispatch count is a function of the bubble's clock.
type fakeRoll struct {
	mu       sync.Mutex
	order    []int                // cluster IDs, in restart order
	at       map[int]time.Time    // when each cluster restarted
	events   []cluster.Event      // what roll emitted
	clusters map[int]*fakeTraffic // by ID
}

// fakeTraffic is a fake cluster's traffic: rate events/s from start until
// its restart, then none for recoverAfter (never if negative), then
// recovered events/s.
type fakeTraffic struct {
	rate, recovered float64
	recoverAfter    time.Duration
}

func newFakeRoll(traffic ...fakeTraffic) (*fakeRoll, []rollStep) {
	f := &fakeRoll{at: map[int]time.Time{}, clusters: map[int]*fakeTraffic{}}
	start := time.Now()
	steps := make([]rollStep, len(traffic))
	for id := range traffic {
		tr := &traffic[id]
		f.clusters[id] = tr
		steps[id] = rollStep{
			cluster: id,
			restart: func(context.Context) error {
				f.mu.Lock()
				defer f.mu.Unlock()
				f.order = append(f.order, id)
				f.at[id] = time.Now()
				return nil
			},
			dispatched: func() (int, uint64) {
				now := time.Now()
				f.mu.Lock()
				defer f.mu.Unlock()
				at, ok := f.at[id]
				if !ok {
					return 1, uint64(now.Sub(start).Seconds() * tr.rate)
				}
				since := now.Sub(at) - tr.recoverAfter
				if tr.recoverAfter < 0 || since < 0 {
					return 2, 0
				}
				return 2, uint64(since.Seconds() * tr.recovered)
			},
		}
	}
	return f, steps
}

func (f *fakeRoll) emit(e cluster.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
}

// progress lists the progress events as "cluster/done/total", with "err"
// appended when Err is set.
func (f *fakeRoll) progress() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return progressOf(f.events)
}

func progressOf(events []cluster.Event) []string {
	var out []string
	for _, e := range events {
		if e.Kind != cluster.EventRollingProgress {
			continue
		}
		s := fmt.Sprintf("%d%s/%d/%d", e.Cluster, e.Service, e.Done, e.Total)
		if e.Err != nil {
			s += "/err"
		}
		out = append(out, s)
	}
	return out
}

func (f *fakeRoll) restartOrder() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.order)
}

func gateOf(fraction float64, window, timeout time.Duration) rollConfig {
	cfg, err := rollOptions([]RollOption{RollGate(fraction, window, timeout)})
	if err != nil {
		panic(err)
	}
	return cfg
}

// TestRollPause: the clusters restart in order, exactly the pause apart,
// with a progress event after each and a final one.
func TestRollPause(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, steps := newFakeRoll(fakeTraffic{}, fakeTraffic{}, fakeTraffic{})
		cfg, err := rollOptions([]RollOption{RollPause(30 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := roll(t.Context(), steps, cfg, f.emit); err != nil {
			t.Fatal(err)
		}
		if got := f.restartOrder(); !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("restart order %v", got)
		}
		for id, want := range []time.Duration{0, 30 * time.Second, time.Minute} {
			if got := f.at[id].Sub(start); got != want {
				t.Errorf("cluster %d restarted at +%v, want +%v", id, got, want)
			}
		}
		want := []string{"0/1/3", "1/2/3", "2/3/3", "-1/3/3"}
		if got := f.progress(); !slices.Equal(got, want) {
			t.Fatalf("progress %v, want %v", got, want)
		}
	})
}

// TestRollGateWaitsForRate: cluster 0's traffic comes back 3 s after its
// restart, so cluster 1 restarts only once a whole window at the old rate
// has been seen (5 s after cluster 0's restart, where "ready is enough"
// would take 1 s: cluster 1's own baseline window). A cluster without
// traffic before its restart passes once ready.
func TestRollGateWaitsForRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c0   fakeTraffic
		want time.Duration // from cluster 0's restart to cluster 1's
	}{
		{"recovers at once", fakeTraffic{rate: 10, recovered: 10}, 2 * time.Second},
		{"recovers after 3s", fakeTraffic{rate: 10, recovered: 10, recoverAfter: 3 * time.Second}, 5 * time.Second},
		{"recovers to half", fakeTraffic{rate: 10, recovered: 5, recoverAfter: 3 * time.Second}, 5 * time.Second},
		{"no traffic before", fakeTraffic{rate: 0, recoverAfter: -1}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f, steps := newFakeRoll(tt.c0, fakeTraffic{})
				if err := roll(t.Context(), steps, gateOf(0.5, time.Second, time.Minute), f.emit); err != nil {
					t.Fatal(err)
				}
				if got := f.at[1].Sub(f.at[0]); got != tt.want {
					t.Fatalf("cluster 1 restarted %v after cluster 0, want %v", got, tt.want)
				}
			})
		})
	}
}

// TestRollGateTimeout: a cluster whose traffic does not recover (or only
// below the fraction) within the timeout stops the roll with a
// *RollGateError naming it; the next cluster is not restarted.
func TestRollGateTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c0   fakeTraffic
		best float64
	}{
		{"never", fakeTraffic{rate: 10, recoverAfter: -1}, 0},
		{"below the fraction", fakeTraffic{rate: 10, recovered: 4}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f, steps := newFakeRoll(tt.c0, fakeTraffic{})
				start := time.Now()
				err := roll(t.Context(), steps, gateOf(0.5, time.Second, 10*time.Second), f.emit)
				var ge *RollGateError
				if !errors.As(err, &ge) {
					t.Fatalf("err %v, want a *RollGateError", err)
				}
				if ge.Cluster != 0 || ge.Before != 10 || ge.Best != tt.best || ge.Timeout != 10*time.Second {
					t.Fatalf("gate error %+v", ge)
				}
				if got := time.Since(start); got != 11*time.Second {
					t.Errorf("failed after %v, want 11s (1s baseline + 10s timeout)", got)
				}
				if got := f.restartOrder(); !slices.Equal(got, []int{0}) {
					t.Fatalf("restart order %v, want only cluster 0", got)
				}
				if got, want := f.progress(), []string{"-1/0/2/err"}; !slices.Equal(got, want) {
					t.Fatalf("progress %v, want %v", got, want)
				}
			})
		})
	}
}

// TestRollCancel: ending ctx in the pause or in the gate returns ctx's
// error wrapped, and restarts nothing more.
func TestRollCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []RollOption
		c0   fakeTraffic
	}{
		{"in the pause", []RollOption{RollPause(time.Hour)}, fakeTraffic{}},
		{"in the gate", []RollOption{RollGate(0.5, time.Second, time.Hour)}, fakeTraffic{rate: 10, recoverAfter: -1}},
		{"in the baseline", []RollOption{RollPause(time.Second), RollGate(0.5, time.Hour, time.Hour)}, fakeTraffic{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				cfg, err := rollOptions(tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				f, steps := newFakeRoll(tt.c0, fakeTraffic{})
				ctx, cancel := context.WithCancel(t.Context())
				errc := make(chan error, 1)
				go func() { errc <- roll(ctx, steps, cfg, f.emit) }()
				time.Sleep(2 * time.Minute) // bubble time: past cluster 0, inside the wait
				synctest.Wait()
				wantOrder := []int{0}
				if tt.name == "in the baseline" {
					wantOrder = nil // cluster 0's baseline is an hour
				}
				if got := f.restartOrder(); !slices.Equal(got, wantOrder) {
					t.Fatalf("restarted %v before the cancel, want %v", got, wantOrder)
				}
				cancel()
				err = <-errc
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err %v, want context.Canceled wrapped", err)
				}
				if got := f.restartOrder(); !slices.Equal(got, wantOrder) {
					t.Fatalf("restarted %v, want %v", got, wantOrder)
				}
			})
		})
	}
}

// TestRollOptionsInvalid: invalid values are *OptionErrors, before
// anything is restarted.
func TestRollOptionsInvalid(t *testing.T) {
	t.Parallel()
	for _, o := range []RollOption{nil, RollPause(-1), RollGate(0, time.Second, time.Second),
		RollGate(1.5, time.Second, time.Second), RollGate(0.5, 0, time.Second), RollGate(0.5, time.Second, 0)} {
		m := &Manager{}
		if err := m.RollingRestart(context.Background(), cluster.RestartResume, o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("err %v, want ErrInvalidOption", err)
		}
	}
}

// TestRollingRestartGate runs the gate against the fake's traffic: with
// traffic running it passes, in order, with progress events; when cluster
// 0's traffic stops at its restart (a full restart, so nothing is
// replayed) the roll fails with a *RollGateError for cluster 0 and cluster
// 1 is not restarted.
func TestRollingRestartGate(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2, discordtest.WithRate(100))
	tl := newTally()
	var stopTraffic sync.Once
	var armed atomic.Bool
	handler := func(e cluster.Event) {
		tl.event(e)
		if e.Kind == cluster.EventRestarted && e.Cluster == 0 && armed.Load() {
			stopTraffic.Do(func() { fake.SetRate(0) })
		}
	}
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(2), WithWorker(workerOf(tl)), WithEventHandler(handler))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	tl.mu.Lock()
	from := len(tl.events)
	tl.mu.Unlock()
	if err := m.RollingRestart(ctx, cluster.RestartResume, RollGate(0.3, 200*time.Millisecond, 10*time.Second), RollPause(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	tl.mu.Lock()
	got := progressOf(tl.events[from:])
	tl.mu.Unlock()
	if want := []string{"0/1/2", "1/2/2", "-1/2/2"}; !slices.Equal(got, want) {
		t.Fatalf("progress %v, want %v", got, want)
	}

	tl.mu.Lock()
	from = len(tl.events)
	tl.mu.Unlock()
	armed.Store(true)
	err = m.RollingRestart(ctx, cluster.RestartFull, RollGate(0.5, 100*time.Millisecond, 500*time.Millisecond))
	var ge *RollGateError
	if !errors.As(err, &ge) || ge.Cluster != 0 || ge.Before == 0 {
		t.Fatalf("err %v, want a *RollGateError for cluster 0 with a rate before", err)
	}
	tl.mu.Lock()
	restarted1 := false
	for _, e := range tl.events[from:] {
		restarted1 = restarted1 || e.Kind == cluster.EventRestarted && e.Cluster == 1
	}
	got = progressOf(tl.events[from:])
	tl.mu.Unlock()
	if restarted1 {
		t.Fatal("cluster 1 was restarted after cluster 0 failed its gate")
	}
	if want := []string{"-1/0/2/err"}; !slices.Equal(got, want) {
		t.Fatalf("progress %v, want %v", got, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// heldSvc is a service whose second and later runs wait for hold before
// calling Ready; it counts its runs.
type heldSvc struct {
	mu   sync.Mutex
	runs int
	hold chan struct{}
}

func (s *heldSvc) Serve(ctx context.Context, sc *service.Context) error {
	s.mu.Lock()
	s.runs++
	n := s.runs
	s.mu.Unlock()
	if n > 1 && s.hold != nil {
		select {
		case <-s.hold:
		case <-ctx.Done():
			return nil
		}
	}
	sc.Ready()
	<-ctx.Done()
	return nil
}

func (s *heldSvc) Runs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs
}

// TestRollingRestartServices: the services restart in name order, each
// only once the previous one is ready again, with progress events naming
// them.
func TestRollingRestartServices(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	a, b := &heldSvc{hold: make(chan struct{})}, &heldSvc{}
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithWorker(workerOf(tl)),
		WithService("b", b), WithService("a", a))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)
	tl.waitFor(t, "both services ready", func(tl *tally) bool {
		return serviceStates(tl, "a", "ready") == 1 && serviceStates(tl, "b", "ready") == 1
	})
	tl.mu.Lock()
	from := len(tl.events)
	tl.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- m.RollingRestartServices(ctx) }()
	testutil.Eventually(t, testTimeout, "a's second run", func() bool { return a.Runs() == 2 })
	// a's new run is not ready: b must wait.
	select {
	case err := <-errc:
		t.Fatalf("RollingRestartServices returned %v before a was ready", err)
	default:
	}
	if n := b.Runs(); n != 1 {
		t.Fatalf("b restarted (%d runs) before a was ready again", n)
	}
	close(a.hold)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := b.Runs(); n != 2 {
		t.Fatalf("b ran %d times, want 2", n)
	}
	tl.mu.Lock()
	got := progressOf(tl.events[from:])
	tl.mu.Unlock()
	if want := []string{"-1a/1/2", "-1b/2/2", "-1/2/2"}; !slices.Equal(got, want) {
		t.Fatalf("progress %v, want %v", got, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRollingRestartServicesNotServing: before Run there is nothing to
// roll.
func TestRollingRestartServicesNotServing(t *testing.T) {
	t.Parallel()
	m := &Manager{}
	if err := m.RollingRestartServices(context.Background()); !errors.Is(err, service.ErrNotServing) {
		t.Fatalf("err %v, want service.ErrNotServing", err)
	}
}
