package pacedconn

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Supported reports whether connections are paced on this platform.
const Supported = true

// Keep-alive as net.Dialer sets it by default (Go 1.23 and later).
const (
	defaultKeepAlive      = 15 * time.Second
	defaultKeepAliveCount = 9
)

func (d *Dialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	addrs, err := resolve(ctx, network, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var first error
	for _, ap := range addrs {
		c, err := d.connect(ctx, network, ap)
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// resolve turns address into the addresses to try, in the resolver's
// order, keeping those of network's family.
func resolve(ctx context.Context, network, address string) ([]netip.AddrPort, error) {
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := net.DefaultResolver.LookupPort(ctx, network, service)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	switch ip, err := netip.ParseAddr(host); {
	case err == nil:
		ips = []netip.Addr{ip}
	case host == "":
		// As net.Dialer: an empty host is the local system.
		ips = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	default:
		ipNetwork := map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}[network]
		if ips, err = net.DefaultResolver.LookupNetIP(ctx, ipNetwork, host); err != nil {
			return nil, err
		}
	}
	var out []netip.AddrPort
	for _, ip := range ips {
		ip = ip.Unmap()
		if network == "tcp4" && !ip.Is4() || network == "tcp6" && !ip.Is6() {
			continue
		}
		out = append(out, netip.AddrPortFrom(ip, uint16(port)))
	}
	if len(out) == 0 {
		return nil, &net.AddrError{Err: "no suitable address found", Addr: host}
	}
	return out, nil
}

// connect dials one address: a non-blocking socket, registered with the
// pacer before connect(2) so that the pacer reports the end of the
// handshake.
func (d *Dialer) connect(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	dialErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	}
	sa, family, err := sockaddr(ap)
	if err != nil {
		return nil, dialErr(err)
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return nil, dialErr(os.NewSyscallError("socket", err))
	}
	if err := d.setOptions(fd); err != nil {
		_ = syscall.Close(fd)
		return nil, dialErr(err)
	}
	c := newConn(fd, network)
	c.idle = d.Idle
	if err := attach(c, d.Period); err != nil {
		_ = syscall.Close(fd)
		return nil, dialErr(err)
	}
	// From here on, Close releases the socket and the registration.
	if err := c.handshake(ctx, sa); err != nil {
		_ = c.Close()
		return nil, dialErr(err)
	}
	if c.laddr, c.raddr, err = addrs(fd); err != nil {
		_ = c.Close()
		return nil, dialErr(err)
	}
	return c, nil
}

// setOptions sets what net.Dialer sets on a TCP socket: no Nagle delay,
// and keep-alive probes unless d disables them.
func (d *Dialer) setOptions(fd int) error {
	set := func(level, opt, value int) error {
		return os.NewSyscallError("setsockopt", syscall.SetsockoptInt(fd, level, opt, value))
	}
	if err := set(syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		return err
	}
	if d.KeepAlive < 0 {
		return nil
	}
	every := d.KeepAlive
	if every == 0 {
		every = defaultKeepAlive
	}
	secs := int((every + time.Second - 1) / time.Second)
	for _, o := range []struct{ level, opt, value int }{
		{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, secs},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, secs},
		{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, defaultKeepAliveCount},
	} {
		if err := set(o.level, o.opt, o.value); err != nil {
			return err
		}
	}
	return nil
}

// handshake runs connect(2) and waits until the socket is connected, has
// failed, or ctx ends.
func (c *conn) handshake(ctx context.Context, sa syscall.Sockaddr) error {
	for {
		err := syscall.Connect(c.fd, sa)
		switch err {
		case nil, syscall.EISCONN:
			return nil
		case syscall.EINTR:
			continue
		case syscall.EINPROGRESS, syscall.EALREADY:
		default:
			return os.NewSyscallError("connect", err)
		}
		break
	}
	for {
		c.pacer.wake() // connects are not paced
		select {
		case <-c.wready:
		case <-ctx.Done():
			return ctx.Err()
		}
		// The fd is ours alone until connect returns: no reference needed.
		soErr, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			return os.NewSyscallError("getsockopt", err)
		}
		switch errno := syscall.Errno(soErr); errno {
		case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		case syscall.EISCONN:
			return nil
		case 0:
			// A wake-up is not proof of a connection (Go's netFD checks
			// the same way): the peer's name is.
			_, err := syscall.Getpeername(c.fd)
			if err == nil {
				return nil
			}
			if err != syscall.ENOTCONN {
				return os.NewSyscallError("getpeername", err)
			}
		default:
			return os.NewSyscallError("connect", errno)
		}
	}
}

// sockaddr converts ap for connect(2).
func sockaddr(ap netip.AddrPort) (syscall.Sockaddr, int, error) {
	ip := ap.Addr()
	if ip.Is4() {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}, syscall.AF_INET, nil
	}
	sa := &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	if zone := ip.Zone(); zone != "" {
		if ifi, err := net.InterfaceByName(zone); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		} else if n, perr := strconv.ParseUint(zone, 10, 32); perr == nil {
			sa.ZoneId = uint32(n)
		} else {
			return nil, 0, err
		}
	}
	return sa, syscall.AF_INET6, nil
}

// addrs returns the socket's local and remote addresses.
func addrs(fd int) (local, remote net.Addr, err error) {
	lsa, err := syscall.Getsockname(fd)
	if err != nil {
		return nil, nil, os.NewSyscallError("getsockname", err)
	}
	rsa, err := syscall.Getpeername(fd)
	if err != nil {
		return nil, nil, os.NewSyscallError("getpeername", err)
	}
	return tcpAddr(lsa), tcpAddr(rsa), nil
}

func tcpAddr(sa syscall.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)))
	case *syscall.SockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			zone := strconv.FormatUint(uint64(sa.ZoneId), 10)
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				zone = ifi.Name
			}
			ip = ip.WithZone(zone)
		}
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(sa.Port)))
	}
	return &net.TCPAddr{}
}

func isPaced(c net.Conn) bool {
	_, ok := c.(*conn)
	return ok
}
