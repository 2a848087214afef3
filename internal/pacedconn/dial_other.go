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
	return nd.DialContext(ctx, network, address)
}
