package bus

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestMux(t *testing.T) {
	t.Parallel()
	var mux Mux // the zero Mux is usable
	if _, err := mux.HandleMessage(context.Background(), &Message{Topic: "x"}); !errors.Is(err, ErrUnknownTopic) {
		t.Fatalf("zero Mux = %v, want ErrUnknownTopic", err)
	}
	Handle(&mux, "b", func(_ context.Context, n int) (int, error) { return n + 1, nil })
	Handle(&mux, "a", func(_ context.Context, p *int) (bool, error) { return p == nil, nil })
	if got := mux.topics(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Topics = %v", got)
	}
	v, err := mux.HandleMessage(context.Background(), &Message{Topic: "b", Payload: 41})
	if err != nil || v != 42 {
		t.Fatalf("b = %v, %v", v, err)
	}
	v, err = mux.HandleMessage(context.Background(), &Message{Topic: "a"})
	if err != nil || v != true {
		t.Fatalf("a with nil payload = %v, %v", v, err)
	}
	_, err = mux.HandleMessage(context.Background(), &Message{To: Cluster(3), Topic: "b", Payload: "x"})
	var te *TypeError
	if !errors.As(err, &te) || te.Target != Cluster(3) || !strings.Contains(te.Error(), "got string, want int") {
		t.Fatalf("wrong payload = %v", err)
	}

	for name, reg := range map[string]func(){
		"duplicate": func() { Handle(&mux, "a", func(context.Context, int) (int, error) { return 0, nil }) },
		"empty":     func() { Handle(&mux, "", func(context.Context, int) (int, error) { return 0, nil }) },
		"nil fn":    func() { Handle[int, int](&mux, "c", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle %s did not panic", name)
				}
			}()
			reg()
		}()
	}
}

func TestErrorStrings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want []string
	}{
		{&HandlerError{Target: Cluster(0), Topic: "stats", Msg: "no shards"}, []string{"cluster/0", `"stats"`, "no shards"}},
		{&TypeError{Target: Service("x"), Topic: "t", Want: "int", Got: "string"}, []string{"service/x", "got string, want int"}},
		{&AddressError{Text: "cluster/-1", Reason: "negative cluster id"}, []string{`"cluster/-1"`, "negative"}},
		{&EnvelopeError{Field: "arg", Reason: "bad", Err: errors.New("eof")}, []string{`"arg"`, "bad", "eof"}},
	}
	for _, tc := range cases {
		s := tc.err.Error()
		for _, w := range tc.want {
			if !strings.Contains(s, w) {
				t.Errorf("%q does not contain %q", s, w)
			}
		}
		if !strings.HasPrefix(s, "bus: ") {
			t.Errorf("%q lacks the package prefix", s)
		}
	}
	if (&HandlerError{}).Unwrap() != nil {
		t.Error("HandlerError after a wire hop unwraps to non-nil")
	}
}

func TestAddressKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a               Address
		concrete, group bool
	}{
		{Address{}, false, false},
		{Manager(), true, false},
		{Cluster(0), true, false},
		{Service("s"), true, false},
		{AllClusters(), false, true},
		{AllServices(), false, true},
		{GuildOwner(1), false, false},
	}
	for _, tc := range cases {
		if tc.a.isConcrete() != tc.concrete || tc.a.isGroup() != tc.group {
			t.Errorf("%v: IsConcrete %v IsGroup %v", tc.a, tc.a.isConcrete(), tc.a.isGroup())
		}
	}
	b := New()
	m, err := b.Attach(Service("s"), nil)
	if err != nil || m.Address() != Service("s") {
		t.Fatalf("Attach = %v, %v", m, err)
	}
	if kind(99).String() != "kind(99)" || (Address{kind: 99}).String() != "kind(99)" {
		t.Error("unknown kind String")
	}
}

// TestHandleDecodesJSON proves that a Handle function gets its request from
// the payload's JSON form (as from another host), that undecodable JSON and
// unencodable payloads match ErrInvalidPayload, and that a function taking
// json.RawMessage gets any payload in its JSON form.
func TestHandleDecodesJSON(t *testing.T) {
	t.Parallel()
	type point struct{ X, Y int }
	var mux Mux
	Handle(&mux, "sum", func(_ context.Context, p point) (int, error) { return p.X + p.Y, nil })
	Handle(&mux, "raw", func(_ context.Context, raw json.RawMessage) (string, error) { return string(raw), nil })
	ctx := t.Context()
	tests := []struct {
		name    string
		topic   string
		payload any
		want    any
		wantErr error // matched with errors.Is
	}{
		{"typed", "sum", point{1, 2}, 3, nil},
		{"json.RawMessage", "sum", json.RawMessage(`{"X":3,"Y":4}`), 7, nil},
		{"[]byte", "sum", []byte(`{"X":5,"Y":6}`), 11, nil},
		{"nil", "sum", nil, 0, nil},
		{"bad JSON", "sum", json.RawMessage(`{"X":"three"}`), nil, ErrInvalidPayload},
		{"raw as is", "raw", json.RawMessage(`{"a" : 1}`), `{"a" : 1}`, nil},
		{"raw from a typed value", "raw", point{1, 2}, `{"X":1,"Y":2}`, nil},
		{"raw of nil", "raw", nil, "", nil},
		{"raw unencodable", "raw", make(chan int), nil, ErrInvalidPayload},
	}
	for _, tt := range tests {
		v, err := mux.HandleMessage(ctx, &Message{To: Service("s"), Topic: tt.topic, Payload: tt.payload})
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), `service/s topic "`+tt.topic+`"`) {
				t.Errorf("%s: err = %v, want %v naming the target and topic", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || v != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.name, v, err, tt.want)
		}
	}
	_, err := mux.HandleMessage(ctx, &Message{To: Service("s"), Topic: "sum", Payload: map[string]int{"X": 1}})
	var te *TypeError
	if !errors.As(err, &te) || te.Want != "bus.point" || te.Got != "map[string]int" {
		t.Errorf("a payload of another type = %v, want a *TypeError", err)
	}
}
