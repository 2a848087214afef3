package wire

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// wsTable marks JSON whitespace.
var wsTable = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// structTable marks the bytes skipValue must look at inside a container.
var structTable = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

func skipWS(p []byte, i int) int {
	for i < len(p) && wsTable[p[i]] {
		i++
	}
	return i
}

// scanString returns the index just past the closing quote of the string
// that starts at p[i] (which must be '"').
func scanString(p []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(p[j:], '"')
		if k < 0 {
			return 0, frameErr(i, "unterminated string")
		}
		q := j + k
		bs := 0
		for m := q - 1; m > i && p[m] == '\\'; m-- {
			bs++
		}
		if bs%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the index just past the JSON value that starts at p[i].
// Containers are checked for balanced nesting only.
func skipValue(p []byte, i int) (int, error) {
	if i >= len(p) {
		return 0, frameErr(i, "missing value")
	}
	switch c := p[i]; {
	case c == '"':
		return scanString(p, i)
	case c == '{' || c == '[':
		return skipContainer(p, i)
	case c == 't':
		return literal(p, i, "true")
	case c == 'f':
		return literal(p, i, "false")
	case c == 'n':
		return literal(p, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(p) && numberByte(p[j]) {
			j++
		}
		return j, nil
	}
	return 0, frameErr(i, "invalid value")
}

func numberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func literal(p []byte, i int, lit string) (int, error) {
	if len(p)-i < len(lit) || string(p[i:i+len(lit)]) != lit {
		return 0, frameErr(i, "invalid literal")
	}
	return i + len(lit), nil
}

// skipContainer skips an object or array starting at p[i].
func skipContainer(p []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(p); j++ {
		c := p[j]
		if !structTable[c] {
			continue
		}
		switch c {
		case '"':
			end, err := scanString(p, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, frameErr(i, "unterminated object or array")
}

var errBadString = errors.New("invalid JSON string")

// unquote decodes the content of a JSON string (without its quotes) the way
// encoding/json does: escapes are decoded, invalid UTF-8 becomes U+FFFD and
// raw control characters are rejected.
func unquote(b []byte) (string, error) {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x20:
			return "", errBadString
		case c == '\\':
			if i+1 >= len(b) {
				return "", errBadString
			}
			switch b[i+1] {
			case '"', '\\', '/':
				sb.WriteByte(b[i+1])
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					return "", errBadString
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(b, i+2); ok && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							sb.WriteRune(dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				sb.WriteRune(r)
				continue
			default:
				return "", errBadString
			}
			i += 2
		case c < utf8.RuneSelf:
			j := i + 1
			for j < len(b) && plainTable[b[j]] {
				j++
			}
			sb.Write(b[i:j])
			i = j
		default:
			r, size := utf8.DecodeRune(b[i:])
			sb.WriteRune(r) // RuneError for invalid UTF-8, as encoding/json
			i += size
		}
	}
	return sb.String(), nil
}

// hex4 decodes the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
