package megane

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
)

const panicFunc = "megane-test.boom"

func panicInFunc() { panic("func boom") }

// TestManagerPanicsKeepClustersRunning proves that a broadcast command, an
// EvalFunc and an Eval that panic on every cluster of a Manager give one
// *bus.HandlerError per cluster, with the panicking function's stack,
// and leave every cluster running: no crash, no restart, no new worker,
// and every cluster answers the next broadcast.
func TestManagerPanicsKeepClustersRunning(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 4)
	tl := newTally()
	var workers atomic.Int32
	factory := func() cluster.Worker {
		workers.Add(1)
		return &busWorker{tallyWorker: tallyWorker{t: tl}}
	}
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(2), WithWorker(factory))...)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bus()
	if err := bus.RegisterFunc(b, panicFunc, func(context.Context, *cluster.Cluster, int) (int, error) {
		panicInFunc()
		return 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	run(t, m)
	waitAllReady(t, tl)

	tests := []struct {
		name string
		call func(ctx context.Context) ([]bus.Result[int], error)
		fn   string // the function the stack must name
	}{
		{"broadcast command", func(ctx context.Context) ([]bus.Result[int], error) {
			return bus.Broadcast[int](ctx, b, bus.Manager(), bus.AllClusters(), "boom", nil), nil
		}, "megane.(*busWorker).boom"},
		{"EvalFunc", func(ctx context.Context) ([]bus.Result[int], error) {
			return bus.EvalFunc[int, int](ctx, b, bus.Manager(), bus.AllClusters(), panicFunc, 1)
		}, "megane.panicInFunc"},
		{"Eval", func(ctx context.Context) ([]bus.Result[int], error) {
			return bus.Eval(ctx, b, bus.Manager(), bus.AllClusters(), func(context.Context, *cluster.Cluster) (int, error) {
				panic("eval boom")
			})
		}, "megane.TestManagerPanicsKeepClustersRunning"},
	}
	for _, tt := range tests {
		res, err := tt.call(ctxFor(t))
		if err != nil || len(res) != 2 {
			t.Fatalf("%s = %+v, %v; want two results", tt.name, res, err)
		}
		for i, r := range res {
			var he *bus.HandlerError
			if !errors.Is(r.Err, bus.ErrHandlerPanic) || !errors.As(r.Err, &he) || r.From != bus.Cluster(i) {
				t.Fatalf("%s: result %d = %+v, want a *bus.HandlerError matching ErrHandlerPanic", tt.name, i, r)
			}
			if !strings.Contains(string(he.Stack), tt.fn) {
				t.Fatalf("%s: result %d: stack does not name %s:\n%s", tt.name, i, tt.fn, he.Stack)
			}
			if strings.Contains(r.Err.Error(), fake.Token()) || strings.Contains(string(he.Stack), fake.Token()) {
				t.Fatalf("%s: the token is in the panic's error or stack", tt.name)
			}
		}
	}

	ids := bus.Broadcast[int](ctxFor(t), b, bus.Manager(), bus.AllClusters(), "id", nil)
	if len(ids) != 2 || ids[0].Err != nil || ids[0].Value != 0 || ids[1].Err != nil || ids[1].Value != 1 {
		t.Fatalf("broadcast after the panics = %+v, want both clusters", ids)
	}
	if n := workers.Load(); n != 2 {
		t.Errorf("%d workers made, want 2 (no restart, no reload)", n)
	}
	for i := range 2 {
		c, err := m.Cluster(i)
		if err != nil {
			t.Fatal(err)
		}
		if c.Restarts() != 0 || c.Crashes() != 0 {
			t.Errorf("cluster %d: Restarts %d, Crashes %d; want 0", i, c.Restarts(), c.Crashes())
		}
	}
	tl.mu.Lock()
	crashed, restarted := tl.count(cluster.EventCrashed, -1), tl.count(cluster.EventRestarted, -1)
	tl.mu.Unlock()
	if crashed != 0 || restarted != 0 {
		t.Errorf("%d ClusterCrashed and %d ClusterRestarted events, want none", crashed, restarted)
	}
}
