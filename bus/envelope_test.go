package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		want    envelope
		field   string // expected EnvelopeError.Field when failing
		wantErr bool
	}{
		{name: "ok", in: `{"func":"guild.count","arg":{"a":1}}`, want: envelope{Func: "guild.count", Arg: json.RawMessage(`{"a":1}`)}},
		{name: "compacts arg", in: ` { "arg" : [ 1 , 2 ] , "func" : "f" } `, want: envelope{Func: "f", Arg: json.RawMessage(`[1,2]`)}},
		{name: "escapes html", in: `{"func":"f","arg":"<&>"}`, want: envelope{Func: "f", Arg: json.RawMessage(`"\u003c\u0026\u003e"`)}},
		{name: "missing arg is null", in: `{"func":"a/b:c-d_e"}`, want: envelope{Func: "a/b:c-d_e", Arg: json.RawMessage(`null`)}},
		{name: "not json", in: `{"func":`, wantErr: true},
		{name: "array", in: `["f",1]`, wantErr: true},
		{name: "null", in: `null`, wantErr: true},
		{name: "trailing data", in: `{"func":"f"} {}`, wantErr: true},
		{name: "unknown field", in: `{"func":"f","x":1}`, field: "x", wantErr: true},
		{name: "wrong case key", in: `{"FUNC":"f"}`, field: "FUNC", wantErr: true},
		{name: "missing func", in: `{"arg":1}`, field: "func", wantErr: true},
		{name: "func null", in: `{"func":null}`, field: "func", wantErr: true},
		{name: "func number", in: `{"func":3}`, field: "func", wantErr: true},
		{name: "func empty", in: `{"func":""}`, field: "func", wantErr: true},
		{name: "func bad char", in: `{"func":"a b"}`, field: "func", wantErr: true},
		{name: "func too long", in: `{"func":"` + strings.Repeat("a", 129) + `"}`, field: "func", wantErr: true},
		{name: "too large", in: `{"func":"f","arg":"` + strings.Repeat("a", maxEnvelopeSize) + `"}`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeEnvelope([]byte(tc.in))
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("DecodeEnvelope: %v", err)
				}
				if got.Func != tc.want.Func || !bytes.Equal(got.Arg, tc.want.Arg) {
					t.Fatalf("DecodeEnvelope = {%q %s}, want {%q %s}", got.Func, got.Arg, tc.want.Func, tc.want.Arg)
				}
				return
			}
			var ee *EnvelopeError
			if !errors.As(err, &ee) || !errors.Is(err, ErrInvalidEnvelope) {
				t.Fatalf("DecodeEnvelope error = %v, want *EnvelopeError matching ErrInvalidEnvelope", err)
			}
			if ee.Field != tc.field {
				t.Fatalf("EnvelopeError.Field = %q, want %q (%v)", ee.Field, tc.field, err)
			}
		})
	}
}

func TestNewEnvelope(t *testing.T) {
	t.Parallel()
	env, err := newEnvelope("count", map[string]int{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `{"func":"count","arg":{"x":1}}` {
		t.Fatalf("Marshal = %s", js)
	}
	back, err := decodeEnvelope(js)
	if err != nil || back.Func != env.Func || !bytes.Equal(back.Arg, env.Arg) {
		t.Fatalf("DecodeEnvelope(%s) = %+v, %v", js, back, err)
	}
	if _, err := newEnvelope("count", make(chan int)); !errors.Is(err, ErrInvalidEnvelope) {
		t.Fatalf("NewEnvelope(chan) error = %v, want ErrInvalidEnvelope", err)
	}
	if _, err := newEnvelope("", 1); !errors.Is(err, ErrInvalidEnvelope) {
		t.Fatalf("NewEnvelope(\"\") error = %v, want ErrInvalidEnvelope", err)
	}
	if err := (envelope{Func: "f", Arg: json.RawMessage(`{`)}).validate(); !errors.Is(err, ErrInvalidEnvelope) {
		t.Fatalf("Validate(bad arg) = %v", err)
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"func":"f","arg":1}`, `{"func":"guild.count"}`, `{"func":"f","arg":{"a":[1,"x",null]}}`,
		`{"func":null}`, `{}`, `[]`, `{"func":"f","arg":1,"func":"g"}`, `{"func":"\u00e9"}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeEnvelope(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidEnvelope) {
				t.Fatalf("error %v does not match ErrInvalidEnvelope", err)
			}
			return
		}
		if err := env.validate(); err != nil {
			t.Fatalf("decoded envelope fails Validate: %v", err)
		}
		js, err := json.Marshal(env)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", env, err)
		}
		back, err := decodeEnvelope(js)
		if err != nil {
			t.Fatalf("DecodeEnvelope(Marshal(env)) = %v for %s", err, js)
		}
		if back.Func != env.Func || !bytes.Equal(back.Arg, env.Arg) {
			t.Fatalf("round trip changed %+v into %+v", env, back)
		}
	})
}
