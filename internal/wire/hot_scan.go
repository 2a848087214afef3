package wire

import (
	"encoding/binary"
	stdjson "encoding/json"
	"math/bits"
	"strconv"
	"unicode/utf8"

	disgojson "github.com/disgoorg/json/v2"
)

// hotMaxDepth bounds the nesting of objects and arrays the hot decoder
// follows. encoding/json allows 10000; deeper data is left to the engine.
const hotMaxDepth = 512

// hotMaxKey is the longest key the fold checks look at; no member name of
// disgo's types is longer (internal/hotgen checks it), so a longer key
// matches none.
const hotMaxKey = 64

// plainTable marks the bytes a string can hold that need no decoding:
// printable ASCII but the quote and the backslash.
var plainTable = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainRun returns the index of the first byte at or after p[j] that
// plainTable does not mark, or len(p). It tests eight bytes at a time.
func plainRun(p []byte, j int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; j+8 <= len(p); j += 8 {
		w := binary.LittleEndian.Uint64(p[j:])
		q := w ^ (ones * '"')
		b := w ^ (ones * '\\')
		// The bytes below 0x20, the quotes and backslashes (zero bytes in
		// q and b) and the bytes at 0x80 and up get their high bit set,
		// by the classic tests: they may also mark bytes above a marked
		// one, never below, so the lowest mark is the first such byte.
		if m := ((w-ones*0x20)&^w | (q-ones)&^q | (b-ones)&^b | w) & highs; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	for j < len(p) && plainTable[p[j]] {
		j++
	}
	return j
}

// hotDecoder is one pass over one event's data, filling disgo's structs as
// encoding/json would. Every method returns false when it declines: on
// malformed input, and on valid input it does not decode exactly as
// encoding/json does. The caller then hands the data to the JSON engine,
// so a decline costs time, never a wrong result. The decoder never
// reports why. The zero value is not usable: p holds the data and i the
// position of the next value.
type hotDecoder struct {
	p     []byte
	i     int
	depth int
	bad   bool   // nextKey or nextElem met something other than a member or an element
	key   []byte // the raw key of the member nextKey read
	fold  [hotMaxKey]byte
	strs  []string // see newString
	// opened is set by openObject and openArray, whose brace or bracket
	// the nextKey or nextElem that follows consumes: only that one call
	// takes it, so that an opener where a comma belongs is malformed.
	opened bool
}

// newString returns a pointer to a new empty string, for a *string member.
// The pointers of one event share allocations of four strings (64 bytes):
// each is a distinct variable, but one kept alive keeps its three
// neighbours' headers alive too.
func (d *hotDecoder) newString() *string {
	if len(d.strs) == cap(d.strs) {
		d.strs = make([]string, 0, 4)
	}
	d.strs = d.strs[:len(d.strs)+1]
	return &d.strs[len(d.strs)-1]
}

// null consumes a null literal, if one is next.
func (d *hotDecoder) null() bool {
	p, i := d.p, d.i
	if len(p)-i >= 4 && p[i] == 'n' && p[i+1] == 'u' && p[i+2] == 'l' && p[i+3] == 'l' {
		d.i = i + 4
		return true
	}
	return false
}

// openObject checks that an object is next; nextKey consumes its brace.
func (d *hotDecoder) openObject() bool {
	if d.i >= len(d.p) || d.p[d.i] != '{' || d.depth >= hotMaxDepth {
		return false
	}
	d.depth++
	d.opened = true
	return true
}

// openArray checks that an array is next; nextElem consumes its bracket.
func (d *hotDecoder) openArray() bool {
	if d.i >= len(d.p) || d.p[d.i] != '[' || d.depth >= hotMaxDepth {
		return false
	}
	d.depth++
	d.opened = true
	return true
}

// nextKey moves to the next member of the object being read and reads its
// key into d.key, leaving d.i at the member's value. It returns false at
// the object's end, and false with d.bad set on malformed input or on a
// key that is not plain ASCII: encoding/json would decode its escapes,
// and it may match a member name under Unicode case folding (K, the
// Kelvin sign, folds to k). Compact JSON, as Discord sends it, takes no
// whitespace skipping.
func (d *hotDecoder) nextKey() bool {
	p, i := d.p, d.i
	if d.opened { // p[i] is the brace openObject checked
		d.opened = false
		i++
		if i < len(p) && wsTable[p[i]] {
			i = skipWS(p, i)
		}
		if i < len(p) && p[i] == '}' {
			d.i, d.depth = i+1, d.depth-1
			return false
		}
	} else {
		if i < len(p) && wsTable[p[i]] {
			i = skipWS(p, i)
		}
		if i >= len(p) {
			d.bad = true
			return false
		}
		switch p[i] {
		case ',':
			i++
		case '}':
			d.i, d.depth = i+1, d.depth-1
			return false
		default:
			d.bad = true
			return false
		}
	}
	if i < len(p) && wsTable[p[i]] {
		i = skipWS(p, i)
	}
	if i >= len(p) || p[i] != '"' {
		d.bad = true
		return false
	}
	j := plainRun(p, i+1)
	if j >= len(p) || p[j] != '"' {
		d.bad = true
		return false
	}
	d.key = p[i+1 : j]
	j++
	if j < len(p) && p[j] == ':' {
		j++
	} else if j = skipWS(p, j); j < len(p) && p[j] == ':' {
		j++
	} else {
		d.bad = true
		return false
	}
	if j < len(p) && wsTable[p[j]] {
		j = skipWS(p, j)
	}
	d.i = j
	return true
}

// nextElem moves to the next element of the array being read. It returns
// false at the array's end, and false with d.bad set on malformed input.
func (d *hotDecoder) nextElem() bool {
	p := d.p
	if d.opened { // p[d.i] is the bracket openArray checked
		d.opened = false
		i := skipWS(p, d.i+1)
		if i < len(p) && p[i] == ']' {
			d.i, d.depth = i+1, d.depth-1
			return false
		}
		d.i = i
		return true
	}
	i := skipWS(p, d.i)
	if i >= len(p) {
		d.bad = true
		return false
	}
	switch p[i] {
	case ',':
		i = skipWS(p, i+1)
	case ']':
		d.i, d.depth = i+1, d.depth-1
		return false
	default:
		d.bad = true
		return false
	}
	d.i = i
	return true
}

// once sets bit in *seen and reports whether it was clear: a member seen
// twice is declined (encoding/json would decode the second into the
// first's value, merging objects).
func (d *hotDecoder) once(seen *uint64, bit uint64) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// foldedKey returns d.key in ASCII lower case, or nil when it is longer
// than any member name. nextKey lets only ASCII keys through, for which
// this is encoding/json's case folding.
func (d *hotDecoder) foldedKey() []byte {
	k := d.key
	if len(k) > len(d.fold) {
		return nil
	}
	for i, c := range k {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		d.fold[i] = c
	}
	return d.fold[:len(k)]
}

// str reads a string. set is false for null, which leaves a string as it
// is in encoding/json.
func (d *hotDecoder) str() (s string, set, ok bool) {
	p, i := d.p, d.i
	if i >= len(p) {
		return "", false, false
	}
	if p[i] != '"' {
		return "", false, d.null()
	}
	j := plainRun(p, i+1)
	if j < len(p) && p[j] == '"' {
		d.i = j + 1
		return string(p[i+1 : j]), true, true
	}
	if j < len(p) && p[j] >= utf8.RuneSelf {
		// UTF-8 without escapes: valid, it is taken as it is.
		for j < len(p) && (plainTable[p[j]] || p[j] >= utf8.RuneSelf) {
			j++
		}
		if j < len(p) && p[j] == '"' && utf8.Valid(p[i+1:j]) {
			d.i = j + 1
			return string(p[i+1 : j]), true, true
		}
	}
	// Escapes, invalid UTF-8 or control bytes: unquote decodes them as
	// encoding/json does, and rejects what it rejects.
	end, err := scanString(p, i)
	if err != nil {
		return "", false, false
	}
	s, err = unquote(p[i+1 : end-1])
	if err != nil {
		return "", false, false
	}
	d.i = end
	return s, true, true
}

// boolean reads true or false; set is false for null.
func (d *hotDecoder) boolean() (b, set, ok bool) {
	p, i := d.p, d.i
	switch {
	case len(p)-i >= 4 && string(p[i:i+4]) == "true":
		d.i = i + 4
		return true, true, true
	case len(p)-i >= 5 && string(p[i:i+5]) == "false":
		d.i = i + 5
		return false, true, true
	}
	return false, false, d.null()
}

// numberEnd returns the index just past the JSON number that starts at
// p[i], or -1 if none does, and whether it is an integer (no fraction, no
// exponent). It follows the JSON grammar exactly.
func numberEnd(p []byte, i int) (int, bool) {
	if i < len(p) && p[i] == '-' {
		i++
	}
	if i >= len(p) || p[i] < '0' || p[i] > '9' {
		return -1, false
	}
	if p[i] == '0' {
		i++
	} else {
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	}
	integer := true
	if i < len(p) && p[i] == '.' {
		integer = false
		i++
		if i >= len(p) || p[i] < '0' || p[i] > '9' {
			return -1, false
		}
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		integer = false
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if i >= len(p) || p[i] < '0' || p[i] > '9' {
			return -1, false
		}
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	}
	return i, integer
}

// digits returns the value of the decimal digits p[i:j] and false if it
// overflows a uint64 (JSON forbids leading zeros, so more than 20 digits
// always do; a caller that allows them handles them).
func digits(p []byte, i, j int) (uint64, bool) {
	if j-i > 20 {
		return 0, false
	}
	last := j
	if j-i == 20 {
		last-- // only the 20th digit can overflow
	}
	var n uint64
	for _, c := range p[i:last] {
		n = n*10 + uint64(c-'0')
	}
	if last < j {
		hi, lo := bits.Mul64(n, 10)
		sum, carry := bits.Add64(lo, uint64(p[last]-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false
		}
		n = sum
	}
	return n, true
}

// leadingDigits reads the decimal digits at p[i:], eight at a time, and
// returns their value and the index past them; ok is false when there
// are more than 20 or they overflow a uint64.
func leadingDigits(p []byte, i int) (n uint64, end int, ok bool) {
	j := i
	for j+8 <= len(p) && j-i < 16 {
		v, all := eightDigits(binary.LittleEndian.Uint64(p[j:]))
		if !all {
			break
		}
		n = n*100000000 + v
		j += 8
	}
	for j < len(p) && p[j] >= '0' && p[j] <= '9' && j-i < 19 {
		n = n*10 + uint64(p[j]-'0')
		j++
	}
	if j < len(p) && p[j] >= '0' && p[j] <= '9' {
		// The 20th digit: the only one that can overflow.
		hi, lo := bits.Mul64(n, 10)
		sum, carry := bits.Add64(lo, uint64(p[j]-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, 0, false
		}
		n, j = sum, j+1
		if j < len(p) && p[j] >= '0' && p[j] <= '9' {
			return 0, 0, false
		}
	}
	return n, j, true
}

// eightDigits returns the value of the eight ASCII digits in w, the first
// in its low byte, and false if they are not all digits (the SWAR
// method: each byte minus '0' and plus 6 must stay within 0x30..0x3f).
func eightDigits(w uint64) (uint64, bool) {
	const nibbles = 0xF0F0F0F0F0F0F0F0
	if (w&nibbles)|((w+0x0606060606060606)&nibbles)>>4 != 0x3333333333333333 {
		return 0, false
	}
	w -= 0x3030303030303030
	w = w*10 + w>>8 // each even byte: two digits
	w = ((w&0x000000FF000000FF)*(100+1000000<<32) + (w>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return w, true
}

// integer reads a number into a signed integer of the given size; set is
// false for null. A fraction, an exponent or a value out of range is
// declined: encoding/json rejects them (strconv.ParseInt, OverflowInt).
func (d *hotDecoder) integer(bits int) (n int64, set, ok bool) {
	p, i := d.p, d.i
	end, isInt := numberEnd(p, i)
	if end < 0 {
		return 0, false, d.null()
	}
	if !isInt {
		return 0, false, false
	}
	neg := p[i] == '-'
	start := i
	if neg {
		start++
	}
	u, fits := digits(p, start, end)
	limit := uint64(1) << (bits - 1)
	switch {
	case !fits:
		return 0, false, false
	case neg && u <= limit:
		n = int64(-u) // two's complement: -limit is the minimum
	case !neg && u < limit:
		n = int64(u)
	default:
		return 0, false, false
	}
	d.i = end
	return n, true, true
}

// float reads a number into a float of the given size, with
// strconv.ParseFloat as encoding/json does; set is false for null.
func (d *hotDecoder) float(bits int) (f float64, set, ok bool) {
	p, i := d.p, d.i
	end, _ := numberEnd(p, i)
	if end < 0 {
		return 0, false, d.null()
	}
	f, err := strconv.ParseFloat(string(p[i:end]), bits)
	if err != nil {
		return 0, false, false
	}
	d.i = end
	return f, true, true
}

// number reads an encoding/json.Number: a number as written, or a string
// holding one; null leaves it as it is.
func (d *hotDecoder) number(v *stdjson.Number) bool {
	p, i := d.p, d.i
	if i < len(p) && p[i] == '"' {
		s, _, ok := d.str()
		if end, _ := numberEnd([]byte(s), 0); !ok || end != len(s) {
			return false
		}
		*v = stdjson.Number(s)
		return true
	}
	end, _ := numberEnd(p, i)
	if end < 0 {
		return d.null()
	}
	*v = stdjson.Number(p[i:end])
	d.i = end
	return true
}

// raw skips the next value, checking it, and returns its bytes.
func (d *hotDecoder) raw() ([]byte, bool) {
	start := d.i
	if !d.skip() {
		return nil, false
	}
	return d.p[start:d.i], true
}

// engine decodes the next value into v with the JSON engine installed,
// as a type the hot decoder does not handle member by member. v is a
// fresh value, so this is what the engine decoding the whole event would
// put there.
func (d *hotDecoder) engine(v any) bool {
	raw, ok := d.raw()
	return ok && disgojson.Unmarshal(raw, v) == nil
}

// skip moves past the next value, checking it as strictly as
// encoding/json's scanner does.
func (d *hotDecoder) skip() bool {
	end := skipStrict(d.p, d.i, d.depth)
	if end < 0 {
		return false
	}
	d.i = end
	return true
}

// skipStrict returns the index just past the valid JSON value at p[i], or
// -1. depth is the nesting around it.
func skipStrict(p []byte, i, depth int) int {
	if i >= len(p) {
		return -1
	}
	switch c := p[i]; c {
	case '"':
		return stringEnd(p, i)
	case '{', '[':
		if depth >= hotMaxDepth {
			return -1
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipWS(p, i+1)
		if i < len(p) && p[i] == closing {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(p) || p[i] != '"' {
					return -1
				}
				if i = stringEnd(p, i); i < 0 {
					return -1
				}
				if i = skipWS(p, i); i >= len(p) || p[i] != ':' {
					return -1
				}
				i = skipWS(p, i+1)
			}
			if i = skipStrict(p, i, depth+1); i < 0 {
				return -1
			}
			if i = skipWS(p, i); i >= len(p) {
				return -1
			}
			switch p[i] {
			case ',':
				i = skipWS(p, i+1)
			case closing:
				return i + 1
			default:
				return -1
			}
		}
	case 't':
		return literalEnd(p, i, "true")
	case 'f':
		return literalEnd(p, i, "false")
	case 'n':
		return literalEnd(p, i, "null")
	}
	end, _ := numberEnd(p, i)
	return end
}

func literalEnd(p []byte, i int, lit string) int {
	if len(p)-i < len(lit) || string(p[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// stringEnd returns the index just past the valid JSON string at p[i], or
// -1: no control bytes, and only JSON's escapes. Invalid UTF-8 is valid
// here, as in encoding/json (it decodes to U+FFFD).
func stringEnd(p []byte, i int) int {
	for j := plainRun(p, i+1); j < len(p); j = plainRun(p, j) {
		switch c := p[j]; {
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if j+1 >= len(p) {
				return -1
			}
			switch p[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if _, ok := hex4(p, j+2); !ok {
					return -1
				}
				j += 6
			default:
				return -1
			}
		default: // UTF-8
			j++
		}
	}
	return -1
}
