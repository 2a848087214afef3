package pacedconn_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/megane-go/megane/internal/pacedconn"
)

// A Dialer with a period of 2 ms: reads are delivered up to 2 ms after
// their data arrives, and one pacer wake-up serves every connection that
// received data in that time.
func ExampleDialer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		peer, err := ln.Accept()
		if err != nil {
			return
		}
		defer peer.Close()
		_, _ = io.Copy(peer, peer) // echo
	}()

	d := pacedconn.Dialer{Period: 2 * time.Millisecond}
	conn, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer conn.Close() // the last Close stops the pacer goroutine
	if _, err := conn.Write([]byte("hello")); err != nil {
		panic(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil {
		panic(err)
	}
	fmt.Println(string(buf))
	// Output: hello
}
