package pacedconn

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxRW is the most one read(2) or write(2) is asked for, as in Go's
// internal/poll: some kernels fail larger requests.
const maxRW = 1 << 30

// conn is a net.Conn over a non-blocking TCP socket watched by a pacer.
// Reads are serialised by rmu and writes by wmu, as in Go's netFD; a read
// and a write may run at once. Every syscall on fd holds a reference
// (ref), and a wait for readiness holds none, so Close is never delayed by
// a blocked call and never closes fd under a running one.
type conn struct {
	fd      int
	network string
	id      uint32 // the pacer's key for fd
	pacer   *pacer
	ref     fdRef

	rmu, wmu sync.Mutex
	// The pacer's tokens: something happened on the socket since the last
	// token was taken. Capacity 1; a token may be stale, so a call that
	// takes one retries its syscall and waits again on EAGAIN.
	rready, wready chan struct{}
	rdl, wdl       *deadline
	// drained is set when the last read(2) emptied the receive queue (it
	// answered EAGAIN, or fewer bytes than asked): the socket has nothing
	// until its next event. rmu.
	drained bool
	// hangup is set by the pacer, before the token of the event, once it
	// has reported the peer's end of stream or a socket error (see
	// hangupEvents). A read(2) then answers at once (0 or the error), and
	// no event may follow, so a short read no longer proves that the next
	// one must wait.
	hangup atomic.Bool
	events uint64 // epoll events reported for the socket; pacer.mu

	closing  chan struct{} // closed by the first Close: waits end
	closed   chan struct{} // closed once fd is closed and detached
	closeErr error         // close(2)'s error, read after closed

	laddr, raddr net.Addr // set by dial before the conn is returned
	idle         func()   // Dialer.Idle; set by dial before the conn is returned

	// Tests only: onWait is called as a call starts waiting, inRead
	// between a Read's reference and its syscall.
	onWait func(write bool)
	inRead func()
}

var _ net.Conn = (*conn)(nil)

func newConn(fd int, network string) *conn {
	return &conn{fd: fd, network: network,
		rready: make(chan struct{}, 1), wready: make(chan struct{}, 1),
		rdl: newDeadline(), wdl: newDeadline(),
		closing: make(chan struct{}), closed: make(chan struct{})}
}

// Read reads what the socket holds, up to len(b) bytes. If it holds
// nothing it waits for data, the read deadline or Close. It returns io.EOF
// once the peer has closed its side and every byte has been read.
func (c *conn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(b) > maxRW {
		b = b[:maxRW]
	}
	for {
		if c.drained && len(b) > 0 {
			c.drained = false
			if c.idle != nil {
				c.idle()
			}
			c.waitReadable()
		}
		if !c.ref.acquire() {
			return 0, c.opError("read", net.ErrClosed)
		}
		if c.rdl.passed.Load() {
			c.unref()
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if len(b) == 0 {
			c.unref()
			return 0, nil
		}
		if c.inRead != nil {
			c.inRead()
		}
		n, err := syscall.Read(c.fd, b)
		c.unref()
		switch {
		case err == nil && n > 0:
			// A short read emptied the receive queue: whatever comes
			// next brings an event, so the next Read waits for its
			// token instead of asking read(2) to answer EAGAIN. Not
			// after a hang-up: the FIN or the reset may have come in
			// the event of the data just read, and the next read(2)
			// reports it without another event.
			c.drained = n < len(b) && !c.hangup.Load()
			return n, nil
		case err == nil:
			return 0, io.EOF
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			c.drained = true
		default:
			return 0, c.opError("read", os.NewSyscallError("read", err))
		}
	}
}

// waitReadable waits for the pacer's read token, the read deadline or
// Close. rmu is held.
func (c *conn) waitReadable() {
	if c.onWait != nil {
		c.onWait(false)
	}
	select {
	case <-c.rready:
	case <-c.rdl.wait():
	case <-c.closing:
	}
}

// Write writes all of b, waiting for room in the socket buffer as often as
// it must, until the write deadline or Close. On an error it returns how
// many bytes were written.
func (c *conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	written := 0
	for {
		if !c.ref.acquire() {
			return written, c.opError("write", net.ErrClosed)
		}
		if c.wdl.passed.Load() {
			c.unref()
			return written, c.opError("write", os.ErrDeadlineExceeded)
		}
		chunk := b[written:]
		if len(chunk) > maxRW {
			chunk = chunk[:maxRW]
		}
		n, err := syscall.Write(c.fd, chunk)
		c.unref()
		if n > 0 {
			written += n
		}
		if written == len(b) {
			return written, nil
		}
		switch {
		case err == nil && n == 0:
			return written, c.opError("write", io.ErrUnexpectedEOF)
		case err == nil, err == syscall.EINTR:
		case err == syscall.EAGAIN:
			// Writes are not paced: end the pacer's sleep so that the
			// buffer's draining is seen as soon as it happens.
			c.pacer.wake()
			if c.onWait != nil {
				c.onWait(true)
			}
			select {
			case <-c.wready:
			case <-c.wdl.wait():
			case <-c.closing:
			}
		default:
			return written, c.opError("write", os.NewSyscallError("write", err))
		}
	}
}

// Close closes the connection: it ends every waiting Read and Write with
// net.ErrClosed and returns once the socket is closed, which happens as
// soon as no syscall is in flight on it (they never block). Closing again
// returns net.ErrClosed.
func (c *conn) Close() error {
	first, last := c.ref.close()
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	close(c.closing)
	if last {
		c.destroy()
	}
	<-c.closed
	if c.closeErr != nil {
		return c.opError("close", os.NewSyscallError("close", c.closeErr))
	}
	return nil
}

// CloseWrite shuts down the sending side: the peer reads EOF once it has
// read everything sent before. crypto/tls's CloseWrite calls it.
func (c *conn) CloseWrite() error {
	if !c.ref.acquire() {
		return c.opError("close", net.ErrClosed)
	}
	err := syscall.Shutdown(c.fd, syscall.SHUT_WR)
	c.unref()
	if err != nil {
		return c.opError("close", os.NewSyscallError("shutdown", err))
	}
	return nil
}

// unref releases a syscall's reference and destroys the fd if Close came
// meanwhile and this was the last one.
func (c *conn) unref() {
	if c.ref.release() {
		c.destroy()
	}
}

// destroy runs once, when the conn is closed and no syscall is in flight:
// it removes fd from the pacer's epoll set, closes it and detaches the
// conn, which stops the pacer if it was its last.
func (c *conn) destroy() {
	c.rdl.stop()
	c.wdl.stop()
	_ = syscall.EpollCtl(c.pacer.ep, syscall.EPOLL_CTL_DEL, c.fd, nil)
	c.closeErr = syscall.Close(c.fd)
	detach(c)
	close(c.closed)
}

// LocalAddr returns the local address, a *net.TCPAddr.
func (c *conn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the peer's address, a *net.TCPAddr.
func (c *conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets both deadlines, with net.Conn's semantics.
func (c *conn) SetDeadline(t time.Time) error { return c.setDeadline(t, c.rdl, c.wdl) }

// SetReadDeadline sets the read deadline: once t has passed, waiting and
// later Reads fail with os.ErrDeadlineExceeded (a net.Error whose Timeout
// is true) until the deadline is moved; the zero t clears it.
func (c *conn) SetReadDeadline(t time.Time) error { return c.setDeadline(t, c.rdl) }

// SetWriteDeadline sets the write deadline, as SetReadDeadline does for
// reads. A Write that times out may have written part of its bytes.
func (c *conn) SetWriteDeadline(t time.Time) error { return c.setDeadline(t, c.wdl) }

func (c *conn) setDeadline(t time.Time, ds ...*deadline) error {
	// The reference keeps destroy, which stops the timers, after the set.
	if !c.ref.acquire() {
		return c.opError("set", net.ErrClosed)
	}
	for _, d := range ds {
		d.set(t)
	}
	c.unref()
	return nil
}

// opError wraps err as net's calls do, so that errors.Is sees err and
// net.Error's Timeout sees a deadline.
func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.network, Source: c.laddr, Addr: c.raddr, Err: err}
}
