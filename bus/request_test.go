package bus

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"
)

func TestRequest(t *testing.T) {
	t.Parallel()
	b := New(WithGuildResolver(func(g uint64) (int, bool) {
		if g == 42 {
			return 0, true // cluster 0 is an ordinary owner
		}
		return 0, false
	}))
	attachClusters(t, b, 2)
	forgotten, err := b.Attach(Cluster(7), echoMux(Cluster(7)))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, forgotten)
	b.Forget(Cluster(7))
	stopped, err := b.Attach(Service("twitch"), echoMux(Service("twitch")))
	if err != nil {
		t.Fatal(err)
	}
	stopped.Detach()

	cases := []struct {
		name    string
		to      Address
		topic   string
		payload any
		want    string
		wantIs  error
	}{
		{name: "cluster 0", to: Cluster(0), topic: "echo", payload: "hi", want: "hi"},
		{name: "cluster 1", to: Cluster(1), topic: "echo", payload: "yo", want: "yo"},
		{name: "guild owned by cluster 0", to: GuildOwner(42), topic: "echo", payload: "g", want: "g"},
		{name: "nil payload is zero value", to: Cluster(0), topic: "echo", want: ""},
		{name: "missing cluster", to: Cluster(9), topic: "echo", payload: "x", wantIs: ErrNoTarget},
		{name: "forgotten cluster", to: Cluster(7), topic: "echo", payload: "x", wantIs: ErrNoTarget},
		{name: "detached service", to: Service("twitch"), topic: "echo", payload: "x", wantIs: ErrTargetStopped},
		{name: "guild without owner", to: GuildOwner(1), topic: "echo", payload: "x", wantIs: ErrNoTarget},
		{name: "unknown topic", to: Cluster(0), topic: "nope", payload: "x", wantIs: ErrUnknownTopic},
		{name: "group address", to: AllClusters(), topic: "echo", payload: "x", wantIs: ErrInvalidAddress},
		{name: "invalid address", to: Cluster(-1), topic: "echo", payload: "x", wantIs: ErrInvalidAddress},
		{name: "zero address", to: Address{}, topic: "echo", payload: "x", wantIs: ErrInvalidAddress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			got, err := Request[string](ctx, b, Manager(), tc.to, tc.topic, tc.payload)
			if tc.wantIs != nil {
				if !errors.Is(err, tc.wantIs) {
					t.Fatalf("Request error = %v, want %v", err, tc.wantIs)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Request = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRequestHandlerErrorCarriesMessage(t *testing.T) {
	t.Parallel()
	b := New()
	attachClusters(t, b, 1)
	_, err := Request[string](context.Background(), b, Manager(), Cluster(0), "fail", "disk on fire")
	var he *HandlerError
	if !errors.As(err, &he) {
		t.Fatalf("error = %v, want *HandlerError", err)
	}
	if he.Msg != "disk on fire" || he.Target != Cluster(0) || he.Topic != "fail" {
		t.Fatalf("HandlerError = %+v", he)
	}
	if !errors.Is(err, errorString("disk on fire")) {
		t.Fatalf("HandlerError does not unwrap to the handler's error: %v", err)
	}
}

func TestRequestTypeErrors(t *testing.T) {
	t.Parallel()
	b := New()
	attachClusters(t, b, 1)
	ctx := context.Background()

	// The reply is a string, the caller wants an int.
	_, err := Request[int](ctx, b, Manager(), Cluster(0), "echo", "x")
	var te *TypeError
	if !errors.As(err, &te) || te.Want != "int" || te.Got != "string" || te.Target != Cluster(0) {
		t.Fatalf("reply type error = %v (%+v)", err, te)
	}

	// The payload is an int, the handler takes a string.
	_, err = Request[string](ctx, b, Manager(), Cluster(0), "echo", 5)
	te = nil
	if !errors.As(err, &te) || te.Want != "string" || te.Got != "int" {
		t.Fatalf("payload type error = %v (%+v)", err, te)
	}
	var he *HandlerError
	if !errors.As(err, &he) {
		t.Fatalf("payload type error should come back as a *HandlerError: %v", err)
	}

	// An address reply through an interface type.
	got, err := Request[any](ctx, b, Manager(), Cluster(0), "id", nil)
	if err != nil || got != Cluster(0) {
		t.Fatalf("Request[any] = %v, %v", got, err)
	}
}

// TestRequestTimeout proves that a timed-out request leaves nothing behind:
// synctest.Test fails if any goroutine of the bubble is still alive at the end,
// and the handler that finishes late does not block on the reply.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := New()
		release := make(chan struct{})
		finished := make(chan struct{})
		h := HandlerFunc(func(ctx context.Context, msg *Message) (any, error) {
			<-release
			defer close(finished)
			return "late", nil
		})
		m, err := b.Attach(Cluster(0), h)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Serve(ctx) }()

		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		_, err = Request[string](rctx, b, Manager(), Cluster(0), "slow", nil)
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error = %v, want ErrTimeout and DeadlineExceeded", err)
		}
		close(release)
		<-finished // the late handler's reply went into the buffered channel
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve = %v, want context.Canceled", err)
		}
	})
}

func TestRequestDefaultTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := New(WithRequestTimeout(time.Second))
		if _, err := b.Attach(Cluster(0), echoMux(Cluster(0))); err != nil {
			t.Fatal(err)
		}
		// Nobody serves the mailbox, so no reply comes.
		_, err := Request[string](context.Background(), b, Manager(), Cluster(0), "echo", "x")
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("error = %v, want ErrTimeout", err)
		}
	})
}

func TestRequestCanceled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := New()
		if _, err := b.Attach(Cluster(0), echoMux(Cluster(0))); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := Request[string](ctx, b, Manager(), Cluster(0), "echo", "x")
			errc <- err
		}()
		synctest.Wait() // the request is delivered and waiting for its reply
		cancel()
		err := <-errc
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Fatalf("error = %v, want context.Canceled and not ErrTimeout", err)
		}
	})
}

// TestRequestSkippedAfterTimeout shows that the owner does not run a request
// whose requester has gone.
func TestRequestSkippedAfterTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := New()
		release := make(chan struct{})
		ran := make(map[string]bool) // touched only by the Serve goroutine until it ends
		h := HandlerFunc(func(ctx context.Context, msg *Message) (any, error) {
			ran[msg.Topic] = true
			if msg.Topic == "block" {
				<-release
			}
			return nil, nil
		})
		m, err := b.Attach(Cluster(0), h)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Serve(ctx) }()

		if err := b.Send(context.Background(), Manager(), Cluster(0), "block", nil); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
		_, err = Request[any](rctx, b, Manager(), Cluster(0), "gone", nil)
		rcancel()
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("error = %v, want ErrTimeout", err)
		}
		close(release)
		// FIFO: once "after" is answered, "gone" has been dequeued.
		if _, err := Request[any](context.Background(), b, Manager(), Cluster(0), "after", nil); err != nil {
			t.Fatal(err)
		}
		cancel()
		<-done
		if ran["gone"] || !ran["after"] {
			t.Fatalf("handlers run: %v; want \"gone\" skipped", ran)
		}
		if s := m.Stats(); s.Skipped != 1 || s.Handled != 2 {
			t.Fatalf("Stats = %+v, want Skipped 1, Handled 2", s)
		}
	})
}

func TestSend(t *testing.T) {
	t.Parallel()
	b := New(WithLogger(slog.New(slog.DiscardHandler)))
	got := make(chan string, 8)
	for i := range 3 {
		m, err := b.Attach(Cluster(i), HandlerFunc(func(ctx context.Context, msg *Message) (any, error) {
			if msg.IsRequest() {
				t.Errorf("Send delivered a request")
			}
			got <- msg.To.String() + ":" + msg.Payload.(string)
			return nil, errors.New("ignored")
		}))
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			m.Detach()
			continue
		}
		serve(t, m)
	}
	ctx := context.Background()
	if err := b.Send(ctx, Manager(), Cluster(0), "t", "one"); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "cluster/0:one" {
		t.Fatalf("got %q", s)
	}
	err := b.Send(ctx, Manager(), AllClusters(), "t", "all")
	if !errors.Is(err, ErrTargetStopped) || errors.Is(err, ErrNoTarget) {
		t.Fatalf("group Send error = %v, want only cluster 2's ErrTargetStopped", err)
	}
	seen := map[string]bool{<-got: true, <-got: true}
	if !seen["cluster/0:all"] || !seen["cluster/1:all"] {
		t.Fatalf("group Send reached %v", seen)
	}
	if err := b.Send(ctx, Manager(), Cluster(5), "t", "x"); !errors.Is(err, ErrNoTarget) {
		t.Fatalf("Send to missing = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Send(cctx, Manager(), Cluster(0), "t", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with cancelled ctx = %v", err)
	}
}

// TestRequestFromHandlerToSelf shows that a handler requesting its own target
// (directly or through a broadcast that includes it) runs the nested request
// inline instead of deadlocking until the deadline.
func TestRequestFromHandlerToSelf(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := New()
		for id := range 2 {
			var mux Mux
			Handle(&mux, "id", func(context.Context, struct{}) (int, error) { return id, nil })
			Handle(&mux, "self", func(ctx context.Context, _ struct{}) (int, error) {
				return Request[int](ctx, b, Cluster(id), Cluster(id), "id", nil)
			})
			Handle(&mux, "all", func(ctx context.Context, _ struct{}) ([]int, error) {
				var out []int
				for _, r := range Broadcast[int](ctx, b, Cluster(id), AllClusters(), "id", nil) {
					if r.Err != nil {
						return nil, r.Err
					}
					out = append(out, r.Value)
				}
				return out, nil
			})
			m, err := b.Attach(Cluster(id), &mux)
			if err != nil {
				t.Fatal(err)
			}
			serve(t, m)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		start := time.Now()
		got, err := Request[int](ctx, b, Manager(), Cluster(1), "self", nil)
		if err != nil || got != 1 {
			t.Fatalf("self request = %d, %v", got, err)
		}
		all, err := Request[[]int](ctx, b, Manager(), Cluster(0), "all", nil)
		if err != nil || len(all) != 2 || all[0] != 0 || all[1] != 1 {
			t.Fatalf("broadcast from handler = %v, %v", all, err)
		}
		// Inside the bubble time only moves when every goroutine waits, so
		// an unchanged clock proves nothing waited for a deadline.
		if d := time.Since(start); d != 0 {
			t.Fatalf("fake clock moved by %v: a request waited for its deadline", d)
		}
	})
}
