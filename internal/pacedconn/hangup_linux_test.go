package pacedconn

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
)

// readResult is what one Read returned.
type readResult struct {
	data string
	err  error
}

// readAsync starts one Read of c into a 64-byte buffer.
func readAsync(c *conn) <-chan readResult {
	res := make(chan readResult, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		res <- readResult{string(buf[:n]), err}
	}()
	return res
}

// corkedClose sends what and the peer's FIN in one TCP segment: with
// TCP_CORK the kernel holds the data back, and the FIN of the shutdown
// joins the held segment. The reader's socket then gets its data and its
// end of stream in one event.
func corkedClose(t *testing.T, peer net.Conn, what string) {
	t.Helper()
	raw, err := peer.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1)
	}); err != nil || serr != nil {
		t.Fatalf("TCP_CORK: %v %v", err, serr)
	}
	if _, err := peer.Write([]byte(what)); err != nil {
		t.Fatal(err)
	}
	if err := peer.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
}

// TestEOFAfterLastData: when the peer's last data and its FIN arrive in
// one event (one segment, or two during one sleep of the pacer), the Read
// that takes the data reads short; the next Read must still see the end
// of the stream. No event comes after it, so a Read that waits for one
// (the drained shortcut) waits forever.
func TestEOFAfterLastData(t *testing.T) {
	t.Parallel()
	for _, period := range periods {
		t.Run(period.String(), func(t *testing.T) {
			t.Parallel()
			c, peer := pair(t, period)
			waiting := watch(c).read
			first := readAsync(c)
			recv(t, waiting, "waiting read")
			corkedClose(t, peer, "bye")
			if r := recv(t, first, "read of the data"); r.err != nil || r.data != "bye" {
				t.Fatalf("first Read = %q, %v; want bye, nil", r.data, r.err)
			}
			if r := recv(t, readAsync(c), "read of the EOF"); r.err != io.EOF {
				t.Fatalf("second Read = %q, %v; want io.EOF", r.data, r.err)
			}
		})
	}
}

// TestResetAfterLastData: as TestEOFAfterLastData, for a peer that resets
// the connection right after its last data: the Reads end with
// ECONNRESET, not with a wait for an event that came already.
func TestResetAfterLastData(t *testing.T) {
	t.Parallel()
	for _, period := range periods {
		t.Run(period.String(), func(t *testing.T) {
			t.Parallel()
			c, peer := pair(t, period)
			waiting := watch(c).read
			first := readAsync(c)
			recv(t, waiting, "waiting read")
			if _, err := peer.Write([]byte("bye")); err != nil {
				t.Fatal(err)
			}
			_ = peer.(*net.TCPConn).SetLinger(0) // close sends RST
			_ = peer.Close()
			r := recv(t, first, "first read")
			for r.err == nil {
				r = recv(t, readAsync(c), "read after the reset")
			}
			if !errors.Is(r.err, syscall.ECONNRESET) {
				t.Fatalf("last Read error = %v, want ECONNRESET", r.err)
			}
		})
	}
}
