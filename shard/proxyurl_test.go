package shard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/megane-go/megane/discordtest"
)

// tcpProxy forwards every connection it accepts to target and counts them.
type tcpProxy struct {
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Go(func() { _, _ = io.Copy(up, c); _ = up.Close() })
			p.wg.Go(func() { _, _ = io.Copy(c, up); _ = c.Close() })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// TestGatewayProxyTakesResumesToo: with WithGatewayProxy the shard dials
// the proxy for its first session and again for a resume, although READY
// named the fake's own resume_gateway_url (which a resume would dial
// without it).
func TestGatewayProxyTakesResumesToo(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	gw, err := url.Parse(srv.GatewayURL())
	if err != nil {
		t.Fatal(err)
	}
	p := newTCPProxy(t, gw.Host)
	h := newHooks()
	s := openShard(t, srv, 0, 1, nil, WithGatewayProxy("ws://"+p.ln.Addr().String()+gw.Path), WithEventHook(h.hook))
	if n := p.accepted.Load(); n != 1 {
		t.Fatalf("the proxy took %d connections for the first session, want 1", n)
	}
	session := currentSession(t, s)
	if err := srv.Reconnect(0); err != nil { // op 7: the shard resumes
		t.Fatal(err)
	}
	eventually(t, "a resume", func() bool { return countEvents[Resumed](h) >= 1 }, h.wake)
	if n := p.accepted.Load(); n != 2 {
		t.Fatalf("the proxy took %d connections after a resume, want 2: the resume bypassed it", n)
	}
	if currentSession(t, s) != session {
		t.Fatal("session changed; want a resume")
	}
}

// TestGatewayProxyMustBeWebSocket: a proxy URL that is not ws:// or
// wss://HOST fails Open at once, without a dial.
func TestGatewayProxyMustBeWebSocket(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"http://127.0.0.1:1", "ws://", "127.0.0.1:1", "::bad"} {
		s := New("t", 0, 1, nil, WithGatewayProxy(bad), WithLogger(quietLogger()))
		err := s.Open(context.Background())
		if !errors.Is(err, ErrInvalidGatewayURL) || !errors.Is(s.Err(), ErrInvalidGatewayURL) {
			t.Errorf("%q: Open = %v, Err = %v, want ErrInvalidGatewayURL", bad, err, s.Err())
		}
		s.Close(context.Background())
	}
}
