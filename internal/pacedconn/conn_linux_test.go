package pacedconn

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestEcho writes and reads back payloads of many sizes, reading with
// buffers of random sizes, under each coalescing period.
func TestEcho(t *testing.T) {
	t.Parallel()
	addr := echoServer(t)
	for _, period := range periods {
		t.Run(period.String(), func(t *testing.T) {
			t.Parallel()
			c := dial(t, period, addr)
			rng := rand.New(rand.NewPCG(1, uint64(period)))
			for _, size := range []int{1, 2, 100, 1460, 4096, 65535, 65536, 1 << 20, 4<<20 + 3} {
				want := make([]byte, size)
				for i := range want {
					want[i] = byte(rng.Uint32())
				}
				werr := make(chan error, 1)
				go func() {
					n, err := c.Write(want)
					if err == nil && n != len(want) {
						err = fmt.Errorf("wrote %d of %d bytes", n, len(want))
					}
					werr <- err
				}()
				got := make([]byte, 0, size)
				for len(got) < size {
					buf := make([]byte, 1+rng.IntN(8192))
					n, err := c.Read(buf[:min(len(buf), size-len(got))])
					if err != nil {
						t.Fatalf("size %d: read after %d bytes: %v", size, len(got), err)
					}
					got = append(got, buf[:n]...)
				}
				if err := recv(t, werr, "write"); err != nil {
					t.Fatalf("size %d: write: %v", size, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("size %d: echoed bytes differ", size)
				}
			}
		})
	}
}

// TestReadWaitsForData: a Read on an empty socket waits, and returns the
// data that arrives afterwards.
func TestReadWaitsForData(t *testing.T) {
	t.Parallel()
	for _, period := range periods {
		t.Run(period.String(), func(t *testing.T) {
			t.Parallel()
			c, peer := pair(t, period)
			waiting := watch(c).read
			got := make(chan string, 1)
			go func() {
				buf := make([]byte, 64)
				n, err := c.Read(buf)
				if err != nil {
					got <- err.Error()
					return
				}
				got <- string(buf[:n])
			}()
			recv(t, waiting, "waiting read")
			if _, err := peer.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			if s := recv(t, got, "read"); s != "hello" {
				t.Fatalf("read %q, want hello", s)
			}
		})
	}
}

// TestEOF: once the peer closes, Read returns what was sent, then io.EOF
// itself (not wrapped), again and again.
func TestEOF(t *testing.T) {
	t.Parallel()
	c, peer := pair(t, 0)
	if _, err := peer.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	_ = peer.Close()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "bye" {
		t.Fatalf("ReadAll = %q, %v; want bye, nil", got, err)
	}
	for range 2 {
		if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
			t.Fatalf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
		}
	}
}

// TestPeerReset: a reset by the peer fails a waiting Read with
// ECONNRESET, wrapped as net wraps it.
func TestPeerReset(t *testing.T) {
	t.Parallel()
	c, peer := pair(t, 0)
	waiting := watch(c).read
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		errc <- err
	}()
	recv(t, waiting, "waiting read")
	_ = peer.(*net.TCPConn).SetLinger(0) // close sends RST
	_ = peer.Close()
	err := recv(t, errc, "read error")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read error = %v, want ECONNRESET", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "read" || op.Addr.String() != peer.LocalAddr().String() {
		t.Fatalf("read error = %#v, want a *net.OpError of op read to %s", err, peer.LocalAddr())
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after a reset succeeded")
	}
}

// blockedWriter starts writing a large payload to c, whose peer does not
// read, and returns once the Write waits for room in the socket buffer.
// waiting is the conn's write signal (watch). The Write's result arrives
// on the channel.
func blockedWriter(t *testing.T, c *conn, waiting <-chan struct{}, payload []byte) <-chan error {
	t.Helper()
	drain(waiting)
	errc := make(chan error, 1)
	go func() {
		n, err := c.Write(payload)
		if err == nil && n != len(payload) {
			err = fmt.Errorf("wrote %d of %d bytes", n, len(payload))
		}
		errc <- err
	}()
	recv(t, waiting, "blocked write")
	return errc
}

// TestLargeWriteWaitsForRoom: a Write larger than the socket buffers
// waits (EAGAIN) until the peer reads, then completes, every byte intact.
func TestLargeWriteWaitsForRoom(t *testing.T) {
	t.Parallel()
	for _, period := range periods {
		t.Run(period.String(), func(t *testing.T) {
			t.Parallel()
			c, peer := pair(t, period)
			payload := make([]byte, 32<<20)
			for i := range payload {
				payload[i] = byte(i * 7)
			}
			errc := blockedWriter(t, c, watch(c).write, payload)
			h := sha256.New()
			if _, err := io.CopyN(h, peer, int64(len(payload))); err != nil {
				t.Fatalf("peer read: %v", err)
			}
			if err := recv(t, errc, "write"); err != nil {
				t.Fatalf("write: %v", err)
			}
			if want := sha256.Sum256(payload); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatal("the peer read other bytes than were written")
			}
		})
	}
}

// TestCloseUnblocks: Close ends a waiting Read and a waiting Write with
// net.ErrClosed, and every later call fails the same way.
func TestCloseUnblocks(t *testing.T) {
	t.Parallel()
	c, _ := pair(t, 0)
	waiting := watch(c)
	rerr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		rerr <- err
	}()
	recv(t, waiting.read, "waiting read")
	werr := blockedWriter(t, c, waiting.write, make([]byte, 32<<20))
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for what, errc := range map[string]<-chan error{"read": rerr, "write": werr} {
		if err := recv(t, errc, what); !isClosed(err) {
			t.Errorf("blocked %s after Close = %v, want net.ErrClosed", what, err)
		}
	}
	if _, err := c.Read(make([]byte, 1)); !isClosed(err) {
		t.Errorf("Read after Close = %v, want net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !isClosed(err) {
		t.Errorf("Write after Close = %v, want net.ErrClosed", err)
	}
	if err := c.SetDeadline(time.Now()); !isClosed(err) {
		t.Errorf("SetDeadline after Close = %v, want net.ErrClosed", err)
	}
	if err := c.CloseWrite(); !isClosed(err) {
		t.Errorf("CloseWrite after Close = %v, want net.ErrClosed", err)
	}
	if err := c.Close(); !isClosed(err) {
		t.Errorf("second Close = %v, want net.ErrClosed", err)
	}
}

// TestCloseWaitsForSyscall: a Close that comes while a Read is inside its
// syscall leaves the fd open until the syscall is done, so the kernel
// cannot give its number to another socket under the Read. It is not
// parallel: it needs to be the only test opening and closing fds.
func TestCloseWaitsForSyscall(t *testing.T) {
	c, _ := pair(t, 0)
	closed := make(chan error, 1)
	reused := make(chan bool, 1)
	var once sync.Once
	c.inRead = func() {
		once.Do(func() {
			go func() { closed <- c.Close() }()
			<-c.closing
			// The kernel gives the lowest free number: open sockets
			// until one is above c.fd, and see whether c.fd was free.
			var fds []int
			defer func() {
				for _, fd := range fds {
					_ = syscall.Close(fd)
				}
			}()
			for {
				fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
				if err != nil {
					t.Errorf("socket: %v", err)
					reused <- false
					return
				}
				fds = append(fds, fd)
				if fd >= c.fd {
					reused <- fd == c.fd
					return
				}
			}
		})
	}
	if _, err := c.Read(make([]byte, 8)); !isClosed(err) {
		t.Fatalf("Read closed during its syscall = %v, want net.ErrClosed", err)
	}
	if recv(t, reused, "fd check") {
		t.Fatal("the fd number was given to a new socket while a Read was in its syscall")
	}
	if err := recv(t, closed, "Close"); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestNoFDReuseUnderReaders opens and closes many conns concurrently,
// each closed while its Read waits, while other conns exchange data with
// an echo server. A socket closed under a reader would let its fd number
// be reused by a new conn, and the reader would then take that conn's
// bytes: every echo checks that it gets exactly its own bytes back.
func TestNoFDReuseUnderReaders(t *testing.T) {
	t.Parallel()
	addr := echoServer(t)
	const churners, rounds, echoers = 8, 40, 4
	var wg sync.WaitGroup
	errs := make(chan error, churners+echoers)
	stop := make(chan struct{})
	for e := range echoers {
		c := dial(t, time.Duration(e%2)*time.Millisecond, addr)
		wg.Go(func() {
			buf := make([]byte, 512)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				msg := fmt.Appendf(nil, "echoer %d message %d %s", e, i, bytes.Repeat([]byte{'x'}, i%300))
				if _, err := c.Write(msg); err != nil {
					errs <- fmt.Errorf("echoer %d: write: %w", e, err)
					return
				}
				if _, err := io.ReadFull(c, buf[:len(msg)]); err != nil {
					errs <- fmt.Errorf("echoer %d: read: %w", e, err)
					return
				}
				if !bytes.Equal(buf[:len(msg)], msg) {
					errs <- fmt.Errorf("echoer %d: got %q, want %q", e, buf[:len(msg)], msg)
					return
				}
			}
		})
	}
	var churn sync.WaitGroup
	for g := range churners {
		churn.Go(func() {
			for r := range rounds {
				d := Dialer{Period: time.Duration(r%2) * time.Millisecond}
				nc, err := d.DialContext(guard(t), "tcp", addr)
				if err != nil {
					errs <- fmt.Errorf("churner %d: dial: %w", g, err)
					return
				}
				c := nc.(*conn)
				waiting := watch(c).read
				rerr := make(chan error, 1)
				go func() {
					n, err := c.Read(make([]byte, 64))
					if err == nil {
						err = fmt.Errorf("read %d bytes from a conn that sent none", n)
					}
					rerr <- err
				}()
				select {
				case <-waiting:
				case <-time.After(hangGuard):
					errs <- fmt.Errorf("churner %d: the read never waited", g)
					return
				}
				_ = c.Close()
				if err := <-rerr; !isClosed(err) {
					errs <- fmt.Errorf("churner %d: read after Close: %w", g, err)
					return
				}
			}
		})
	}
	churn.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestReadDeadline covers a deadline in the past (even with data
// waiting), one that passes during a wait, one set while a Read waits,
// and clearing it.
func TestReadDeadline(t *testing.T) {
	t.Parallel()
	c, peer := pair(t, time.Millisecond)
	waiting := watch(c).read
	if _, err := peer.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	wantTimeout := func(what string, err error) {
		t.Helper()
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("%s: %v, want a timeout net.Error matching os.ErrDeadlineExceeded", what, err)
		}
	}

	_ = c.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := c.Read(make([]byte, 8))
	wantTimeout("read with a past deadline", err)

	_ = c.SetReadDeadline(time.Time{})
	buf := make([]byte, 8)
	if n, err := io.ReadFull(c, buf[:4]); err != nil || string(buf[:n]) != "data" {
		t.Fatalf("read after clearing = %q, %v", buf[:n], err)
	}

	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = c.Read(buf)
	wantTimeout("read past a future deadline", err)

	// Set while a Read waits (no deadline set when it began waiting).
	_ = c.SetReadDeadline(time.Time{})
	errc := make(chan error, 1)
	drain(waiting)
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	recv(t, waiting, "waiting read")
	_ = c.SetReadDeadline(time.Now())
	wantTimeout("read waiting when the deadline was set", recv(t, errc, "read"))

	// Cleared: a Read waits again and gets the data.
	_ = c.SetDeadline(time.Time{})
	drain(waiting)
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	recv(t, waiting, "waiting read")
	if _, err := peer.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, errc, "read"); err != nil {
		t.Fatalf("read after clearing the deadline: %v", err)
	}
}

// TestWriteDeadline: a Write waiting for room fails at its deadline,
// having written part; a past deadline fails at once; cleared, the Write
// waits again and completes once the peer reads.
func TestWriteDeadline(t *testing.T) {
	t.Parallel()
	c, peer := pair(t, 0)
	payload := make([]byte, 32<<20)
	waiting := watch(c)

	_ = c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	n, err := c.Write(payload)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == 0 || n == len(payload) {
		t.Fatalf("write past its deadline = %d, %v; want part written and os.ErrDeadlineExceeded", n, err)
	}
	sent := n

	_ = c.SetWriteDeadline(time.Now().Add(-time.Second))
	if n, err := c.Write([]byte("x")); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write with a past deadline = %d, %v", n, err)
	}

	_ = c.SetWriteDeadline(time.Time{})
	errc := blockedWriter(t, c, waiting.write, payload)
	if _, err := io.CopyN(io.Discard, peer, int64(sent+len(payload))); err != nil {
		t.Fatalf("peer read: %v", err)
	}
	if err := recv(t, errc, "write"); err != nil {
		t.Fatalf("write after clearing the deadline: %v", err)
	}
}

// TestCloseWrite: the peer reads EOF after CloseWrite, and can still send.
func TestCloseWrite(t *testing.T) {
	t.Parallel()
	c, peer := pair(t, 0)
	if _, err := c.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(peer); err != nil || string(got) != "last" {
		t.Fatalf("peer ReadAll = %q, %v", got, err)
	}
	if _, err := peer.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "reply" {
		t.Fatalf("read = %q, %v", buf, err)
	}
}

// TestAddrs: LocalAddr and RemoteAddr mirror the peer's.
func TestAddrs(t *testing.T) {
	t.Parallel()
	c, peer := pair(t, 0)
	if c.LocalAddr().String() != peer.RemoteAddr().String() || c.RemoteAddr().String() != peer.LocalAddr().String() {
		t.Fatalf("conn %v -> %v, peer %v -> %v", c.LocalAddr(), c.RemoteAddr(), peer.LocalAddr(), peer.RemoteAddr())
	}
	if _, ok := c.LocalAddr().(*net.TCPAddr); !ok {
		t.Fatalf("LocalAddr is a %T, want *net.TCPAddr", c.LocalAddr())
	}
}
