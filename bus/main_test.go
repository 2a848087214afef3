package bus

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs m.Serve on a new goroutine until the test ends.
func serve(t *testing.T, m *Mailbox) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// echoMux answers "echo" with its string payload, "fail" with an error
// carrying the payload, and "id" with the target's address.
func echoMux(addr Address) *Mux {
	var mux Mux
	Handle(&mux, "echo", func(_ context.Context, s string) (string, error) { return s, nil })
	Handle(&mux, "fail", func(_ context.Context, s string) (string, error) { return "", errorString(s) })
	Handle(&mux, "id", func(_ context.Context, _ struct{}) (Address, error) { return addr, nil })
	return &mux
}

type errorString string

func (e errorString) Error() string { return string(e) }

// attachClusters attaches and serves clusters 0..n-1 with echoMux handlers.
func attachClusters(t *testing.T, b *Bus, n int, opts ...MailboxOption) []*Mailbox {
	t.Helper()
	out := make([]*Mailbox, n)
	for i := range n {
		m, err := b.Attach(Cluster(i), echoMux(Cluster(i)), opts...)
		if err != nil {
			t.Fatalf("Attach(cluster %d): %v", i, err)
		}
		serve(t, m)
		out[i] = m
	}
	return out
}
