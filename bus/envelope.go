package bus

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// MaxEnvelopeSize is the largest encoded [Envelope] that [DecodeEnvelope]
// accepts, in bytes.
const MaxEnvelopeSize = 1 << 20

// maxFuncName bounds the length of a registered function's name in bytes.
const maxFuncName = 128

// Envelope is the wire form of a named-function eval: the function's name and
// its JSON-encoded argument, encoded as {"func": name, "arg": <json>}. It is
// what crosses hosts when a networked transport is added; in-process,
// [EvalFunc] builds one too, so an argument that cannot be JSON-encoded fails
// at once rather than only after a move to several hosts.
//
// Decode untrusted input only with [DecodeEnvelope], which validates it.
type Envelope struct {
	Func string          `json:"func"`
	Arg  json.RawMessage `json:"arg"`
}

// NewEnvelope returns the envelope that calls the function registered as name
// with arg, which must be JSON-encodable.
func NewEnvelope(name string, arg any) (Envelope, error) {
	if reason := checkFuncName(name); reason != "" {
		return Envelope{}, &EnvelopeError{Field: "func", Reason: reason}
	}
	raw, err := json.Marshal(arg)
	if err != nil {
		return Envelope{}, &EnvelopeError{Field: "arg", Reason: "argument is not JSON-encodable", Err: err}
	}
	return Envelope{Func: name, Arg: raw}, nil
}

// DecodeEnvelope decodes and validates an encoded [Envelope]. The input must
// be one JSON object of at most [MaxEnvelopeSize] bytes with exactly the keys
// "func" (a valid function name: 1 to 128 bytes of letters, digits and
// "._:/-") and optionally "arg" (any JSON value; missing means null). Any
// other key, a wrong type, or trailing data is an [*EnvelopeError], which
// matches [ErrInvalidEnvelope]. It never panics.
func DecodeEnvelope(data []byte) (Envelope, error) {
	if len(data) > MaxEnvelopeSize {
		return Envelope{}, &EnvelopeError{Reason: "larger than " + strconv.Itoa(MaxEnvelopeSize) + " bytes"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return Envelope{}, &EnvelopeError{Reason: "not a JSON object", Err: err}
	}
	if fields == nil {
		return Envelope{}, &EnvelopeError{Reason: "not a JSON object"}
	}
	for k := range fields {
		if k != "func" && k != "arg" {
			return Envelope{}, &EnvelopeError{Field: k, Reason: "unknown field"}
		}
	}
	rawFunc, ok := fields["func"]
	if !ok {
		return Envelope{}, &EnvelopeError{Field: "func", Reason: "missing"}
	}
	var env Envelope
	if err := json.Unmarshal(rawFunc, &env.Func); err != nil || bytes.Equal(bytes.TrimSpace(rawFunc), []byte("null")) {
		return Envelope{}, &EnvelopeError{Field: "func", Reason: "not a string", Err: err}
	}
	if reason := checkFuncName(env.Func); reason != "" {
		return Envelope{}, &EnvelopeError{Field: "func", Reason: reason}
	}
	env.Arg = json.RawMessage("null")
	if raw, ok := fields["arg"]; ok {
		// Marshal of a RawMessage validates it and writes the canonical
		// form (compact, HTML-escaped) that encoding an Envelope produces.
		canon, err := json.Marshal(raw)
		if err != nil {
			return Envelope{}, &EnvelopeError{Field: "arg", Reason: "not valid JSON", Err: err}
		}
		env.Arg = canon
	}
	return env, nil
}

// Validate reports whether e is well formed, with the rules of
// [DecodeEnvelope], returning an [*EnvelopeError] if not.
func (e Envelope) Validate() error {
	if reason := checkFuncName(e.Func); reason != "" {
		return &EnvelopeError{Field: "func", Reason: reason}
	}
	if len(e.Arg) > 0 && !json.Valid(e.Arg) {
		return &EnvelopeError{Field: "arg", Reason: "not valid JSON"}
	}
	return nil
}

func checkFuncName(name string) string {
	if name == "" {
		return "empty function name"
	}
	if len(name) > maxFuncName {
		return "function name longer than " + strconv.Itoa(maxFuncName) + " bytes"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '/', c == '-':
		default:
			return "function name has a character other than letters, digits and ._:/-"
		}
	}
	return ""
}
