package shard

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/internal/pacedconn"
)

// connectProxy is an HTTP proxy that serves CONNECT only, as a corporate
// proxy in front of wss://gateway.discord.gg does. It counts the tunnels
// it opened; Close waits for them to end.
type connectProxy struct {
	srv     *httptest.Server
	mu      sync.Mutex
	tunnels int
	wg      sync.WaitGroup
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() { p.srv.Close(); p.wg.Wait() })
	return p
}

func (p *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	target, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	// Added while the request is outstanding, which the server's Close
	// waits for: the Wait in the cleanup then comes after it.
	p.wg.Add(2)
	client, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		p.wg.Add(-2)
		_ = target.Close()
		return
	}
	p.mu.Lock()
	p.tunnels++
	p.mu.Unlock()
	_, _ = io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n")
	// Each direction ends when its source ends; closing both ends the
	// other direction.
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	go pipe(target, client)
	go pipe(client, target)
}

func (p *connectProxy) opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels
}

// TestPacedDialThroughProxy: the shard's paced dialer still honours a
// proxy (its Proxy is http.ProxyFromEnvironment's, which skips loopback,
// so the test sets the proxy itself): gorilla dials the proxy through
// pacedconn, tunnels with CONNECT, then runs TLS and the websocket over
// the paced conn, as for wss://gateway.discord.gg behind a proxy.
func TestPacedDialThroughProxy(t *testing.T) {
	t.Parallel()
	upgrader := websocket.Upgrader{}
	gw := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = ws.Close() }()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	}))
	t.Cleanup(gw.Close)
	proxy := newConnectProxy(t)

	s := &Shard{cfg: defaultConfig()}
	WithReadCoalescing(time.Millisecond)(&s.cfg)
	d, _ := s.dialer()
	if d.Proxy == nil {
		t.Fatal("the paced dialer has no Proxy: HTTPS_PROXY would be ignored")
	}
	proxyURL, err := url.Parse(proxy.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	d.Proxy = http.ProxyURL(proxyURL)
	d.TLSClientConfig = &tls.Config{RootCAs: gw.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	d.HandshakeTimeout = 30 * time.Second // the hang guard

	ws, resp, err := d.Dial("wss"+gw.URL[len("https"):], nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial through the proxy: %v", err)
	}
	defer func() { _ = ws.Close() }()
	if n := proxy.opened(); n != 1 {
		t.Fatalf("the proxy opened %d tunnels, want 1", n)
	}
	tc, ok := ws.UnderlyingConn().(*tls.Conn)
	if !ok {
		t.Fatalf("underlying conn %T, want *tls.Conn", ws.UnderlyingConn())
	}
	if got := pacedconn.IsPaced(tc.NetConn()); got != pacedconn.Supported {
		t.Fatalf("paced = %v under TLS, want %v (%T)", got, pacedconn.Supported, tc.NetConn())
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second)) // the hang guard
	for _, msg := range []string{"hello", string(make([]byte, 100<<10))} {
		if err := ws.WriteMessage(websocket.BinaryMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.ReadMessage()
		if err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(got), err)
		}
	}
}
