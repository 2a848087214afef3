//go:build !unix

package shard

import "net"

// idleConn calls idle before every Read where the read loop cannot tell
// whether the socket is empty: a batch then holds at most one frame.
type idleConn struct {
	net.Conn
	idle func()
}

// newIdleConn wraps c.
func newIdleConn(c net.Conn, idle func()) net.Conn { return &idleConn{Conn: c, idle: idle} }

// Read implements net.Conn.
func (c *idleConn) Read(p []byte) (int, error) {
	if c.idle != nil {
		c.idle()
	}
	return c.Conn.Read(p)
}
