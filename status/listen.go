package status

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrNotLoopback is returned by [Listen] for a host that is not loopback,
// unless [WithRemoteAccess] is given.
var ErrNotLoopback = errors.New("status: address is not loopback (WithRemoteAccess allows it)")

// Listen opens a TCP listener for the status surface on addr
// ("HOST:PORT"). An address without a host (":8080") binds 127.0.0.1. A
// host other than a loopback IP or "localhost" is refused with
// ErrNotLoopback unless opts hold [WithRemoteAccess]; host names are not
// resolved. Other options are ignored here.
func Listen(addr string, opts ...Option) (net.Listener, error) {
	cfg := newConfig(opts)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("status: listen %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !cfg.remote && !isLoopback(host) {
		return nil, fmt.Errorf("status: listen %q: %w", addr, ErrNotLoopback)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return ln, nil
}

// isLoopback reports whether host is "localhost" or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
