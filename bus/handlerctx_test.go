package bus

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

type ctxKey struct{}

// TestHandlerContext checks the context a request's handler sees: it carries
// the requester's values and deadline, ends when either the requester or
// Serve's context ends, and is over once the handler returns.
func TestHandlerContext(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// end ends one of the two contexts while the handler waits.
		end  func(cancelRequest, cancelServe context.CancelFunc)
		want error
	}{
		{"requester gives up", func(r, _ context.CancelFunc) { r() }, context.Canceled},
		{"serve context ends", func(_, s context.CancelFunc) { s() }, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := New()
				var kept context.Context
				observed := make(chan error, 1)
				h := HandlerFunc(func(ctx context.Context, msg *Message) (any, error) {
					kept = ctx
					if ctx.Value(ctxKey{}) != "v" {
						t.Errorf("handler ctx lost the requester's value")
					}
					if _, ok := ctx.Deadline(); !ok {
						t.Errorf("handler ctx has no deadline")
					}
					if ctx.Err() != nil {
						t.Errorf("handler ctx already ended: %v", ctx.Err())
					}
					// A derived context must follow it too.
					sub, cancel := context.WithTimeout(ctx, time.Hour)
					defer cancel()
					<-sub.Done()
					observed <- ctx.Err()
					return nil, nil
				})
				m, err := b.Attach(Cluster(0), h)
				if err != nil {
					t.Fatal(err)
				}
				sctx, scancel := context.WithCancel(context.Background())
				defer scancel()
				done := make(chan error, 1)
				go func() { done <- m.Serve(sctx) }()

				rctx, rcancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "v"), time.Minute)
				defer rcancel()
				errc := make(chan error, 1)
				go func() {
					_, err := Request[any](rctx, b, Manager(), Cluster(0), "x", nil)
					errc <- err
				}()
				synctest.Wait() // the handler waits on its context
				tc.end(rcancel, scancel)
				if err := <-observed; !errors.Is(err, tc.want) {
					t.Fatalf("handler saw %v, want %v", err, tc.want)
				}
				<-errc
				scancel()
				<-done
				select {
				case <-kept.Done():
				default:
					t.Fatal("handler ctx still live after the handler returned")
				}
				if kept.Err() == nil {
					t.Fatal("handler ctx Err is nil after the handler returned")
				}
			})
		})
	}
}

func TestHandlerContextUnusedIsOverAfterReturn(t *testing.T) {
	t.Parallel()
	b := New()
	var kept context.Context
	m, err := b.Attach(Cluster(0), HandlerFunc(func(ctx context.Context, msg *Message) (any, error) {
		kept = ctx // never asks for Done while running
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, m)
	if _, err := Request[any](context.Background(), b, Manager(), Cluster(0), "x", nil); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(kept.Err(), context.Canceled) {
		t.Fatalf("Err after return = %v", kept.Err())
	}
	<-kept.Done()
	ran := make(chan struct{})
	context.AfterFunc(kept, func() { close(ran) })
	<-ran
}

func TestMessageJSON(t *testing.T) {
	t.Parallel()
	msg := Message{From: Service("twitch"), To: Cluster(0), Topic: "live", Payload: map[string]int{"viewers": 3}}
	js, err := json.Marshal(&msg)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"from":"service/twitch","to":"cluster/0","topic":"live","payload":{"viewers":3}}`
	if string(js) != want {
		t.Fatalf("Marshal = %s, want %s", js, want)
	}
	var back Message
	if err := json.Unmarshal(js, &back); err != nil || back.From != msg.From || back.To != msg.To || back.Topic != msg.Topic {
		t.Fatalf("Unmarshal = %+v, %v", back, err)
	}
}
