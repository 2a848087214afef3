package engine

import (
	"context"
	"testing"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/supervisor"
)

// TestClusterStateWithoutOwner: before Serve and after it has returned no
// goroutine owns the cluster's state; commands are applied by their
// callers and reads see their effect at once.
func TestClusterStateWithoutOwner(t *testing.T) {
	t.Parallel()
	c := New("x", 0, []int{0}, 1, nil, WithStandby(true))
	if !c.Standby() {
		t.Fatal("a standby cluster is not in standby before Serve")
	}
	c.Activate()
	if c.Standby() {
		t.Fatal("Standby() = true after Activate before Serve")
	}
	c.ReleaseBus()
	if err := c.Serve(context.Background()); !isErr(err, ErrNoWorker) {
		t.Fatalf("Serve = %v, want ErrNoWorker", err)
	}
	// After Serve has returned the same calls return at once.
	c.Activate()
	c.ReleaseBus()
	if err := c.RestartAndWait(context.Background(), cluster.RestartFull); !isErr(err, cluster.ErrStopped) {
		t.Fatalf("RestartAndWait after Serve = %v, want ErrStopped", err)
	}
	if c.Client() != nil || c.Standby() {
		t.Fatalf("after Serve: Client() = %v, Standby() = %v", c.Client(), c.Standby())
	}
}

// TestClusterSecondServeWhileServing: a second Serve that finds the owner
// running asks it and fails, leaving the first one serving.
func TestClusterSecondServeWhileServing(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	h := newHarness(t, fake, []int{0}, 1, plainWorker)
	h.start()
	h.waitReady()
	if err := h.c.Serve(context.Background()); !isErr(err, ErrAlreadyServed) {
		t.Fatalf("second Serve = %v, want ErrAlreadyServed", err)
	}
	if got := h.c.Status(); got != supervisor.StateReady {
		t.Fatalf("Status after a second Serve = %v, want ready", got)
	}
	h.restartAndWait(cluster.RestartResume)
	if err := h.stop(); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}
