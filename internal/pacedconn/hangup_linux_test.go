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

// TestEndAfterLastData: when the peer's last data and its FIN (or a
// reset) arrive in one event (one segment, or two during one sleep of the
// pacer), the Read that takes the data reads short; the next Read must
// still see the end of the stream. No event comes after it, so a Read
// that waits for one (the drained shortcut) waits forever.
func TestEndAfterLastData(t *testing.T) {
	t.Parallel()
	ends := []struct {
		name     string
		end      func(t *testing.T, peer net.Conn) // sends "bye", then ends
		want     error
		wantData string // "": the reset may discard the data
	}{
		{"fin", func(t *testing.T, peer net.Conn) { corkedClose(t, peer, "bye") }, io.EOF, "bye"},
		{"reset", func(t *testing.T, peer net.Conn) {
			if _, err := peer.Write([]byte("bye")); err != nil {
				t.Fatal(err)
			}
			_ = peer.(*net.TCPConn).SetLinger(0) // close sends RST
			_ = peer.Close()
		}, syscall.ECONNRESET, ""},
	}
	for _, e := range ends {
		for _, period := range periods {
			t.Run(e.name+"/"+period.String(), func(t *testing.T) {
				t.Parallel()
				c, peer := pair(t, period)
				waiting := watch(c).read
				first := readAsync(c)
				recv(t, waiting, "waiting read")
				e.end(t, peer)
				var got string
				r := recv(t, first, "first read")
				for r.err == nil {
					got += r.data
					r = recv(t, readAsync(c), "read after the data")
				}
				if !errors.Is(r.err, e.want) || e.want == io.EOF && r.err != io.EOF {
					t.Fatalf("last Read error = %v, want %v", r.err, e.want)
				}
				if e.wantData != "" && got != e.wantData {
					t.Fatalf("read %q, want %q", got, e.wantData)
				}
			})
		}
	}
}
