package wire

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"testing"

	"github.com/disgoorg/disgo/gateway"
)

// refEnvelope decodes a frame with encoding/json, the reference ParseEnvelope
// must agree with. Op is kept raw to tell "missing" and "null" apart.
type refEnvelope struct {
	Op stdjson.RawMessage `json:"op"`
	S  *int               `json:"s"`
	T  *string            `json:"t"`
	D  stdjson.RawMessage `json:"d"`
}

// checkAgainstStd fails t if ParseEnvelope disagrees with encoding/json on a
// payload encoding/json accepts. It reports whether the reference applied.
func checkAgainstStd(t *testing.T, payload []byte) bool {
	t.Helper()
	var ref refEnvelope
	if err := stdjson.Unmarshal(payload, &ref); err != nil {
		return false
	}
	if len(ref.Op) == 0 || string(ref.Op) == "null" {
		return false // null op keeps an earlier value in an int: not comparable
	}
	var op int
	if err := stdjson.Unmarshal(ref.Op, &op); err != nil {
		return false // encoding/json would reject the frame
	}
	env, err := ParseEnvelope(payload)
	if err != nil {
		t.Fatalf("encoding/json accepts %q but ParseEnvelope fails: %v", payload, err)
	}
	if int(env.Op) != op {
		t.Fatalf("op = %d, encoding/json says %d (payload %q)", env.Op, op, payload)
	}
	if env.HasSeq != (ref.S != nil) || (ref.S != nil && env.Seq != *ref.S) {
		t.Fatalf("s = %d/%v, encoding/json says %v (payload %q)", env.Seq, env.HasSeq, ref.S, payload)
	}
	wantT := ""
	if ref.T != nil {
		wantT = *ref.T
	}
	if string(env.Type) != wantT {
		t.Fatalf("t = %q, encoding/json says %q (payload %q)", env.Type, wantT, payload)
	}
	if !bytes.Equal(env.D, ref.D) || (env.D == nil) != (ref.D == nil) {
		t.Fatalf("d = %q, encoding/json says %q (payload %q)", env.D, ref.D, payload)
	}
	return true
}

func TestParseEnvelopeRealisticFrames(t *testing.T) {
	t.Parallel()
	for _, name := range frameFiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			frame := loadFrame(t, name)
			env := mustEnvelope(t, frame)
			var msg gateway.Message
			if err := msg.UnmarshalJSON(frame); err != nil {
				t.Fatalf("disgo: %v", err)
			}
			if env.Op != msg.Op || env.Seq != msg.S || env.Type != msg.T || !bytes.Equal(env.D, msg.RawD) {
				t.Fatalf("ParseEnvelope = {%d %d %q %d bytes}, disgo = {%d %d %q %d bytes}",
					env.Op, env.Seq, env.Type, len(env.D), msg.Op, msg.S, msg.T, len(msg.RawD))
			}
			if !checkAgainstStd(t, frame) {
				t.Fatal("reference did not apply to a valid frame")
			}
		})
	}
}

func TestParseEnvelopeValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Envelope
	}{
		{"dispatch", `{"op":0,"s":7,"t":"MESSAGE_CREATE","d":{"a":1}}`,
			Envelope{Op: 0, Seq: 7, HasSeq: true, Type: gateway.EventTypeMessageCreate, D: []byte(`{"a":1}`)}},
		{"keys in any order", `{"d":[1,2],"t":"READY","s":1,"op":0}`,
			Envelope{Seq: 1, HasSeq: true, Type: gateway.EventTypeReady, D: []byte(`[1,2]`)}},
		{"nulls", `{"t":null,"s":null,"op":11,"d":null}`,
			Envelope{Op: 11, D: []byte(`null`)}},
		{"no d", `{"op":7}`, Envelope{Op: 7}},
		{"whitespace", " \n{ \"op\" : 10 ,\t\"d\" : { \"heartbeat_interval\" : 41250 } }\r\n",
			Envelope{Op: 10, D: []byte(`{ "heartbeat_interval" : 41250 }`)}},
		{"escaped quotes and braces in d", `{"op":0,"t":"X","d":{"c":"he said \"}\" and \\","e":"\\\""}}`,
			Envelope{Type: "X", D: []byte(`{"c":"he said \"}\" and \\","e":"\\\""}`)}},
		{"escaped key", `{"\u006fp":9,"\u0064":true}`, Envelope{Op: 9, D: []byte(`true`)}},
		{"upper-case keys", `{"OP":1,"S":3,"D":5}`, Envelope{Op: 1, Seq: 3, HasSeq: true, D: []byte(`5`)}},
		{"last key wins", `{"op":1,"op":2,"s":5,"s":null,"d":1,"d":2}`, Envelope{Op: 2, D: []byte(`2`)}},
		{"escaped event type", `{"op":0,"t":"MESSAGE\u005fCREATE"}`, Envelope{Type: gateway.EventTypeMessageCreate}},
		{"unknown event type", `{"op":0,"t":"NEW_THING"}`, Envelope{Type: "NEW_THING"}},
		{"other keys skipped", `{"x":{"y":[{"z":"}"}]},"op":1,"n":-1.5e3,"b":false,"u":null}`, Envelope{Op: 1}},
		{"negative seq", `{"op":1,"s":-3}`, Envelope{Op: 1, Seq: -3, HasSeq: true}},
		{"min int", `{"op":-9223372036854775808}`, Envelope{Op: -9223372036854775808}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEnvelope([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got.Op != tt.want.Op || got.Seq != tt.want.Seq || got.HasSeq != tt.want.HasSeq ||
				got.Type != tt.want.Type || !bytes.Equal(got.D, tt.want.D) || (got.D == nil) != (tt.want.D == nil) {
				t.Fatalf("got %+v (d=%q), want %+v (d=%q)", got, got.D, tt.want, tt.want.D)
			}
			checkAgainstStd(t, []byte(tt.in))
		})
	}
}

func TestParseEnvelopeMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ``},
		{"not an object", `[1]`},
		{"missing op", `{"s":1,"d":{}}`},
		{"null op only", `{"op":null}`},
		{"op string", `{"op":"1"}`},
		{"op fraction", `{"op":1.5}`},
		{"op exponent", `{"op":1e2}`},
		{"op leading zero", `{"op":01}`},
		{"op overflow", `{"op":9223372036854775808}`},
		{"s bool", `{"op":0,"s":true}`},
		{"t number", `{"op":0,"t":5}`},
		{"t bad escape", `{"op":0,"t":"A\x"}`},
		{"t control char", "{\"op\":0,\"t\":\"A\x01\"}"},
		{"unterminated d", `{"op":0,"d":{"a":[1,2}`},
		{"unterminated string", `{"op":0,"d":"abc`},
		{"bad literal", `{"op":0,"d":tru}`},
		{"missing colon", `{"op" 0}`},
		{"missing comma", `{"op":0 "d":1}`},
		{"trailing data", `{"op":0} {}`},
		{"trailing comma", `{"op":0,}`},
		{"bare key", `{op:0}`},
		{"truncated", `{"op":0,"d":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseEnvelope([]byte(tt.in))
			if !errors.Is(err, ErrMalformedFrame) {
				t.Fatalf("err = %v, want ErrMalformedFrame", err)
			}
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Reason == "" || fe.Offset < 0 || fe.Offset > len(tt.in) {
				t.Fatalf("err = %#v, want a *FrameError with a reason and an offset in range", err)
			}
		})
	}
}

func TestParseEnvelopeTruncations(t *testing.T) {
	t.Parallel()
	frame := loadFrame(t, "message_create.json")
	for n := range len(frame) - 1 {
		if _, err := ParseEnvelope(frame[:n]); !errors.Is(err, ErrMalformedFrame) {
			t.Fatalf("truncated at %d: err = %v, want ErrMalformedFrame", n, err)
		}
	}
}

func TestParseEnvelopeKnownTypesAllocateNothing(t *testing.T) {
	frame := loadFrame(t, "guild_create.json")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseEnvelope(frame); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseEnvelope allocates %v times per frame, want 0", allocs)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	for _, frame := range seedFrames(f) {
		f.Add(frame)
	}
	for _, s := range []string{`{"op":0,"t":"A\u005f","s":null,"d":"\"}"}`, `{"OP":1,"op":null}`, `{"\u0073":1,"op":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		env, err := ParseEnvelope(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformedFrame) {
				t.Fatalf("error %v does not match ErrMalformedFrame", err)
			}
		} else if env.D != nil && (len(env.D) == 0 || len(env.D) > len(payload)) {
			t.Fatalf("bad d span %q", env.D)
		}
		for _, c := range payload {
			if c >= 0x80 {
				return // encoding/json folds non-ASCII key case; we fold ASCII only
			}
		}
		checkAgainstStd(t, payload)
	})
}
