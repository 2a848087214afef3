package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/disgoorg/disgo/gateway"
)

// seedLimit bounds the size of the frames the fuzz targets are seeded with.
//
// The fuzzer minimises every input that finds new coverage before it goes
// on, and for an input of n bytes that all matter (compressed data, or JSON
// that disgo's types decode) that takes about n²/2 runs of the target. From
// the realistic frames (up to 29 KB) one minimisation outlasted the whole
// run: each worker took one at the start and reported nothing more. Small
// seeds keep it to a second or so; the realistic frames themselves are
// covered by the unit tests.
const seedLimit = 256

// seedFrames returns the fuzz seed frames: each realistic frame that fits
// seedLimit, and each larger one cut into frames with the same envelope
// whose data holds a few of its members (see splitValue). Together they
// still name every field the realistic frames have.
func seedFrames(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, frame := range loadFrames(tb) {
		frame = bytes.TrimSpace(frame)
		if len(frame) <= seedLimit {
			out = append(out, frame)
			continue
		}
		env := mustEnvelope(tb, frame)
		head := fmt.Sprintf(`{"t":%q,"s":%d,"op":%d,"d":`, env.Type, env.Seq, env.Op)
		for _, d := range splitValue(tb, env.D, seedLimit-len(head)-1) {
			out = append(out, fmt.Appendf(nil, "%s%s}", head, d))
		}
	}
	return out
}

// seedData returns the data of each dispatch in seedFrames, with its type.
func seedData(tb testing.TB) []Envelope {
	tb.Helper()
	var out []Envelope
	for _, frame := range seedFrames(tb) {
		if env := mustEnvelope(tb, frame); env.Op == gateway.OpcodeDispatch {
			out = append(out, env)
		}
	}
	return out
}

// splitValue returns variants of the JSON value v of at most budget bytes
// each where it can: an array keeps only its first element; an object's
// members are packed in order into as few objects as fit, and a member too
// large on its own is split the same way, one variant per part; a string
// is cut short. A number or a literal is kept whole.
func splitValue(tb testing.TB, v []byte, budget int) [][]byte {
	tb.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, v); err != nil {
		tb.Fatal(err)
	}
	v = compact.Bytes()
	if len(v) <= budget {
		return [][]byte{v}
	}
	switch v[0] {
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			tb.Fatal(err)
		}
		var out [][]byte
		for _, e := range splitValue(tb, elems[0], budget-2) {
			out = append(out, fmt.Appendf(nil, "[%s]", e))
		}
		return out
	case '{':
		var out [][]byte
		cur := []byte("{")
		flush := func() {
			if len(cur) > 1 {
				out = append(out, append(cur, '}'))
			}
			cur = []byte("{")
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		if _, err := dec.Token(); err != nil {
			tb.Fatal(err)
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				tb.Fatal(err)
			}
			key, _ := json.Marshal(tok.(string))
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				tb.Fatal(err)
			}
			for _, part := range splitValue(tb, val, budget-len(key)-3) {
				member := fmt.Appendf(nil, "%s:%s", key, part)
				if len(cur)+len(member)+2 > budget {
					flush()
				}
				if len(cur) > 1 {
					cur = append(cur, ',')
				}
				cur = append(cur, member...)
			}
		}
		flush()
		return out
	case '"':
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			tb.Fatal(err)
		}
		r := []rune(str)
		for len(r) > 0 {
			r = r[:len(r)-1]
			if cut, _ := json.Marshal(string(r)); len(cut) <= budget {
				return [][]byte{cut}
			}
		}
	}
	return [][]byte{v}
}

// TestSeedFrames checks that the fuzz seeds are small valid frames and
// still name every top-level data member of the realistic frames.
func TestSeedFrames(t *testing.T) {
	t.Parallel()
	seeds := seedFrames(t)
	named := map[string]bool{}
	for _, s := range seeds {
		env := mustEnvelope(t, s)
		if len(s) > seedLimit {
			t.Errorf("seed of %d bytes, over seedLimit: %.80s…", len(s), s)
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(env.D, &members) == nil {
			for k := range members {
				named[string(env.Type)+"."+k] = true
			}
		}
	}
	for _, frame := range loadFrames(t) {
		env := mustEnvelope(t, frame)
		var members map[string]json.RawMessage
		if json.Unmarshal(env.D, &members) != nil {
			continue
		}
		for k := range members {
			if !named[string(env.Type)+"."+k] {
				t.Errorf("no seed has %s.%s", env.Type, k)
			}
		}
	}
}
