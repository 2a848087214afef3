package pacedconn

import (
	"io"
	"testing"
	"time"
)

// TestIdleBeforeEveryWait: Dialer.Idle runs before each wait of a Read,
// and only then. The peer sends its next chunk only when Idle says the
// reader is about to wait, so a Read that waited without calling Idle
// would never get data (it fails at the read deadline instead).
func TestIdleBeforeEveryWait(t *testing.T) {
	for _, period := range periods {
		t.Run(period.String(), func(t *testing.T) {
			ln, peers := acceptor(t, "tcp", "127.0.0.1:0")
			idle := make(chan struct{}, 1)
			var idled bool // since the last wait; the reading goroutine only
			d := Dialer{Period: period, Idle: func() {
				idled = true
				select {
				case idle <- struct{}{}:
				default:
				}
			}}
			nc, err := d.DialContext(guard(t), "tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c := nc.(*conn)
			t.Cleanup(func() { _ = c.Close() })
			c.onWait = func(write bool) {
				if !write && !idled {
					t.Error("a Read waited without calling Idle first")
				}
				idled = false
			}
			peer := recv(t, peers, "accept")
			const rounds = 20
			go func() {
				for i := range rounds {
					select {
					case <-idle:
					case <-time.After(hangGuard):
						return
					}
					if _, err := peer.Write([]byte{byte(i), byte(i)}); err != nil {
						return
					}
				}
			}()
			if err := c.SetReadDeadline(time.Now().Add(hangGuard)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2)
			for i := range rounds {
				if _, err := io.ReadFull(c, buf); err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
				if buf[0] != byte(i) || buf[1] != byte(i) {
					t.Fatalf("round %d: read %v", i, buf)
				}
			}
		})
	}
}
