//go:build !linux

package pacedconn

import (
	"context"
	"net"
)

// Supported reports whether connections are paced on this platform.
const Supported = false

// dial falls back to net.Dialer: there is no pacer off Linux.
func (d *Dialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	nd := net.Dialer{KeepAlive: d.KeepAlive}
	c, err := nd.DialContext(ctx, network, address)
	if err != nil || d.Idle == nil {
		return c, err
	}
	return &idleConn{Conn: c, idle: d.Idle}, nil
}

// idleConn calls idle before every Read: off Linux nothing tells when a
// Read is about to wait.
type idleConn struct {
	net.Conn
	idle func()
}

// Read implements net.Conn.
func (c *idleConn) Read(p []byte) (int, error) {
	c.idle()
	return c.Conn.Read(p)
}

func isPaced(net.Conn) bool { return false }
