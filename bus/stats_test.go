package bus

import (
	"context"
	"errors"
	"testing"
)

// TestBusStats: Bus.Stats counts a full mailbox's refusals, keeps them
// across a restart (a new mailbox on the same address), and forgets them
// with the address.
func TestBusStats(t *testing.T) {
	t.Parallel()
	b := New(WithMailboxSize(1))
	ctx := context.Background()
	fill := func() {
		t.Helper()
		if err := b.Send(ctx, Manager(), Cluster(0), "echo", "x"); err != nil {
			t.Fatalf("first Send: %v", err)
		}
		if err := b.Send(ctx, Manager(), Cluster(0), "echo", "x"); !errors.Is(err, ErrMailboxFull) {
			t.Fatalf("Send to a full mailbox = %v, want ErrMailboxFull", err)
		}
	}
	m, err := b.Attach(Cluster(0), echoMux(Cluster(0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Attach(Service("svc"), nil, WithCapacity(3)); err != nil {
		t.Fatal(err)
	}
	fill()
	st := b.Stats()
	if s := st[Cluster(0)]; s.Full != 1 || s.Delivered != 1 || s.Pending != 1 || s.Capacity != 1 {
		t.Fatalf("cluster/0 = %+v", s)
	}
	if s, ok := st[Service("svc")]; !ok || s.Capacity != 3 || s.Pending != 0 || len(st) != 2 {
		t.Fatalf("Stats = %+v", st)
	}

	m.Detach() // the queued message is dropped: Stopped
	if s := b.Stats()[Cluster(0)]; s.Full != 1 || s.Stopped != 1 || s.Pending != 0 {
		t.Fatalf("detached cluster/0 = %+v", s)
	}
	if _, err := b.Attach(Cluster(0), echoMux(Cluster(0))); err != nil {
		t.Fatal(err)
	}
	fill()
	if s := b.Stats()[Cluster(0)]; s.Full != 2 || s.Stopped != 1 || s.Delivered != 2 || s.Pending != 1 {
		t.Fatalf("restarted cluster/0 = %+v, want the first mailbox's counters added", s)
	}

	b.Forget(Cluster(0))
	if _, ok := b.Stats()[Cluster(0)]; ok {
		t.Fatal("a forgotten address is still in Stats")
	}
}
