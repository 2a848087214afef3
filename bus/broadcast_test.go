package bus

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// fakeCluster stands for the value a cluster attaches as its eval target.
type fakeCluster struct {
	id     int
	guilds int
}

// attachEvalClusters attaches clusters 0..n-1 with a *fakeCluster eval target
// each and returns their mailboxes.
func attachEvalClusters(t *testing.T, b *Bus, n int) []*Mailbox {
	t.Helper()
	out := make([]*Mailbox, n)
	for i := range n {
		m, err := b.Attach(Cluster(i), echoMux(Cluster(i)), WithEvalTarget(&fakeCluster{id: i, guilds: 10 * (i + 1)}))
		if err != nil {
			t.Fatal(err)
		}
		serve(t, m)
		out[i] = m
	}
	return out
}

func TestBroadcastPartialResults(t *testing.T) {
	t.Parallel()
	b := New()
	boxes := attachClusters(t, b, 4)
	boxes[2].Detach() // cluster 2 is restarting
	if _, err := b.Attach(Service("twitch"), echoMux(Service("twitch"))); err != nil {
		t.Fatal(err)
	}

	res := Broadcast[Address](context.Background(), b, Manager(), AllClusters(), "id", nil)
	if len(res) != 4 {
		t.Fatalf("got %d results, want 4: %+v", len(res), res)
	}
	for i, r := range res {
		if r.From != Cluster(i) {
			t.Fatalf("result %d from %v: results not sorted by address", i, r.From)
		}
		if i == 2 {
			if !errors.Is(r.Err, ErrTargetStopped) {
				t.Fatalf("cluster 2 result = %+v, want ErrTargetStopped", r)
			}
			continue
		}
		if r.Err != nil || r.Value != Cluster(i) {
			t.Fatalf("cluster %d result = %+v", i, r)
		}
	}

	b.Forget(Cluster(3))
	if res := Broadcast[Address](context.Background(), b, Manager(), AllClusters(), "id", nil); len(res) != 3 {
		t.Fatalf("after Forget got %d results, want 3", len(res))
	}
}

func TestBroadcastSingleAndInvalid(t *testing.T) {
	t.Parallel()
	b := New()
	attachClusters(t, b, 1)
	cases := []struct {
		name   string
		to     Address
		n      int
		wantIs error
	}{
		{"concrete cluster 0", Cluster(0), 1, nil},
		{"missing cluster", Cluster(3), 1, ErrNoTarget},
		{"invalid", Cluster(-2), 1, ErrInvalidAddress},
		{"guild without resolver", GuildOwner(9), 1, ErrNoTarget},
		{"empty group", AllServices(), 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Broadcast[string](context.Background(), b, Manager(), tc.to, "echo", "x")
			if len(res) != tc.n {
				t.Fatalf("got %d results, want %d", len(res), tc.n)
			}
			if tc.n == 0 {
				return
			}
			if tc.wantIs == nil && (res[0].Err != nil || res[0].Value != "x") {
				t.Fatalf("result = %+v", res[0])
			}
			if tc.wantIs != nil && !errors.Is(res[0].Err, tc.wantIs) {
				t.Fatalf("result error = %v, want %v", res[0].Err, tc.wantIs)
			}
		})
	}
}

func TestEvalClosure(t *testing.T) {
	t.Parallel()
	b := New()
	boxes := attachEvalClusters(t, b, 4)
	boxes[3].Detach()
	res, err := Eval(context.Background(), b, Manager(), AllClusters(), func(ctx context.Context, c *fakeCluster) (int, error) {
		if c.id == 1 {
			return 0, fmt.Errorf("cluster %d is sulking", c.id)
		}
		return c.guilds, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("got %d results", len(res))
	}
	want := []struct {
		value int
		msg   string
		is    error
	}{{10, "", nil}, {0, "cluster 1 is sulking", nil}, {30, "", nil}, {0, "", ErrTargetStopped}}
	for i, r := range res {
		w := want[i]
		switch {
		case w.is != nil:
			if !errors.Is(r.Err, w.is) {
				t.Errorf("cluster %d: %+v, want %v", i, r, w.is)
			}
		case w.msg != "":
			var he *HandlerError
			if !errors.As(r.Err, &he) || he.Msg != w.msg || he.Topic != EvalTopic {
				t.Errorf("cluster %d: %+v, want HandlerError %q", i, r, w.msg)
			}
		default:
			if r.Err != nil || r.Value != w.value || r.From != Cluster(i) {
				t.Errorf("cluster %d: %+v, want %d", i, r, w.value)
			}
		}
	}
	if _, err := Eval[any, int](context.Background(), b, Manager(), AllClusters(), nil); err == nil {
		t.Fatal("Eval with nil fn succeeded")
	}
	if _, err := Eval(context.Background(), b, Manager(), Cluster(-1), func(context.Context, any) (int, error) { return 0, nil }); !errors.Is(err, ErrInvalidAddress) {
		t.Fatalf("Eval to invalid address = %v", err)
	}
}

type scaleArg struct {
	Factor int    `json:"factor"`
	Fail   []int  `json:"fail"`
	Note   string `json:"note"`
}

func TestEvalFunc(t *testing.T) {
	t.Parallel()
	b := New()
	attachEvalClusters(t, b, 3)
	err := RegisterFunc(b, "guilds.scaled", func(ctx context.Context, c *fakeCluster, arg scaleArg) (int, error) {
		for _, f := range arg.Fail {
			if f == c.id {
				return 0, fmt.Errorf("%s on cluster %d", arg.Note, c.id)
			}
		}
		return c.guilds * arg.Factor, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := RegisterFunc(b, "guilds.scaled", func(context.Context, any, int) (int, error) { return 0, nil }); !errors.Is(err, ErrFuncExists) {
		t.Fatalf("duplicate RegisterFunc = %v, want ErrFuncExists", err)
	}
	if err := RegisterFunc(b, "bad name", func(context.Context, any, int) (int, error) { return 0, nil }); !errors.Is(err, ErrInvalidEnvelope) {
		t.Fatalf("RegisterFunc with bad name = %v", err)
	}

	ctx := context.Background()
	res, err := EvalFunc[scaleArg, int](ctx, b, Manager(), AllClusters(), "guilds.scaled", scaleArg{Factor: 2, Fail: []int{0}, Note: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("got %d results", len(res))
	}
	var he *HandlerError
	if !errors.As(res[0].Err, &he) || he.Msg != "nope on cluster 0" || he.Topic != EvalTopic+"/guilds.scaled" {
		t.Fatalf("cluster 0 result = %+v", res[0])
	}
	if res[1].Err != nil || res[1].Value != 40 || res[2].Err != nil || res[2].Value != 60 {
		t.Fatalf("results = %+v", res)
	}

	// Whole failures: nothing could be sent.
	if _, err := EvalFunc[int, int](ctx, b, Manager(), AllClusters(), "missing", 1); !errors.Is(err, ErrUnknownFunc) {
		t.Fatalf("EvalFunc unknown = %v, want ErrUnknownFunc", err)
	}
	if _, err := EvalFunc[chan int, int](ctx, b, Manager(), AllClusters(), "guilds.scaled", make(chan int)); !errors.Is(err, ErrInvalidEnvelope) {
		t.Fatalf("EvalFunc unencodable = %v, want ErrInvalidEnvelope", err)
	}
	if _, err := EvalFunc[scaleArg, int](ctx, b, Cluster(-1), AllClusters(), "guilds.scaled", scaleArg{}); !errors.Is(err, ErrInvalidAddress) {
		t.Fatalf("EvalFunc bad from = %v, want ErrInvalidAddress", err)
	}

	// The argument travels as JSON: a mismatched argument type fails on the
	// target, as it would after a wire hop.
	res, err = EvalFunc[string, int](ctx, b, Manager(), Cluster(0), "guilds.scaled", "not an object")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !errors.Is(res[0].Err, ErrInvalidEnvelope) {
		t.Fatalf("mismatched arg result = %+v", res)
	}
	// A result of the wrong type is a *TypeError.
	res2, err := EvalFunc[scaleArg, string](ctx, b, Manager(), Cluster(1), "guilds.scaled", scaleArg{Factor: 1})
	var te *TypeError
	if err != nil || len(res2) != 1 || !errors.As(res2[0].Err, &te) || te.Want != "string" || te.Got != "int" {
		t.Fatalf("wrong result type = %+v, %v", res2, err)
	}
}

func TestRunEnvelopeFromWire(t *testing.T) {
	t.Parallel()
	b := New()
	if err := RegisterFunc(b, "add", func(_ context.Context, target int, n int) (int, error) { return target + n, nil }); err != nil {
		t.Fatal(err)
	}
	env, err := decodeEnvelope([]byte(`{"func":"add","arg":5}`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.runEnvelope(context.Background(), Cluster(0), 37, env)
	if err != nil || v != 42 {
		t.Fatalf("runEnvelope = %v, %v", v, err)
	}
	env.Func = "sub"
	if _, err := b.runEnvelope(context.Background(), Cluster(0), 37, env); !errors.Is(err, ErrUnknownFunc) {
		t.Fatalf("runEnvelope unknown = %v", err)
	}
}

// TestBroadcastFullMailbox shows a broadcast waiting for room in one full
// mailbox without holding up the other targets, and giving up on it at its
// deadline while the others answer.
func TestBroadcastFullMailbox(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		drain    bool // start serving the full mailbox while the broadcast waits
		wantFull bool
	}{
		{name: "room appears", drain: true},
		{name: "deadline", drain: false, wantFull: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := New(WithFanout(1))
				full, err := b.Attach(Cluster(0), echoMux(Cluster(0)), WithCapacity(1))
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Send(context.Background(), Manager(), Cluster(0), "echo", "fill"); err != nil {
					t.Fatal(err)
				}
				attachClusters2 := func(id int) {
					m, err := b.Attach(Cluster(id), echoMux(Cluster(id)))
					if err != nil {
						t.Fatal(err)
					}
					serve(t, m)
				}
				attachClusters2(1)
				attachClusters2(2)

				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				resc := make(chan []Result[Address], 1)
				go func() { resc <- Broadcast[Address](ctx, b, Manager(), AllClusters(), "id", nil) }()
				synctest.Wait() // clusters 1 and 2 have answered; cluster 0 is full
				if tc.drain {
					serve(t, full)
				}
				res := <-resc
				for i, r := range res {
					if i == 0 && tc.wantFull {
						if !errors.Is(r.Err, ErrMailboxFull) || !errors.Is(r.Err, context.DeadlineExceeded) {
							t.Fatalf("cluster 0 = %+v, want ErrMailboxFull", r)
						}
						continue
					}
					if r.Err != nil || r.Value != Cluster(i) {
						t.Fatalf("cluster %d = %+v", i, r)
					}
				}
				if got := full.Stats().Full; tc.wantFull != (got == 1) || got > 1 {
					t.Fatalf("Stats().Full = %d; a full that later found room must not count", got)
				}
			})
		})
	}
}

// TestEvalTargetIsTyped proves that Eval and RegisterFunc functions get the
// target's eval value as their own type, that a target of another type (or
// none) gets a *TypeError in its Result instead of a panic, and that an
// interface-typed function also runs on a target without an eval value.
func TestEvalTargetIsTyped(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := New()
	attachEvalClusters(t, b, 1)
	other, err := b.Attach(Cluster(1), nil, WithEvalTarget("not a cluster"))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, other)
	bare, err := b.Attach(Cluster(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, bare)
	if err := RegisterFunc(b, "guilds", func(_ context.Context, c *fakeCluster, _ struct{}) (int, error) { return c.guilds, nil }); err != nil {
		t.Fatal(err)
	}
	check := func(what string, res []Result[int], err error, topic string) {
		t.Helper()
		if err != nil || len(res) != 3 {
			t.Fatalf("%s = %+v, %v; want three results", what, res, err)
		}
		if res[0].Err != nil || res[0].Value != 10 {
			t.Errorf("%s on cluster 0 = %+v, want 10", what, res[0])
		}
		for i, got := range []string{"string", "<nil>"} {
			r := res[i+1]
			var te *TypeError
			if !errors.As(r.Err, &te) || te.Target != Cluster(i+1) || te.Topic != topic ||
				te.Want != "*bus.fakeCluster" || te.Got != got {
				t.Errorf("%s on %v = %+v, want a *TypeError got %s, want *bus.fakeCluster", what, r.From, r, got)
			}
		}
	}
	res, err := Eval(ctx, b, Manager(), AllClusters(), func(_ context.Context, c *fakeCluster) (int, error) { return c.guilds, nil })
	check("Eval", res, err, EvalTopic)
	res, err = EvalFunc[struct{}, int](ctx, b, Manager(), AllClusters(), "guilds", struct{}{})
	check("EvalFunc", res, err, EvalTopic+"/guilds")

	res2, err := Eval(ctx, b, Manager(), Cluster(2), func(_ context.Context, v any) (bool, error) { return v == nil, nil })
	if err != nil || len(res2) != 1 || res2[0].Err != nil || !res2[0].Value {
		t.Fatalf("Eval[any] on a target without an eval value = %+v, %v; want true", res2, err)
	}
}
