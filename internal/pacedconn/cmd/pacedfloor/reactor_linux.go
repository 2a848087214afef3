package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

// The "reactor:PERIOD" reader is the floor of a design with no goroutine
// per shard: one goroutine owns every shard's socket (raw, non-blocking,
// outside Go's netpoller), and each period it asks epoll which sockets have
// data, reads each until EAGAIN and splits the bytes into WebSocket frames
// itself. It does not decode, answer pings or heartbeat (the windows are
// shorter than the fake's heartbeat interval), so it is a floor, not a
// client.

// reactorConn is one shard's socket and the bytes of its unfinished frame.
type reactorConn struct {
	fd  int
	buf []byte
}

// readReactor is read for a reactor reader.
func readReactor(ctx context.Context, s readerSpec, period time.Duration) (readerResult, error) {
	u, err := url.Parse(s.URL)
	if err != nil {
		return readerResult{}, err
	}
	ap, err := netip.ParseAddrPort(u.Host)
	if err != nil {
		return readerResult{}, fmt.Errorf("reactor reads need an IP:port gateway URL: %w", err)
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return readerResult{}, err
	}
	defer syscall.Close(ep)
	conns := make([]*reactorConn, 0, s.Shards)
	defer func() {
		for _, c := range conns {
			_ = syscall.Close(c.fd)
		}
	}()
	for i := range s.Shards {
		c, err := dialReactor(ap, u.RequestURI(), s.Token, i, s.Shards)
		if err != nil {
			return readerResult{}, fmt.Errorf("shard %d: %w", i, err)
		}
		conns = append(conns, c)
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | 1<<31, Fd: int32(i)} // 1<<31: EPOLLET
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			return readerResult{}, err
		}
	}
	var frames atomic.Int64
	stop := make(chan struct{})
	loopErr := make(chan error, 1)
	go func() { loopErr <- reactorLoop(ep, conns, period, &frames, stop) }()
	res, err := measureWindow(ctx, s, &frames)
	close(stop)
	if lerr := <-loopErr; err == nil {
		err = lerr
	}
	return res, err
}

// reactorLoop reads every ready socket once per period until stop closes.
func reactorLoop(ep int, conns []*reactorConn, period time.Duration, frames *atomic.Int64, stop chan struct{}) error {
	events := make([]syscall.EpollEvent, len(conns))
	scratch := make([]byte, 64<<10)
	sleep := time.NewTimer(period)
	defer sleep.Stop()
	for {
		n, err := syscall.EpollWait(ep, events, 0)
		if err != nil && err != syscall.EINTR {
			return err
		}
		for _, ev := range events[:max(n, 0)] {
			c := conns[ev.Fd]
			got, err := c.drain(scratch)
			if err != nil {
				return err
			}
			frames.Add(int64(got))
		}
		sleep.Reset(period)
		select {
		case <-sleep.C:
		case <-stop:
			return nil
		}
	}
}

// drain reads c until EAGAIN and returns the whole frames it completed.
func (c *reactorConn) drain(scratch []byte) (int, error) {
	total := 0
	for {
		n, err := syscall.Read(c.fd, scratch)
		if err == syscall.EAGAIN {
			return total, nil
		}
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, errors.New("the gateway closed the connection")
		}
		c.buf = append(c.buf, scratch[:n]...)
		done, used := countWSFrames(c.buf)
		total += done
		c.buf = c.buf[:copy(c.buf, c.buf[used:])]
	}
}

// countWSFrames counts the whole unmasked WebSocket frames at the start of
// b and returns how many bytes they take.
func countWSFrames(b []byte) (frames, used int) {
	for {
		rest := b[used:]
		if len(rest) < 2 {
			return frames, used
		}
		head, size := 2, uint64(rest[1]&0x7f)
		switch size {
		case 126:
			if len(rest) < 4 {
				return frames, used
			}
			head, size = 4, uint64(binary.BigEndian.Uint16(rest[2:]))
		case 127:
			if len(rest) < 10 {
				return frames, used
			}
			head, size = 10, binary.BigEndian.Uint64(rest[2:])
		}
		if uint64(len(rest)-head) < size {
			return frames, used
		}
		used += head + int(size)
		frames++
	}
}

// dialReactor connects one shard with blocking syscalls, upgrades it to a
// WebSocket, reads HELLO, sends IDENTIFY, and leaves the socket
// non-blocking.
func dialReactor(ap netip.AddrPort, path, token string, shard, shards int) (*reactorConn, error) {
	if !ap.Addr().Is4() {
		return nil, errors.New("reactor reads dial IPv4 only")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	c := &reactorConn{fd: fd}
	if err := c.handshake(ap, path, token, shard, shards); err != nil {
		_ = syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, err
	}
	return c, nil
}

func (c *reactorConn) handshake(ap netip.AddrPort, path, token string, shard, shards int) error {
	if err := syscall.Connect(c.fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return err
	}
	req := "GET " + path + "?v=10&encoding=json HTTP/1.1\r\nHost: " + ap.String() +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if err := writeAll(c.fd, []byte(req)); err != nil {
		return err
	}
	end, err := c.readUntil(func(b []byte) int {
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			return i + 4
		}
		return -1
	})
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(c.buf, []byte("HTTP/1.1 101")) {
		return fmt.Errorf("upgrade refused: %q", c.buf[:min(len(c.buf), 40)])
	}
	c.buf = c.buf[:copy(c.buf, c.buf[end:])]
	hello, err := c.readUntil(func(b []byte) int {
		if n, used := countWSFrames(b); n > 0 {
			return used
		}
		return -1
	})
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	c.buf = c.buf[:copy(c.buf, c.buf[hello:])]
	identify, _ := json.Marshal(map[string]any{"op": 2, "d": map[string]any{
		"token": token, "intents": 33281, "shard": []int{shard, shards},
		"properties": map[string]string{"os": "linux", "browser": "pacedfloor", "device": "pacedfloor"}}})
	return writeAll(c.fd, maskedTextFrame(identify))
}

// readUntil reads (blocking) into c.buf until done reports the length of
// what it waited for.
func (c *reactorConn) readUntil(done func([]byte) int) (int, error) {
	var scratch [4096]byte
	for {
		if n := done(c.buf); n >= 0 {
			return n, nil
		}
		n, err := syscall.Read(c.fd, scratch[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, errors.New("the gateway closed the connection")
		}
		c.buf = append(c.buf, scratch[:n]...)
	}
}

// maskedTextFrame is a client's text frame of p, masked with the zero key
// (which leaves p as it is).
func maskedTextFrame(p []byte) []byte {
	f := []byte{0x81, 0}
	switch {
	case len(p) < 126:
		f[1] = 0x80 | byte(len(p))
	case len(p) <= 0xffff:
		f[1] = 0x80 | 126
		f = binary.BigEndian.AppendUint16(f, uint16(len(p)))
	default:
		f[1] = 0x80 | 127
		f = binary.BigEndian.AppendUint64(f, uint64(len(p)))
	}
	f = append(f, 0, 0, 0, 0)
	return append(f, p...)
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
