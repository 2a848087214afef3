package pacedconn

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// hangGuard bounds every wait of a test: nothing here should take more
// than a fraction of it, even on a loaded machine under -race.
const hangGuard = 30 * time.Second

// periods are the coalescing periods the behaviour tests run with: none,
// and one long enough that most waits meet a sleeping pacer.
var periods = []time.Duration{0, 2 * time.Millisecond}

// guard returns a context that ends at the hang guard or with the test.
func guard(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for one value from ch, failing the test at the hang guard.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(hangGuard):
		t.Fatalf("no %s in %v", what, hangGuard)
		panic("unreachable")
	}
}

// serve listens on addr (127.0.0.1:0 for any port) and runs handle in a
// goroutine of its own for each accepted conn. When the test ends it stops
// accepting, closes stop and the conns, and waits for the handlers.
func serve(t *testing.T, network, addr string, handle func(c net.Conn, stop <-chan struct{})) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var mu sync.Mutex
	var accepted []net.Conn
	var handlers sync.WaitGroup
	stop, acceptDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c)
			mu.Unlock()
			handlers.Go(func() { handle(c, stop) })
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-acceptDone
		close(stop)
		mu.Lock()
		for _, c := range accepted {
			_ = c.Close()
		}
		mu.Unlock()
		handlers.Wait()
	})
	return ln
}

// acceptor listens on addr and hands each accepted conn to the test on
// the returned channel.
func acceptor(t *testing.T, network, addr string) (net.Listener, <-chan net.Conn) {
	t.Helper()
	conns := make(chan net.Conn, 1)
	ln := serve(t, network, addr, func(c net.Conn, stop <-chan struct{}) {
		select {
		case conns <- c:
		case <-stop:
		}
	})
	return ln, conns
}

// echoServer listens on loopback and echoes every accepted connection
// until the peer closes its side.
func echoServer(t *testing.T) string {
	t.Helper()
	return serve(t, "tcp", "127.0.0.1:0", func(c net.Conn, _ <-chan struct{}) {
		_, _ = io.Copy(c, c)
		_ = c.(*net.TCPConn).CloseWrite()
	}).Addr().String()
}

// pair dials a new acceptor on loopback with period and returns both
// ends: the paced conn and the peer's.
func pair(t *testing.T, period time.Duration) (*conn, net.Conn) {
	t.Helper()
	ln, peers := acceptor(t, "tcp", "127.0.0.1:0")
	c := dial(t, period, ln.Addr().String())
	return c, recv(t, peers, "accept")
}

// dial dials addr with a Dialer of period and closes the conn when the
// test ends.
func dial(t *testing.T, period time.Duration, addr string) *conn {
	t.Helper()
	d := Dialer{Period: period}
	nc, err := d.DialContext(guard(t), "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := nc.(*conn)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitSignals gets a value each time a Read (read) or a Write (write) of
// a conn starts waiting; see watch.
type waitSignals struct{ read, write chan struct{} }

// watch installs c's wait signals. Call it once, before c is used by
// another goroutine.
func watch(c *conn) waitSignals {
	s := waitSignals{read: make(chan struct{}, 1), write: make(chan struct{}, 1)}
	c.onWait = func(write bool) {
		ch := s.read
		if write {
			ch = s.write
		}
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return s
}

// drain drops a signal left by an earlier call.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// isClosed reports whether err is net's "use of closed network connection".
func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }
