package pacedconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// client returns an HTTP client whose connections are paced with period.
// Its idle connections are closed when the test ends.
func client(t *testing.T, period time.Duration, tlsConfig *tls.Config) *http.Client {
	t.Helper()
	d := &Dialer{Period: period}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: tlsConfig}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestHTTP sends requests and bodies of several sizes to an httptest
// server over paced connections, and reads the echoed bodies back.
func TestHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read it all first: an HTTP/1 server stops reading a request
		// body once the response is flushed.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	for _, period := range periods {
		hc := client(t, period, nil)
		for _, size := range []int{0, 10, 100 << 10, 3 << 20} {
			body := bytes.Repeat([]byte{'b'}, size)
			req, err := http.NewRequestWithContext(guard(t), http.MethodPost, srv.URL, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("period %v size %d: %v", period, size, err)
			}
			got, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("period %v size %d: read %d bytes, %v", period, size, len(got), err)
			}
		}
	}
}

// tlsConfig trusts srv's certificate.
func tlsConfig(srv *httptest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: pool, ServerName: "example.com"}
}

// TestTLS runs crypto/tls over a paced conn to an httptest TLS server:
// the handshake (which uses deadlines), a request, and CloseWrite.
func TestTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", tls.CipherSuiteName(r.TLS.CipherSuite))
	}))
	t.Cleanup(srv.Close)
	for _, period := range periods {
		raw := dial(t, period, srv.Listener.Addr().String())
		tc := tls.Client(raw, tlsConfig(srv))
		ctx, cancel := context.WithTimeout(guard(t), hangGuard)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			t.Fatalf("period %v: handshake: %v", period, err)
		}
		if _, err := io.WriteString(tc, "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if err := tc.CloseWrite(); err != nil {
			t.Fatalf("period %v: CloseWrite: %v", period, err)
		}
		got, err := io.ReadAll(tc)
		if err != nil || !strings.Contains(string(got), "hello over") {
			t.Fatalf("period %v: response %q, %v", period, got, err)
		}
		_ = tc.Close()
	}
	// The same through http.Transport, which drives the handshake with
	// its own deadline handling.
	resp, err := client(t, time.Millisecond, tlsConfig(srv)).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}

// TestWebsocket runs gorilla/websocket over paced conns, plain and over
// TLS: text frames both ways and a close handshake.
func TestWebsocket(t *testing.T) {
	t.Parallel()
	up := websocket.Upgrader{}
	serverDone := make(chan error, 4)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			serverDone <- err
			return
		}
		defer ws.Close()
		for {
			kind, msg, err := ws.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure {
					err = nil // gorilla's close handler has answered it
				}
				serverDone <- err
				return
			}
			if err := ws.WriteMessage(kind, append([]byte("echo:"), msg...)); err != nil {
				serverDone <- err
				return
			}
		}
	})
	plain, secure := httptest.NewServer(handler), httptest.NewTLSServer(handler)
	t.Cleanup(plain.Close)
	t.Cleanup(secure.Close)
	for _, c := range []struct {
		name string
		url  string
		tls  *tls.Config
	}{
		{"ws", "ws" + strings.TrimPrefix(plain.URL, "http"), nil},
		{"wss", "wss" + strings.TrimPrefix(secure.URL, "https"), tlsConfig(secure)},
	} {
		for _, period := range periods {
			d := &Dialer{Period: period}
			wd := websocket.Dialer{NetDialContext: d.DialContext, TLSClientConfig: c.tls, HandshakeTimeout: hangGuard}
			ws, resp, err := wd.DialContext(guard(t), c.url, nil)
			if err != nil {
				t.Fatalf("%s period %v: dial: %v", c.name, period, err)
			}
			_ = resp.Body.Close()
			for i, size := range []int{1, 125, 126, 1000, 65535, 65536, 300 << 10} {
				msg := bytes.Repeat([]byte{byte('a' + i)}, size)
				if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
					t.Fatalf("%s period %v: write: %v", c.name, period, err)
				}
				kind, got, err := ws.ReadMessage()
				if err != nil || kind != websocket.TextMessage || !bytes.Equal(got, append([]byte("echo:"), msg...)) {
					t.Fatalf("%s period %v size %d: read kind %d, %d bytes, %v", c.name, period, size, kind, len(got), err)
				}
			}
			closeMsg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
			if err := ws.WriteControl(websocket.CloseMessage, closeMsg, time.Now().Add(hangGuard)); err != nil {
				t.Fatalf("%s period %v: write close: %v", c.name, period, err)
			}
			_, _, err = ws.ReadMessage()
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("%s period %v: after the close frame: %v, want the peer's close 1000", c.name, period, err)
			}
			if err := recv(t, serverDone, "server end"); err != nil {
				t.Fatalf("%s period %v: server: %v", c.name, period, err)
			}
			if err := ws.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				t.Fatalf("%s period %v: Close: %v", c.name, period, err)
			}
		}
	}
}
