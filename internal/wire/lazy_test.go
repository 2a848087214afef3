package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// checkLazy fails t if ParseEnvelopeLazy, with ExactData and DecodeUnchecked
// after it, disagrees with ParseEnvelope and DecodeDispatch on payload,
// decoding with the engine installed now.
func checkLazy(t *testing.T, payload []byte) {
	t.Helper()
	full, ferr := ParseEnvelope(payload)
	lazy, lerr := ParseEnvelopeLazy(payload)
	if !lazy.Unchecked {
		// Not the fast path: the same parse as ParseEnvelope.
		if (lerr == nil) != (ferr == nil) || (lerr != nil && lerr.Error() != ferr.Error()) {
			t.Fatalf("lazy err %v, full err %v (payload %q)", lerr, ferr, payload)
		}
		if !sameEnvelope(lazy, full) {
			t.Fatalf("lazy %+v, full %+v (payload %q)", lazy, full, payload)
		}
		return
	}
	if lerr != nil {
		t.Fatalf("unchecked envelope with an error %v", lerr)
	}
	if lazy.Op != gateway.OpcodeDispatch || lazy.Type == gateway.EventTypeResumed {
		t.Fatalf("unchecked envelope for op %d type %q", lazy.Op, lazy.Type)
	}
	// The soundness the fast path rests on: data the decoder accepts as it
	// is must be the whole of d, never d with other members after it.
	_, derr := DecodeDispatch(lazy.Type, lazy.D)
	exact, xerr := ExactData(lazy.D)
	if derr == nil && (xerr != nil || len(exact) != len(lazy.D)) {
		t.Fatalf("decoder accepted %q, which is not one value (ExactData: %q, %v)", lazy.D, exact, xerr)
	}
	if xerr != nil {
		if !errors.Is(xerr, ErrMalformedFrame) {
			t.Fatalf("ExactData error %v is not ErrMalformedFrame", xerr)
		}
		var fe *FrameError
		if ferr == nil && (!errors.As(xerr, &fe) || fe.Reason != reasonRepeatedKey) {
			t.Fatalf("ParseEnvelope accepts %q but ExactData fails: %v", payload, xerr)
		}
		if _, err := DecodeUnchecked(lazy.Type, lazy.D); err == nil {
			t.Fatalf("DecodeUnchecked accepted a frame ExactData rejects: %q", payload)
		}
		return
	}
	if ferr != nil {
		t.Fatalf("ExactData accepts %q but ParseEnvelope fails: %v", payload, ferr)
	}
	lazy.D, lazy.Unchecked = exact, false
	if !sameEnvelope(lazy, full) {
		t.Fatalf("lazy %+v (d=%q), full %+v (d=%q)", lazy, lazy.D, full, full.D)
	}
}

func sameEnvelope(a, b Envelope) bool {
	return a.Op == b.Op && a.Seq == b.Seq && a.HasSeq == b.HasSeq && a.Type == b.Type &&
		a.Unchecked == b.Unchecked && bytes.Equal(a.D, b.D) && (a.D == nil) == (b.D == nil)
}

func TestParseEnvelopeLazy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		unchecked bool   // the fast path applies
		exact     string // ExactData of an unchecked d; "" for an error
	}{
		{"discord's order", `{"t":"MESSAGE_CREATE","s":7,"op":0,"d":{"a":"}"}}`, true, `{"a":"}"}`},
		{"whitespace", "{ \"t\" : \"X\" , \"s\" : 1 , \"op\" : 0 , \"d\" : [1, {}] \n} \r\n", true, `[1, {}]`},
		{"null d", `{"t":"X","s":null,"op":0,"d":null}`, true, `null`},
		{"member after d", `{"t":"X","s":1,"op":0,"d":{"a":1},"x":{"y":"}"}}`, true, `{"a":1}`},
		{"op after d", `{"t":"X","s":1,"op":0,"d":{},"op":0}`, true, ""},
		{"d after d", `{"t":"X","s":1,"op":0,"d":{"a":1},"d":{"a":2}}`, true, ""},
		{"escaped s after d", `{"t":"X","s":1,"op":0,"d":{},"\u0073":2}`, true, ""},
		{"broken d", `{"t":"X","s":1,"op":0,"d":{"a":"1}`, true, ""},
		{"extra brace", `{"t":"X","s":1,"op":0,"d":{}}}`, true, ""},
		{"missing comma", `{"t":"X","s":1,"op":0,"d":{} "x":1}`, true, ""},
		{"d before s", `{"t":"X","op":0,"d":{},"s":1}`, false, ""},
		{"no t", `{"s":1,"op":0,"d":{}}`, false, ""},
		{"null op", `{"t":"X","s":1,"op":null,"d":{},"op":0}`, false, ""},
		{"control frame", `{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":1}}`, false, ""},
		{"resumed", `{"t":"RESUMED","s":3,"op":0,"d":{}}`, false, ""},
		{"no closing brace", `{"t":"X","s":1,"op":0,"d":{}`, true, ""},
		{"trailing data", `{"t":"X","s":1,"op":0,"d":{}} x`, false, ""},
		{"empty d", `{"t":"X","s":1,"op":0,"d":}`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, _ := ParseEnvelopeLazy([]byte(tt.in))
			if env.Unchecked != tt.unchecked {
				t.Fatalf("Unchecked = %v, want %v", env.Unchecked, tt.unchecked)
			}
			if tt.unchecked {
				exact, err := ExactData(env.D)
				if got := string(exact); got != tt.exact || (err == nil) != (tt.exact != "") {
					t.Fatalf("ExactData = %q, %v; want %q", got, err, tt.exact)
				}
			}
			checkLazy(t, []byte(tt.in))
		})
	}
}

// TestDecodeUncheckedMatchesDecodeDispatch checks, under both engines,
// that the lazy path decodes every realistic frame, also with members
// after d, exactly like ParseEnvelope and DecodeDispatch, and that with
// members after d the unchecked slice alone is rejected (so the fallback
// is what decodes it).
func TestDecodeUncheckedMatchesDecodeDispatch(t *testing.T) {
	defer UseStdJSON()
	for _, engine := range engines {
		engine.use()
		for _, name := range []string{"message_create.json", "guild_create.json", "ready.json"} {
			frame := loadFrame(t, name)
			moved := append(bytes.TrimSuffix(bytes.TrimSpace(frame), []byte("}")), `,"_trace":["gw-1",{"t":"}"}]}`...)
			for i, in := range [][]byte{frame, moved} {
				full := mustEnvelope(t, in)
				want, err := DecodeDispatch(full.Type, full.D)
				if err != nil {
					t.Fatalf("%s/%s: %v", engine.name, name, err)
				}
				lazy, err := ParseEnvelopeLazy(in)
				if err != nil || !lazy.Unchecked {
					t.Fatalf("%s/%s: lazy parse %+v, %v; want an unchecked envelope", engine.name, name, lazy, err)
				}
				if _, err := DecodeDispatch(lazy.Type, lazy.D); (err == nil) != (i == 0) {
					t.Fatalf("%s/%s: decoding the unchecked slice alone: err = %v", engine.name, name, err)
				}
				got, err := DecodeUnchecked(lazy.Type, lazy.D)
				if err != nil {
					t.Fatalf("%s/%s: DecodeUnchecked: %v", engine.name, name, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s/%s: DecodeUnchecked differs from DecodeDispatch", engine.name, name)
				}
			}
		}
	}
}

// TestEnginesRejectMembersAfterData is the lazy path's soundness for
// every event type disgo knows, under both engines: whatever data
// DecodeDispatch accepts, it rejects once another member follows it.
func TestEnginesRejectMembersAfterData(t *testing.T) {
	defer UseStdJSON()
	values := []string{`{}`, `null`, `{"id":"1","guild_id":"2","channel_id":"3","user":{"id":"4"}}`}
	for _, c := range dispatchCases {
		values = append(values, c.d)
	}
	trailers := []string{`,"x":1`, ` , "_trace" : [ "}" ] `, `,"d":{}`, `}`, `,"s":null`}
	for _, engine := range engines {
		engine.use()
		checked := 0
		for _, typ := range allEventTypes {
			if typ == gateway.EventTypeResumed {
				continue // its data is not read; ParseEnvelopeLazy never leaves it unchecked
			}
			for _, v := range values {
				if _, err := DecodeDispatch(typ, []byte(v)); err != nil {
					continue
				}
				checked++
				for _, tr := range trailers {
					if _, err := DecodeDispatch(typ, []byte(v+tr)); err == nil {
						t.Errorf("%s: %s accepts %q", engine.name, typ, v+tr)
					}
				}
			}
		}
		if checked < len(allEventTypes) {
			t.Errorf("%s: only %d accepted values over %d types", engine.name, checked, len(allEventTypes))
		}
	}
}

func TestDecodeUncheckedErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in       string
		repeated bool // rejected by ExactData for a repeated envelope key
	}{
		{`{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"id":"1"},"s":2}`, true},
		{`{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"id":"1"},"T":"X"}`, true},
		{`{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"id":"1"}`, false},
		{`{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"id":1}}`, false},
	} {
		env, err := ParseEnvelopeLazy([]byte(tc.in))
		if err != nil || !env.Unchecked {
			t.Fatalf("%s: %+v, %v; want an unchecked envelope", tc.in, env, err)
		}
		_, err = DecodeUnchecked(env.Type, env.D)
		if !errors.Is(err, ErrMalformedFrame) {
			t.Fatalf("%s: err = %v, want ErrMalformedFrame", tc.in, err)
		}
		var fe *FrameError
		if isRepeat := errors.As(err, &fe) && fe.Reason == reasonRepeatedKey; isRepeat != tc.repeated {
			t.Errorf("%s: err = %v; repeated-key error: %v, want %v", tc.in, err, isRepeat, tc.repeated)
		}
	}
}

// TestParseEnvelopeLazyManyDataKeys guards against a parse quadratic in the
// frame's length. The lazy fast path looks for the frame's closing brace
// from the end, across trailing whitespace; it used to do so again at each
// "d" key, so a frame of repeated "d" keys with whitespace and no closing
// brace took hours to reject at MaxPayload (a zlib-stream message of 64 KiB
// inflates to that), stalling the shard's read loop. This 4 MiB frame took
// about 20 minutes; linear, it takes milliseconds. The 30-s guard turns the
// hang into a failure; the result must be ParseEnvelope's.
func TestParseEnvelopeLazyManyDataKeys(t *testing.T) {
	t.Parallel()
	const half = 2 << 20
	p := []byte(`{"t":"X","s":1,"op":0`)
	p = append(p, bytes.Repeat([]byte(`,"d":0`), half/6)...)
	p = append(p, bytes.Repeat([]byte(" "), half)...)
	done := make(chan error, 1)
	go func() {
		_, err := ParseEnvelopeLazy(p)
		done <- err
	}()
	select {
	case err := <-done:
		_, want := ParseEnvelope(p)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Fatalf("lazy err = %v, want ParseEnvelope's %v", err, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ParseEnvelopeLazy still running after 30 s: the parse is not linear")
	}
}

func TestParseEnvelopeLazyAllocatesNothing(t *testing.T) {
	frame := loadFrame(t, "message_create.json")
	allocs := testing.AllocsPerRun(100, func() {
		if env, err := ParseEnvelopeLazy(frame); err != nil || !env.Unchecked {
			t.Fatal(env, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseEnvelopeLazy allocates %v times per frame, want 0", allocs)
	}
}

func FuzzParseEnvelopeLazy(f *testing.F) {
	for _, frame := range seedFrames(f) {
		f.Add(frame)
	}
	for _, s := range []string{
		`{"t":"X","s":1,"op":0,"d":{"a":1},"x":2}`,
		`{"t":"MESSAGE_DELETE","s":1,"op":0,"d":{"id":"1","channel_id":"2"},"d":{}}`,
		`{"t":"X","s":1,"op":0,"d":1 }`,
	} {
		f.Add([]byte(s))
	}
	// The body swaps the process-wide engine: fuzz bodies run one at a
	// time. Each engine must reject d with members after it.
	f.Fuzz(func(t *testing.T, payload []byte) {
		defer UseStdJSON()
		UseStdJSON()
		checkLazy(t, payload)
		UseFastJSON()
		checkLazy(t, payload)
	})
}
