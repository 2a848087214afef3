package bus

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestMailboxFullSend(t *testing.T) {
	t.Parallel()
	b := New(WithMailboxSize(2))
	m, err := b.Attach(Cluster(0), echoMux(Cluster(0)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 {
		if err := b.Send(ctx, Manager(), Cluster(0), "echo", "x"); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	// Nobody serves the mailbox: the third Send fails at once.
	if err := b.Send(ctx, Manager(), Cluster(0), "echo", "x"); !errors.Is(err, ErrMailboxFull) {
		t.Fatalf("Send to full mailbox = %v, want ErrMailboxFull", err)
	}
	if s := m.Stats(); s.Full != 1 || s.Delivered != 2 || s.Pending != 2 || s.Capacity != 2 {
		t.Fatalf("Stats = %+v", s)
	}
	// Once drained, there is room again.
	serve(t, m)
	if _, err := Request[string](ctx, b, Manager(), Cluster(0), "echo", "y"); err != nil {
		t.Fatalf("Request after drain: %v", err)
	}
}

func TestMailboxFullRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// then runs after the request is blocked waiting for room.
		then   func(t *testing.T, b *Bus, m *Mailbox)
		wantIs []error
		notIs  error
	}{
		{
			name:   "deadline while waiting for room",
			then:   func(t *testing.T, b *Bus, m *Mailbox) {},
			wantIs: []error{ErrMailboxFull, context.DeadlineExceeded},
			notIs:  ErrTimeout,
		},
		{
			name:   "target detached while waiting",
			then:   func(t *testing.T, b *Bus, m *Mailbox) { m.Detach() },
			wantIs: []error{ErrTargetStopped},
			notIs:  ErrMailboxFull,
		},
		{
			name: "room appears",
			then: func(t *testing.T, b *Bus, m *Mailbox) {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- m.Serve(ctx) }()
				t.Cleanup(func() { cancel(); <-done })
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := New()
				m, err := b.Attach(Cluster(0), echoMux(Cluster(0)), WithCapacity(1))
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Send(context.Background(), Manager(), Cluster(0), "echo", "fill"); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				errc := make(chan error, 1)
				go func() {
					_, err := Request[string](ctx, b, Manager(), Cluster(0), "echo", "wait")
					errc <- err
				}()
				synctest.Wait() // the request is blocked on the full mailbox
				tc.then(t, b, m)
				err = <-errc
				if len(tc.wantIs) == 0 && err != nil {
					t.Fatalf("Request = %v, want success", err)
				}
				for _, want := range tc.wantIs {
					if !errors.Is(err, want) {
						t.Fatalf("Request error = %v, want it to match %v", err, want)
					}
				}
				if tc.notIs != nil && errors.Is(err, tc.notIs) {
					t.Fatalf("Request error = %v must not match %v", err, tc.notIs)
				}
			})
		})
	}
}

func TestDetachRejectsPending(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := New()
		m, err := b.Attach(Cluster(0), echoMux(Cluster(0)))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send(context.Background(), Manager(), Cluster(0), "echo", "dropped"); err != nil {
			t.Fatal(err)
		}
		const n = 3
		errc := make(chan error, n)
		for range n {
			go func() {
				_, err := Request[string](context.Background(), b, Manager(), Cluster(0), "echo", "x")
				errc <- err
			}()
		}
		synctest.Wait() // all requests queued, nobody serving
		if s := m.Stats(); s.Pending != n+1 {
			t.Fatalf("Pending = %d, want %d", s.Pending, n+1)
		}
		m.Detach()
		for range n {
			if err := <-errc; !errors.Is(err, ErrTargetStopped) {
				t.Fatalf("pending request = %v, want ErrTargetStopped", err)
			}
		}
		if s := m.Stats(); s.Stopped != n+1 || s.Pending != 0 {
			t.Fatalf("Stats after Detach = %+v", s)
		}
		select {
		case <-m.done:
		default:
			t.Fatal("done not closed after Detach")
		}
		if err := m.Serve(context.Background()); err != nil {
			t.Fatalf("Serve after Detach = %v, want nil", err)
		}
		m.Detach() // idempotent
	})
}

func TestReattachAfterDetach(t *testing.T) {
	t.Parallel()
	b := New()
	m1, err := b.Attach(Cluster(0), echoMux(Cluster(0)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Attach(Cluster(0), echoMux(Cluster(0))); !errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("second Attach = %v, want ErrAlreadyAttached", err)
	}
	m1.Detach()
	ctx := context.Background()
	if _, err := Request[string](ctx, b, Manager(), Cluster(0), "echo", "x"); !errors.Is(err, ErrTargetStopped) {
		t.Fatalf("Request while detached = %v", err)
	}
	var mux Mux
	Handle(&mux, "echo", func(_ context.Context, s string) (string, error) { return "v2:" + s, nil })
	m2, err := b.Attach(Cluster(0), &mux)
	if err != nil {
		t.Fatalf("re-Attach: %v", err)
	}
	serve(t, m2)
	m1.Detach() // a stale Detach must not detach the new mailbox
	got, err := Request[string](ctx, b, Manager(), Cluster(0), "echo", "x")
	if err != nil || got != "v2:x" {
		t.Fatalf("Request after re-attach = %q, %v", got, err)
	}
}

func TestServeTwiceAndDetachStopsServe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := New()
		m, err := b.Attach(Manager(), nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- m.Serve(context.Background()) }()
		synctest.Wait()
		if err := m.Serve(context.Background()); !errors.Is(err, ErrAlreadyServing) {
			t.Fatalf("second Serve = %v, want ErrAlreadyServing", err)
		}
		// A nil handler answers only evals.
		if _, err := Request[any](context.Background(), b, Address{}, Manager(), "x", nil); !errors.Is(err, ErrUnknownTopic) {
			t.Fatalf("Request to nil handler = %v, want ErrUnknownTopic", err)
		}
		m.Detach()
		if err := <-done; err != nil {
			t.Fatalf("Serve after Detach = %v, want nil", err)
		}
	})
}

func TestAttachRejects(t *testing.T) {
	t.Parallel()
	b := New()
	for _, a := range []Address{{}, AllClusters(), AllServices(), GuildOwner(1), Cluster(-1), Service("")} {
		if _, err := b.Attach(a, nil); !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("Attach(%v) = %v, want ErrInvalidAddress", a, err)
		}
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	b := New(WithGuildResolver(func(g uint64) (int, bool) { return int(g % 3), true }))
	for _, a := range []Address{Cluster(2), Cluster(0), Cluster(10), Cluster(1), Service("b"), Service("a"), Manager()} {
		if _, err := b.Attach(a, nil); err != nil {
			t.Fatal(err)
		}
	}
	b.Forget(Cluster(1))
	b.Forget(Cluster(99)) // unknown: no effect
	var wg sync.WaitGroup
	cases := []struct {
		to   Address
		want []Address
	}{
		{AllClusters(), []Address{Cluster(0), Cluster(2), Cluster(10)}},
		{AllServices(), []Address{Service("a"), Service("b")}},
		{GuildOwner(5), []Address{Cluster(2)}},
		{Cluster(4), []Address{Cluster(4)}},
	}
	for _, tc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := b.members(tc.to)
			if err != nil || len(got) != len(tc.want) {
				t.Errorf("Members(%v) = %v, %v; want %v", tc.to, got, err, tc.want)
				return
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("Members(%v) = %v, want %v", tc.to, got, tc.want)
				}
			}
		}()
	}
	wg.Wait()
}
