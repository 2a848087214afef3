package pacedconn

import (
	"context"
	"errors"
	"net"
	"time"
)

// ErrPeriod is returned by [Dialer.DialContext] for a negative Period.
var ErrPeriod = errors.New("pacedconn: the coalescing period must not be negative")

// Dialer dials paced TCP connections. Its zero value dials with no
// coalescing period (readers are woken as soon as data arrives), a 15 s
// keep-alive and no timeout but the context's. A Dialer may be copied and
// used by many goroutines at once.
type Dialer struct {
	// Period is how long the pacer of this Dialer's connections sleeps
	// between two epoll waits. It is the most a read is delayed beyond the
	// arrival of its data, and the longer it is, the more segments one
	// wake-up serves. Connections with the same Period share one pacer
	// goroutine, whatever Dialer made them.
	Period time.Duration

	// Timeout bounds each dial (name resolution and connect), as
	// net.Dialer's Timeout does; 0 sets no bound beyond the context's.
	Timeout time.Duration

	// KeepAlive is the TCP keep-alive idle time and probe interval, as
	// net.Dialer's KeepAlive is: 0 means 15 s, a negative value disables
	// keep-alive probes.
	KeepAlive time.Duration

	// Idle, if set, is called by a Read of the connection, on the reading
	// goroutine, each time the Read is about to wait for data: every byte
	// that had arrived has been read. A reader that collects what it reads
	// can hand it on there, so that no collected item waits for the next
	// segment. Idle must not read from the connection. Off Linux it is
	// called before every Read.
	Idle func()
}

// DialContext connects to address on network ("tcp", "tcp4" or "tcp6").
// ctx bounds the resolution and the connect, not the connection: once
// DialContext has returned, ending ctx has no effect on the Conn. It tries
// the resolved addresses in turn and returns the first error if none
// answers. The returned net.Conn is safe for concurrent use as net.Conn
// requires; its errors match net's (errors.Is with net.ErrClosed,
// os.ErrDeadlineExceeded, io.EOF or a syscall.Errno). Close it to release
// its socket: the pacer goroutine exits when its last Conn is closed.
//
// Off Linux it returns a plain *net.TCPConn and ignores Period.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if d.Period < 0 {
		return nil, ErrPeriod
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	return d.dial(ctx, network, address)
}

// IsPaced reports whether c is a connection of this package, read through
// a pacer.
func IsPaced(c net.Conn) bool { return isPaced(c) }
