package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/megane-go/megane/internal/testutil"
)

// The panicking functions have names of their own, so that a test can
// find them in a recovered stack.
func panicInHandler()  { panic("handler boom") }
func panicInEval()     { panic(errorString("eval boom")) }
func panicInFunc()     { panic("func boom") }
func panicInSendable() { panic("send boom") }

const panicFunc = "bus.panic-func"

// panicBus returns a bus with a function that panics registered, and
// cluster 0 attached and served with an echoMux that also has the topics
// "boom" (panics) and "send-boom" (panics, for Send).
func panicBus(t *testing.T, opts ...Option) (*Bus, *Mailbox) {
	t.Helper()
	b := New(opts...)
	if err := RegisterFunc(b, panicFunc, func(context.Context, any, int) (int, error) {
		panicInFunc()
		return 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	mux := echoMux(Cluster(0))
	Handle(mux, "boom", func(context.Context, any) (any, error) { panicInHandler(); return nil, nil })
	Handle(mux, "send-boom", func(context.Context, any) (any, error) { panicInSendable(); return nil, nil })
	m, err := b.Attach(Cluster(0), mux)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, m)
	return b, m
}

// TestHandlerPanicIsAnError proves that a panic in a handler, an Eval
// closure or an EvalFunc function comes back to the requester as a
// *HandlerError with the panic value and the stack of the panicking
// function, and that the mailbox goes on serving.
func TestHandlerPanicIsAnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		call      func(ctx context.Context, b *Bus) error
		topic     string
		msg       string
		fn        string // the function the stack must name
		wantValue error  // matched with errors.Is, for an error value
	}{
		{"handler", func(ctx context.Context, b *Bus) error {
			_, err := Request[any](ctx, b, Manager(), Cluster(0), "boom", nil)
			return err
		}, "boom", "panic: handler boom", "bus.panicInHandler", nil},
		{"eval", func(ctx context.Context, b *Bus) error {
			res, err := Eval(ctx, b, Manager(), AllClusters(), func(context.Context, any) (int, error) {
				panicInEval()
				return 0, nil
			})
			if err != nil || len(res) != 1 {
				t.Fatalf("Eval = %+v, %v; want one result", res, err)
			}
			return res[0].Err
		}, EvalTopic, "panic: eval boom", "bus.panicInEval", errorString("eval boom")},
		{"eval func", func(ctx context.Context, b *Bus) error {
			res, err := EvalFunc[int, int](ctx, b, Manager(), Cluster(0), panicFunc, 1)
			if err != nil || len(res) != 1 {
				t.Fatalf("EvalFunc = %+v, %v; want one result", res, err)
			}
			return res[0].Err
		}, EvalTopic + "/" + panicFunc, "panic: func boom", "bus.panicInFunc", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, m := panicBus(t)
			ctx := t.Context()
			err := tt.call(ctx, b)
			if !errors.Is(err, ErrHandlerPanic) {
				t.Fatalf("error = %v, want ErrHandlerPanic", err)
			}
			if tt.wantValue != nil && !errors.Is(err, tt.wantValue) {
				t.Errorf("error = %v, does not match the panic value %v", err, tt.wantValue)
			}
			var he *HandlerError
			if !errors.As(err, &he) {
				t.Fatalf("error = %T, want a *HandlerError", err)
			}
			if he.Target != Cluster(0) || he.Topic != tt.topic || he.Msg != tt.msg {
				t.Errorf("HandlerError = {%v %q %q}, want {cluster/0 %q %q}", he.Target, he.Topic, he.Msg, tt.topic, tt.msg)
			}
			if !strings.Contains(string(he.Stack), tt.fn) {
				t.Errorf("stack does not name %s:\n%s", tt.fn, he.Stack)
			}
			if got, err := Request[string](ctx, b, Manager(), Cluster(0), "echo", "after"); err != nil || got != "after" {
				t.Fatalf("request after the panic = %q, %v", got, err)
			}
			if s := m.Stats(); s.Panics != 1 || s.Handled != 2 {
				t.Errorf("Stats = %+v, want Panics 1, Handled 2", s)
			}
		})
	}
}

// TestSendPanicIsLogged proves that a fire-and-forget message whose handler
// panics is logged once at error level with the target, the topic and the
// stack (each attribute once), is counted, and that the mailbox goes on
// serving.
func TestSendPanicIsLogged(t *testing.T) {
	t.Parallel()
	var buf testutil.LogBuffer
	b, m := panicBus(t, WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	ctx := t.Context()
	if err := b.Send(ctx, Manager(), Cluster(0), "send-boom", nil); err != nil {
		t.Fatal(err)
	}
	// Handlers run in arrival order: once this reply is in, the Send was
	// handled (and logged).
	if got, err := Request[string](ctx, b, Manager(), Cluster(0), "echo", "after"); err != nil || got != "after" {
		t.Fatalf("request after the panic = %q, %v", got, err)
	}
	if s := m.Stats(); s.Panics != 1 || s.Handled != 2 {
		t.Errorf("Stats = %+v, want Panics 1, Handled 2", s)
	}
	errLines := buf.Lines(`"level":"ERROR"`)
	if len(errLines) != 1 {
		t.Fatalf("error lines = %q, want one", errLines)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(errLines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["cluster"] != 0.0 || rec["topic"] != "send-boom" || rec["panic"] != "panic: send boom" ||
		!strings.Contains(fmt.Sprint(rec["stack"]), "bus.panicInSendable") {
		t.Errorf("log line = %v, want cluster 0, the topic, the panic and its stack", rec)
	}
	for _, key := range []string{"cluster", "topic", "panic", "stack"} {
		if n := strings.Count(errLines[0], `"`+key+`":`); n != 1 {
			t.Errorf("attribute %q appears %d times in %s", key, n, errLines[0])
		}
	}
}

// TestHandlerErrorIsPanic proves that a *HandlerError matches
// ErrHandlerPanic by its Stack alone, as it would after a wire hop (Err
// nil), and that a handler's plain error does not.
func TestHandlerErrorIsPanic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"panic after a wire hop", &HandlerError{Target: Cluster(1), Topic: "x", Msg: "panic: boom", Stack: []byte("goroutine 7 [running]:")}, true},
		{"wrapped panic", fmt.Errorf("asking: %w", &HandlerError{Msg: "panic: boom", Stack: []byte("stack")}), true},
		{"plain error", &HandlerError{Target: Cluster(1), Topic: "x", Msg: "no", Err: errors.New("no")}, false},
		{"message only", &HandlerError{Msg: "panic: looks like one"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errors.Is(tt.err, ErrHandlerPanic); got != tt.want {
				t.Errorf("errors.Is(%v, ErrHandlerPanic) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
