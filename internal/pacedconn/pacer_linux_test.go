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

// TestStopWritesNoReusedFD: the pacer closes its stop pipe when it exits,
// and the kernel gives the number to the next file opened; the write that
// stops the pacer must not land in that file. The test lets the pacer
// exit as soon as quit is closed (a pipe of its own in the pacer's epoll
// set ends any wait), opens socket pairs until one takes the number of
// the stop pipe's write end, and checks that nothing was written to it.
// Not parallel: no other test may open a file meanwhile.
func TestStopWritesNoReusedFD(t *testing.T) {
	const period = 4*time.Millisecond + 13*time.Microsecond // no other test's
	// pair, not an echo server: the peer's goroutine opens no file (an
	// echo's splice opens pipes) while the test takes the fd numbers.
	c, _ := pair(t, period)
	p := c.pacer
	var wake [2]int
	if err := syscall.Pipe2(wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Close(wake[0]); _ = syscall.Close(wake[1]) }()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: -1} // an id no conn has
	if err := syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_ADD, wake[0], &ev); err != nil {
		t.Fatal(err)
	}
	stopW := p.stopW
	var opened []int
	defer func() {
		for _, fd := range opened {
			_ = syscall.Close(fd)
		}
	}()
	victim := -1 // the other end of the socket pair that took stopW
	pacers.mu.Lock()
	p.onQuit = func() {
		_, _ = syscall.Write(wake[1], []byte{1})
		select {
		case <-p.done:
		case <-time.After(hangGuard):
			t.Errorf("the pacer did not exit in %v", hangGuard)
			return
		}
		for range 64 {
			sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Errorf("socketpair: %v", err)
				return
			}
			opened = append(opened, sp[0], sp[1])
			switch stopW {
			case sp[0]:
				victim = sp[1]
			case sp[1]:
				victim = sp[0]
			default:
				continue
			}
			return
		}
	}
	pacers.mu.Unlock()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}
	if victim < 0 {
		t.Fatalf("no new socket took fd %d, the stop pipe's write end (opened %v)", stopW, opened)
	}
	buf := make([]byte, 8)
	if n, err := syscall.Read(victim, buf); n > 0 {
		t.Fatalf("the pacer's stop wrote %q into a socket opened after the pacer exited (fd %d)", buf[:n], stopW)
	} else if err != syscall.EAGAIN {
		t.Fatalf("read of the socket pair: %d, %v; want EAGAIN", n, err)
	}
}
