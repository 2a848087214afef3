package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// hangingWorker's Launch never returns before its context ends.
type hangingWorker struct{}

func (hangingWorker) Launch(ctx context.Context, _ *cluster.Cluster) error {
	<-ctx.Done()
	return ctx.Err()
}

// failedStarts is a policy that retries at once and gives up after two
// failed starts in a row.
func failedStarts() supervisor.Policy {
	p := fastPolicy()
	p.MaxFailedStarts = 2
	return p
}

// TestLaunchTimeout: a Launch that never returns used to hang the start
// forever. It must crash the attempt with cluster.ErrLaunchTimeout after the ready
// timeout, be retried, and end Serve after the failed-start cap.
func TestLaunchTimeout(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	h := newHarness(t, fake, []int{0}, 1, func(int, *recorder) Worker { return hangingWorker{} },
		WithReadyTimeout(20*time.Millisecond), WithRestartPolicy(failedStarts()))
	h.start()
	var err error
	select {
	case err = <-h.errc:
	case <-time.After(testTimeout):
		t.Fatal("Serve did not give up")
	}
	if !errors.Is(err, cluster.ErrLaunchTimeout) || !errors.Is(err, supervisor.ErrTooManyRestarts) {
		t.Fatalf("Serve = %v, want too many restarts of cluster.ErrLaunchTimeout", err)
	}
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if n := h.rec.count(cluster.EventCrashed); n != 3 {
		t.Fatalf("%d crash events, want 3 (2 failed starts allowed, the 3rd gives up)", n)
	}
	for _, e := range h.rec.events {
		if e.Kind == cluster.EventCrashed && !errors.Is(e.Err, cluster.ErrLaunchTimeout) {
			t.Fatalf("crash event %v, want cluster.ErrLaunchTimeout", e.Err)
		}
	}
}

// TestShardReadyTimeoutFailsStart: a gateway that takes the IDENTIFY and
// never sends READY used to hang the start forever. The shard's ready
// timeout must crash the attempt, and the failed-start cap end Serve.
func TestShardReadyTimeoutFailsStart(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	upgrader := websocket.Upgrader{}
	identifies := make(chan struct{}, 16)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":10,"d":{"heartbeat_interval":45000}}`))
		for {
			_, p, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if strings.HasPrefix(string(p), `{"op":2,`) {
				identifies <- struct{}{} // and never answered
			}
		}
	}))
	defer gw.Close()
	h := newHarness(t, fake, []int{0}, 1, func(gen int, rec *recorder) Worker { return &testWorker{gen: gen, rec: rec} },
		WithGatewayURL("ws"+strings.TrimPrefix(gw.URL, "http")),
		WithReadyTimeout(20*time.Millisecond), WithRestartPolicy(failedStarts()))
	h.start()
	var err error
	select {
	case err = <-h.errc:
	case <-time.After(testTimeout):
		t.Fatal("Serve did not give up")
	}
	if !errors.Is(err, shard.ErrReadyTimeout) || !errors.Is(err, supervisor.ErrTooManyRestarts) {
		t.Fatalf("Serve = %v, want too many restarts of shard.ErrReadyTimeout", err)
	}
	if n := len(identifies); n != 3 {
		t.Fatalf("%d IDENTIFYs, want 3: one per start", n)
	}
}
