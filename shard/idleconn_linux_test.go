//go:build linux

package shard

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection; the client's
// end is wrapped by newIdleConn with idle.
func tcpPair(t *testing.T, idle func()) (client net.Conn, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	client = newIdleConn(c, idle)
	if _, ok := client.(*idleConn); !ok {
		t.Fatalf("newIdleConn did not wrap a TCP connection: %T", client)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestIdleConnDataDuringIdle: data that arrives while idle runs must be
// read at once. A first version read in a second RawConn.Read after idle,
// which reset the readiness the netpoller had recorded meanwhile: the read
// then waited for more data than had come, and a shard's batch sat there
// until the next frame (a heartbeat ACK, 41 s later).
func TestIdleConnDataDuringIdle(t *testing.T) {
	t.Parallel()
	var client, server net.Conn
	idles := 0
	client, server = tcpPair(t, func() {
		idles++
		if idles == 1 {
			// The peer writes while the reader is idle, and the data has
			// reached the reader's socket before idle returns.
			if _, err := server.Write([]byte("hello")); err != nil {
				t.Error(err)
			}
			waitReadable(t, client)
		}
	})
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang guard
	buf := make([]byte, 16)
	n, err := client.Read(buf)
	if err != nil {
		t.Fatalf("Read = %v: the data written during idle was missed", err)
	}
	if string(buf[:n]) != "hello" || idles != 1 {
		t.Fatalf("read %q with %d idle calls, want hello and 1", buf[:n], idles)
	}
}

// TestIdleConnReads: idle runs once per Read that finds the socket empty,
// never when data is there; EOF, deadlines and Close behave like net's.
func TestIdleConnReads(t *testing.T) {
	t.Parallel()
	idles := 0
	client, server := tcpPair(t, func() { idles++ })
	if _, err := server.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	// The bytes may not have arrived yet: idle runs at most once.
	if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "abc" || idles > 1 {
		t.Fatalf("read %q, %v, %d idle calls", buf, err, idles)
	}
	before := idles
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := client.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past its deadline = %v", err)
	}
	if idles != before+1 {
		t.Fatalf("idle ran %d times for one empty read", idles-before)
	}
	_ = client.SetReadDeadline(time.Time{})
	server.Close()
	if _, err := client.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("Read after the peer closed = %v, want io.EOF", err)
	}
	client.Close()
	if _, err := client.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close = %v, want net.ErrClosed", err)
	}
}

// waitReadable blocks until c's socket has data to read (select(2)), at
// most 10 s.
func waitReadable(t *testing.T, c net.Conn) {
	t.Helper()
	raw, err := c.(*idleConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.Control(func(fd uintptr) {
		var set syscall.FdSet
		set.Bits[fd/64] |= 1 << (fd % 64)
		tv := syscall.Timeval{Sec: 10}
		if n, err := syscall.Select(int(fd)+1, &set, nil, nil, &tv); n != 1 || err != nil {
			t.Errorf("select = %d, %v", n, err)
		}
	})
}
