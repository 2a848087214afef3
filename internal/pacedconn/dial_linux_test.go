package pacedconn

import (
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestDialRefused: a port with no listener fails with ECONNREFUSED in a
// *net.OpError of op dial, as net.Dialer fails.
func TestDialRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	for _, period := range periods {
		var d Dialer
		d.Period = period
		_, err := d.DialContext(guard(t), "tcp", addr)
		var op *net.OpError
		if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &op) || op.Op != "dial" || op.Addr.String() != addr {
			t.Fatalf("period %v: dial a closed port = %v, want a dial *net.OpError for %s matching ECONNREFUSED", period, err, addr)
		}
	}
}

// fullListener returns the address of a listening socket whose accept
// queue is full and never drained: the kernel drops further SYNs, so a
// connect to it stays in progress until the dialer gives up.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// Fill the accept queue (its length is the backlog plus one).
	for range 4 {
		ctx, cancel := context.WithTimeout(guard(t), 200*time.Millisecond)
		c, err := (&Dialer{}).DialContext(ctx, "tcp", addr)
		cancel()
		if err != nil {
			return addr
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Fatalf("%s accepted 4 connects with a backlog of 0", addr)
	return ""
}

// TestDialTimeout: a connect that never completes ends at the Dialer's
// Timeout with a timeout net.Error matching context.DeadlineExceeded,
// and at a cancelled context with context.Canceled.
func TestDialTimeout(t *testing.T) {
	t.Parallel()
	addr := fullListener(t)
	d := Dialer{Period: 5 * time.Millisecond, Timeout: 30 * time.Millisecond}
	_, err := d.DialContext(guard(t), "tcp", addr)
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial past the timeout = %v, want a timeout matching context.DeadlineExceeded", err)
	}

	ctx, cancel := context.WithCancel(guard(t))
	errc := make(chan error, 1)
	go func() {
		_, err := (&Dialer{}).DialContext(ctx, "tcp", addr)
		errc <- err
	}()
	cancel()
	if err := recv(t, errc, "dial"); !errors.Is(err, context.Canceled) {
		t.Fatalf("dial with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestDialIPv6 dials the IPv6 loopback, by literal and by the network
// tcp6.
func TestDialIPv6(t *testing.T) {
	t.Parallel()
	ln, peers, ok := acceptor6(t)
	if !ok {
		// No IPv6 loopback here: a paced dial to it must fail, as
		// net.Dialer's does, and not hang.
		if c, err := (&Dialer{}).DialContext(guard(t), "tcp6", "[::1]:9"); err == nil {
			_ = c.Close()
			t.Fatal("a tcp6 dial succeeded on a machine without IPv6 loopback")
		}
		return
	}
	c := dial(t, 0, ln.Addr().String())
	peer := recv(t, peers, "accept")
	if _, err := c.Write([]byte("six")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := peer.Read(buf); err != nil || string(buf) != "six" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	if got := c.RemoteAddr().(*net.TCPAddr); !got.IP.Equal(net.IPv6loopback) {
		t.Fatalf("RemoteAddr = %v, want ::1", got)
	}
	c6, err := (&Dialer{}).DialContext(guard(t), "tcp6", ln.Addr().String())
	if err != nil {
		t.Fatalf("tcp6: %v", err)
	}
	_ = c6.Close()
}

// acceptor6 is acceptor on the IPv6 loopback; ok is false on a machine
// without one.
func acceptor6(t *testing.T) (ln net.Listener, conns <-chan net.Conn, ok bool) {
	t.Helper()
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return nil, nil, false
	}
	_ = probe.Close()
	ln, conns = acceptor(t, "tcp6", "[::1]:0")
	return ln, conns, true
}

// TestDialBadInput: bad networks, addresses and periods get typed errors.
func TestDialBadInput(t *testing.T) {
	t.Parallel()
	ctx := guard(t)
	var unknown net.UnknownNetworkError
	if _, err := (&Dialer{}).DialContext(ctx, "udp", "127.0.0.1:1"); !errors.As(err, &unknown) {
		t.Errorf("udp: %v, want net.UnknownNetworkError", err)
	}
	var addrErr *net.AddrError
	for _, c := range []struct{ network, addr string }{
		{"tcp", "no-port"},
		{"tcp4", "[::1]:80"},
		{"tcp6", "127.0.0.1:80"},
	} {
		_, err := (&Dialer{}).DialContext(ctx, c.network, c.addr)
		var op *net.OpError
		if !errors.As(err, &addrErr) || !errors.As(err, &op) || op.Op != "dial" {
			t.Errorf("%s %s: %v, want a dial *net.OpError with a *net.AddrError", c.network, c.addr, err)
		}
	}
	if _, err := (&Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:no-such-service"); err == nil {
		t.Error("an unknown service resolved")
	}
	if _, err := (&Dialer{Period: -time.Millisecond}).DialContext(ctx, "tcp", "127.0.0.1:1"); !errors.Is(err, ErrPeriod) {
		t.Errorf("negative period: %v, want ErrPeriod", err)
	}
}

// TestDialByName resolves a name with net.DefaultResolver.
func TestDialByName(t *testing.T) {
	t.Parallel()
	ln, peers := acceptor(t, "tcp4", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c, err := (&Dialer{}).DialContext(guard(t), "tcp4", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("dial localhost: %v", err)
	}
	defer c.Close()
	recv(t, peers, "accept")
}

// TestSocketOptions: no Nagle delay, and keep-alive as net.Dialer sets it.
func TestSocketOptions(t *testing.T) {
	t.Parallel()
	ln, _ := acceptor(t, "tcp", "127.0.0.1:0")
	for _, c := range []struct {
		keepAlive      time.Duration
		on, idle, intv int
	}{
		{0, 1, 15, 15},
		{1500 * time.Millisecond, 1, 2, 2},
		{-1, 0, 0, 0},
	} {
		nc, err := (&Dialer{KeepAlive: c.keepAlive}).DialContext(guard(t), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fd := nc.(*conn).fd
		get := func(level, opt int) int {
			v, err := syscall.GetsockoptInt(fd, level, opt)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if get(syscall.IPPROTO_TCP, syscall.TCP_NODELAY) == 0 {
			t.Errorf("keepAlive %v: TCP_NODELAY is off", c.keepAlive)
		}
		on := get(syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		if on != c.on {
			t.Errorf("keepAlive %v: SO_KEEPALIVE = %d, want %d", c.keepAlive, on, c.on)
		}
		if on != 0 {
			idle, intv := get(syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE), get(syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
			cnt := get(syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
			if idle != c.idle || intv != c.intv || cnt != defaultKeepAliveCount {
				t.Errorf("keepAlive %v: idle %d interval %d count %d, want %d %d %d", c.keepAlive, idle, intv, cnt, c.idle, c.intv, defaultKeepAliveCount)
			}
		}
		_ = nc.Close()
	}
}
