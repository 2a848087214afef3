package pacedconn

import (
	"io"
	"syscall"
	"testing"
	"time"
)

// pacerOf returns the running pacer of period, or nil.
func pacerOf(period time.Duration) *pacer {
	pacers.mu.Lock()
	defer pacers.mu.Unlock()
	return pacers.byTime[period]
}

func TestEdgeTriggeredBit(t *testing.T) {
	t.Parallel()
	et := int32(syscall.EPOLLET)
	if socketEvents&uint32(et) == 0 {
		t.Fatalf("socketEvents %#x lacks EPOLLET %#x", socketEvents, uint32(et))
	}
}

// TestPacerLifecycle: the conns of one period share one pacer, which
// exits when the last is closed; the next conn starts a new one. The
// period is one no other test uses.
func TestPacerLifecycle(t *testing.T) {
	t.Parallel()
	const period = 3*time.Millisecond + 7*time.Microsecond
	addr := echoServer(t)
	var conns []*conn
	for range 3 {
		conns = append(conns, dial(t, period, addr))
	}
	p := pacerOf(period)
	for _, c := range conns {
		if c.pacer != p || p == nil {
			t.Fatalf("conn's pacer %p, the period's %p: want one shared pacer", c.pacer, p)
		}
	}
	for i, c := range conns {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.done:
			if i < len(conns)-1 {
				t.Fatalf("the pacer exited with %d conns left", len(conns)-1-i)
			}
		default:
		}
	}
	recv(t, p.done, "pacer exit")
	if pacerOf(period) != nil {
		t.Fatal("the stopped pacer is still registered")
	}
	c := dial(t, period, addr)
	if c.pacer == p || c.pacer != pacerOf(period) {
		t.Fatal("a conn after the last close did not get a new pacer")
	}
	_ = c.Close()
	recv(t, c.pacer.done, "second pacer exit")
}

// TestPacerIdlesOnUnreadSockets: a socket that holds unread data and
// whose peer has hung up, with no reader, is not reported by the pacer
// again and again. A level-triggered registration would report it at
// every wait: a busy loop with period 0. Its reports are counted over
// round trips on another conn of the same pacer, each of which wakes the
// pacer about once.
func TestPacerIdlesOnUnreadSockets(t *testing.T) {
	t.Parallel()
	idle, peer := pair(t, 0)
	if _, err := peer.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	_ = peer.Close()
	// Read one byte, so that the data has surely arrived.
	if _, err := io.ReadFull(idle, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	events := func() uint64 {
		idle.pacer.mu.Lock()
		defer idle.pacer.mu.Unlock()
		return idle.events
	}
	active := dial(t, 0, echoServer(t))
	const trips = 200
	before := events()
	buf := make([]byte, 8)
	for i := range trips {
		if _, err := active.Write([]byte("ping1234")); err != nil {
			t.Fatalf("trip %d: %v", i, err)
		}
		if _, err := io.ReadFull(active, buf); err != nil {
			t.Fatalf("trip %d: %v", i, err)
		}
	}
	// The hang-up may still arrive during the trips: one report, or two.
	if n := events() - before; n > 2 {
		t.Fatalf("the idle socket was reported %d times during %d round trips on another", n, trips)
	}
}
