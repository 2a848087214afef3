package wire

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/disgoorg/disgo/gateway"
)

// ErrMalformedFrame matches every error about a payload that is not a valid
// gateway frame (see [FrameError]).
var ErrMalformedFrame = errors.New("wire: malformed frame")

// FrameError describes a malformed gateway frame. It matches
// [ErrMalformedFrame] through errors.Is. It never quotes the payload.
type FrameError struct {
	// Reason says what was wrong, without quoting the payload.
	Reason string
	// Offset is the byte offset in the payload where the problem was found
	// ([ExactData]: in the data it was given).
	Offset int
}

// Error implements error.
func (e *FrameError) Error() string {
	return fmt.Sprintf("wire: malformed frame at byte %d: %s", e.Offset, e.Reason)
}

// Unwrap returns [ErrMalformedFrame].
func (e *FrameError) Unwrap() error { return ErrMalformedFrame }

func frameErr(off int, reason string) *FrameError {
	return &FrameError{Reason: reason, Offset: off}
}

// Envelope is a parsed gateway frame: {"op":…, "s":…, "t":…, "d":…}.
//
// D aliases the payload given to [ParseEnvelope], so it is valid only as long
// as that buffer is (an [Inflater] reuses its buffer on the next message).
// D is nil when the frame has no "d" key and holds the literal null when "d"
// is null.
type Envelope struct {
	Op     gateway.Opcode    // the "op" field
	Seq    int               // the "s" field; 0 when HasSeq is false
	HasSeq bool              // whether "s" was present and not null
	Type   gateway.EventType // the "t" field; empty when absent or null
	D      []byte            // the raw "d" value, aliasing the payload
	// Unchecked says D was not scanned: it runs from the start of d to the
	// frame's closing brace (see [ParseEnvelopeLazy]).
	Unchecked bool
}

// ParseEnvelope parses the top-level object of a gateway frame in one pass:
// it reads op, s and t and records where d starts and ends without decoding
// it. Keys may come in any order and, as with encoding/json, the last of a
// repeated key wins and key names match case-insensitively (ASCII). "s" and
// "t" may be null. The inside of d is checked only as far as needed to find
// its end (strings, escapes and nesting); [DecodeDispatch] and
// [DecodeControl] validate it.
//
// A frame without "op", a value of the wrong type, or anything that is not
// one JSON object returns a *[FrameError]. ParseEnvelope allocates nothing
// for known event types and never panics.
func ParseEnvelope(payload []byte) (Envelope, error) {
	return parseEnvelope(payload, false)
}

// ParseEnvelopeLazy is [ParseEnvelope] without the scan of d in the common
// case. Discord writes "d" last, after "t", "s" and "op". When a dispatch
// (op 0, any type but RESUMED, whose data nothing reads) has all three
// before "d", ParseEnvelopeLazy stops there: it takes d to run up to the
// frame's closing brace, does not scan it, and sets Unchecked. The JSON
// engine reads every byte of d anyway when it decodes it, and rejects
// anything after one value, so scanning d first only to find its end reads
// it twice.
//
// An unchecked D must be decoded with [DecodeUnchecked], or trimmed with
// [ExactData] before anything else reads it. This relies on the JSON engine
// installed behind disgo's Unmarshal rejecting anything after one value, as
// encoding/json, its jsonv2 build and go-json all do; one that stops after
// the first value (a json.Decoder's Decode, say) must not be installed. Both fall back to finding d's
// real end when d was not the last key, and both reject a frame that is
// malformed after the head or that repeats "op", "s", "t" or "d" after d
// (ParseEnvelope would let the last one win). So a malformed frame is
// reported later, when its data is decoded, instead of here; every other
// frame gives the same result as with ParseEnvelope.
func ParseEnvelopeLazy(payload []byte) (Envelope, error) {
	return parseEnvelope(payload, true)
}

func parseEnvelope(p []byte, lazy bool) (Envelope, error) {
	var env Envelope
	i := skipWS(p, 0)
	if i >= len(p) || p[i] != '{' {
		return Envelope{}, frameErr(i, "expected a JSON object")
	}
	i = skipWS(p, i+1)
	hasOp, seenSeq, seenType := false, false, false
	// lazyTried is set once the lazy fast path found that the frame does
	// not end with a brace. That holds for every later "d" key too, so
	// lastValueEnd, which scans the frame's trailing whitespace, runs at
	// most once: once per "d" key, a frame of repeated "d" keys and
	// trailing whitespace would take time quadratic in its length.
	lazyTried := false
	if i < len(p) && p[i] == '}' {
		i++
	} else {
		for {
			key, v, err := member(p, i)
			if err != nil {
				return Envelope{}, err
			}
			i = v
			var null bool // the value is null: the member is as if absent
			switch envelopeKey(key) {
			case keyOp:
				var op int
				if op, null, i, err = intValue(p, i, "op"); err == nil && !null {
					env.Op, hasOp = gateway.Opcode(op), true
				}
			case keySeq:
				seenSeq = true
				env.Seq, null, i, err = intValue(p, i, "s")
				env.HasSeq = !null
			case keyType:
				seenType = true
				env.Type, i, err = eventType(p, i)
			case keyData:
				if lazy && !lazyTried && hasOp && seenSeq && seenType && env.Op == gateway.OpcodeDispatch && env.Type != gateway.EventTypeResumed {
					if end := lastValueEnd(p, i); end > i {
						env.D, env.Unchecked = p[i:end:end], true
						return env, nil
					}
					lazyTried = true
				}
				var end int
				if end, err = skipValue(p, i); err == nil {
					env.D, i = p[i:end:end], end
				}
			default:
				i, err = skipValue(p, i)
			}
			if err != nil {
				return Envelope{}, err
			}
			i = skipWS(p, i)
			if i >= len(p) {
				return Envelope{}, frameErr(i, "unterminated object")
			}
			if p[i] == ',' {
				i = skipWS(p, i+1)
				continue
			}
			if p[i] == '}' {
				i++
				break
			}
			return Envelope{}, frameErr(i, "expected ',' or '}'")
		}
	}
	if i = skipWS(p, i); i != len(p) {
		return Envelope{}, frameErr(i, "data after the object")
	}
	if !hasOp {
		return Envelope{}, frameErr(0, `missing "op"`)
	}
	return env, nil
}

// member reads the key of the object member that starts at p[i] and the
// ':' after it. It returns the raw key (without quotes, escapes kept) and
// the index where the member's value starts.
func member(p []byte, i int) (key []byte, value int, err error) {
	if i >= len(p) || p[i] != '"' {
		return nil, 0, frameErr(i, "expected an object key")
	}
	ke, err := scanString(p, i)
	if err != nil {
		return nil, 0, err
	}
	key = p[i+1 : ke-1]
	i = skipWS(p, ke)
	if i >= len(p) || p[i] != ':' {
		return nil, 0, frameErr(i, "expected ':' after an object key")
	}
	i = skipWS(p, i+1)
	if i >= len(p) {
		return nil, 0, frameErr(i, "missing value")
	}
	return key, i, nil
}

// lastValueEnd returns the index just past the last non-whitespace byte
// before the frame's closing brace, or -1 if the frame does not end with a
// brace. It returns from when nothing lies between p[from] and the brace.
func lastValueEnd(p []byte, from int) int {
	z := len(p) - 1
	for z >= from && wsTable[p[z]] {
		z--
	}
	if z < from || p[z] != '}' {
		return -1
	}
	z--
	for z >= from && wsTable[p[z]] {
		z--
	}
	return z + 1
}

// reasonRepeatedKey is the FrameError reason for an envelope key that
// comes again after an unchecked d.
const reasonRepeatedKey = `envelope key repeated after "d"`

// ExactData returns the data value at the start of d, an unchecked
// Envelope.D (see [ParseEnvelopeLazy]), without what follows it. It returns
// d itself when d was the frame's last key, as Discord sends it. What
// follows the value must be further members of the frame's object, none of
// them "op", "s", "t" or "d" again; otherwise it returns a *[FrameError]
// whose Offset counts from the start of d, not of the frame.
func ExactData(d []byte) ([]byte, error) {
	end, err := skipValue(d, 0)
	if err != nil {
		return nil, err
	}
	for i := skipWS(d, end); i < len(d); i = skipWS(d, i) {
		if d[i] != ',' {
			return nil, frameErr(i, "expected ','")
		}
		k := skipWS(d, i+1)
		key, v, err := member(d, k)
		if err != nil {
			return nil, err
		}
		if envelopeKey(key) != keyOther {
			return nil, frameErr(k, reasonRepeatedKey)
		}
		if i, err = skipValue(d, v); err != nil {
			return nil, err
		}
	}
	return d[:end:end], nil
}

type keyKind uint8

const (
	keyOther keyKind = iota
	keyOp
	keySeq
	keyType
	keyData
)

// envelopeKey classifies a raw (still quoted-content) key, folding ASCII
// case like encoding/json. A key with escapes is decoded first.
func envelopeKey(k []byte) keyKind {
	if bytes.IndexByte(k, '\\') >= 0 {
		if len(k) > 16 {
			return keyOther // an escaped "op"/"s"/"t"/"d" is at most 12 bytes
		}
		s, err := unquote(k)
		if err != nil {
			return keyOther
		}
		k = []byte(s)
	}
	switch len(k) {
	case 1:
		switch k[0] | 0x20 {
		case 's':
			return keySeq
		case 't':
			return keyType
		case 'd':
			return keyData
		}
	case 2:
		if k[0]|0x20 == 'o' && k[1]|0x20 == 'p' {
			return keyOp
		}
	}
	return keyOther
}

func isNull(p []byte, i int) bool {
	return len(p)-i >= 4 && p[i] == 'n' && p[i+1] == 'u' && p[i+2] == 'l' && p[i+3] == 'l'
}

// intValue parses the value of the member field at p[i]: null, or a JSON
// number that must be an integer fitting an int, as encoding/json requires
// for an int field. It returns the number (0 for null) and where the value
// ends.
func intValue(p []byte, i int, field string) (n int, null bool, end int, err error) {
	if isNull(p, i) {
		return 0, true, i + 4, nil
	}
	start := i
	neg := false
	if i < len(p) && p[i] == '-' {
		neg = true
		i++
	}
	if i >= len(p) || p[i] < '0' || p[i] > '9' {
		return 0, false, 0, frameErr(start, fmt.Sprintf("%q is not a number", field))
	}
	if p[i] == '0' && i+1 < len(p) && p[i+1] >= '0' && p[i+1] <= '9' {
		return 0, false, 0, frameErr(start, fmt.Sprintf("%q has a leading zero", field))
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // math.MinInt64 fits
	}
	var v uint64
	for ; i < len(p) && p[i] >= '0' && p[i] <= '9'; i++ {
		d := uint64(p[i] - '0')
		if v > (limit-d)/10 {
			return 0, false, 0, frameErr(start, fmt.Sprintf("%q overflows int", field))
		}
		v = v*10 + d
	}
	if i < len(p) && (p[i] == '.' || p[i] == 'e' || p[i] == 'E') {
		return 0, false, 0, frameErr(start, fmt.Sprintf("%q is not an integer", field))
	}
	if neg {
		return int(-v), false, i, nil // two's complement: -(1<<63) wraps to MinInt64
	}
	return int(v), false, i, nil
}

// eventType reads the value of "t" at p[start]: null, which gives "", or a
// string, interning known types so that no allocation is made. It returns
// where the value ends.
func eventType(p []byte, start int) (t gateway.EventType, end int, err error) {
	if isNull(p, start) {
		return "", start + 4, nil
	}
	if p[start] != '"' {
		return "", 0, frameErr(start, `"t" is not a string`)
	}
	if end, err = scanString(p, start); err != nil {
		return "", 0, err
	}
	raw := p[start+1 : end-1]
	if t, ok := knownEventTypes[string(raw)]; ok {
		return t, end, nil
	}
	s, err := unquote(raw)
	if err != nil {
		return "", 0, frameErr(start, `"t" is not a valid string`)
	}
	return gateway.EventType(s), end, nil
}
