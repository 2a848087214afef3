//go:build unix

package shard

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// idleConn is a TCP connection whose Read calls idle once, before it
// waits for the network: the moment every frame that had arrived has been
// read, which is when a batch handler gets the read loop's batch. It costs
// no system call more than a plain read: the read that finds the socket
// empty is the one the runtime's netpoller would make anyway.
type idleConn struct {
	*net.TCPConn
	raw  syscall.RawConn
	idle func() // nil: none (set before the first Read)
}

// newIdleConn wraps c, or returns it as it is if it is not TCP.
func newIdleConn(c net.Conn, idle func()) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &idleConn{TCPConn: tc, raw: raw, idle: idle}
}

// Read implements net.Conn. Deadlines and Close work as for the TCP
// connection: the waiting is the netpoller's. idle runs inside the one
// RawConn.Read, between the read that found the socket empty and the wait:
// a second RawConn.Read would reset the readiness the netpoller may have
// recorded meanwhile, and the wait would miss data that arrived while idle
// ran.
func (c *idleConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var (
		n    int
		rerr error
	)
	idled := c.idle == nil
	perr := c.raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), p)
			if !errors.Is(rerr, syscall.EINTR) {
				break
			}
		}
		if !errors.Is(rerr, syscall.EAGAIN) {
			return true
		}
		if !idled {
			idled = true
			c.idle()
		}
		return false // wait until readable, then read again
	})
	switch {
	case perr != nil:
		return 0, perr
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(),
			Err: os.NewSyscallError("read", rerr)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
