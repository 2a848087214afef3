package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestParallelRequestsWithRestarts has many goroutines request, send and
// broadcast to many targets while one cluster keeps detaching and
// re-attaching. Every reply must be the right one, and every failure must be
// one the restart explains.
func TestParallelRequestsWithRestarts(t *testing.T) {
	t.Parallel()
	const (
		clusters  = 8
		workers   = 16
		perWorker = 300
		restarts  = 50
		churn     = 5 // the cluster that keeps restarting
	)
	b := New(WithMailboxSize(8))
	for i := range clusters {
		m, err := b.Attach(Cluster(i), echoMux(Cluster(i)))
		if err != nil {
			t.Fatal(err)
		}
		if i == churn {
			// Known from the start, but detached until the churn loop
			// attaches it again.
			m.Detach()
			continue
		}
		serve(t, m)
	}
	for _, name := range []string{"a", "b"} {
		m, err := b.Attach(Service(name), echoMux(Service(name)))
		if err != nil {
			t.Fatal(err)
		}
		serve(t, m)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The churning cluster: attach, serve, detach, over and over.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range restarts {
			m, err := b.Attach(Cluster(churn), echoMux(Cluster(churn)))
			if err != nil {
				t.Errorf("re-Attach: %v", err)
				return
			}
			sctx, scancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- m.Serve(sctx) }()
			// Let it answer one request before stopping it again.
			if _, err := Request[string](ctx, b, Manager(), Cluster(churn), "echo", "alive"); err != nil {
				t.Errorf("request to fresh attach: %v", err)
			}
			m.Detach()
			if err := <-done; err != nil {
				t.Errorf("Serve after Detach = %v", err)
			}
			scancel()
		}
	}()

	targets := []Address{Service("a"), Service("b")}
	for i := range clusters {
		targets = append(targets, Cluster(i))
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				to := targets[(w+i)%len(targets)]
				switch i % 10 {
				case 0:
					for _, r := range Broadcast[Address](ctx, b, Manager(), AllClusters(), "id", nil) {
						if r.Err == nil && r.Value != r.From {
							t.Errorf("broadcast reply from %v = %v", r.From, r.Value)
						}
						if r.Err != nil && (r.From != Cluster(churn) || !errors.Is(r.Err, ErrTargetStopped)) {
							t.Errorf("broadcast error from %v: %v", r.From, r.Err)
						}
					}
				case 1:
					err := b.Send(ctx, Manager(), to, "echo", "fire")
					if err != nil && !errors.Is(err, ErrMailboxFull) && !(to == Cluster(churn) && errors.Is(err, ErrTargetStopped)) {
						t.Errorf("Send to %v: %v", to, err)
					}
				default:
					want := fmt.Sprintf("%d/%d", w, i)
					got, err := Request[string](ctx, b, Manager(), to, "echo", want)
					if to == Cluster(churn) && errors.Is(err, ErrTargetStopped) {
						continue
					}
					if err != nil || got != want {
						t.Errorf("Request to %v = %q, %v; want %q", to, got, err, want)
					}
				}
			}
		}()
	}
	wg.Wait()
}
