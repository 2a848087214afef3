package bus

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// maxEnvelopeSize is the largest encoded envelope that decodeEnvelope
// accepts, in bytes.
const maxEnvelopeSize = 1 << 20

// maxFuncName bounds the length of a registered function's name in bytes.
const maxFuncName = 128

// envelope is the wire form of a named-function eval: the function's name and
// its JSON-encoded argument, encoded as {"func": name, "arg": <json>}. It is
// what crosses hosts when a networked transport is added; in-process,
// [EvalFunc] builds one too, so an argument that cannot be JSON-encoded fails
// at once rather than only after a move to several hosts.
//
// Decode untrusted input only with decodeEnvelope, which validates it.
type envelope struct {
	Func string          `json:"func"`
	Arg  json.RawMessage `json:"arg"`
}

// newEnvelope returns the envelope that calls the function registered as name
// with arg, which must be JSON-encodable.
func newEnvelope(name string, arg any) (envelope, error) {
	if reason := checkFuncName(name); reason != "" {
		return envelope{}, &EnvelopeError{Field: "func", Reason: reason}
	}
	raw, err := json.Marshal(arg)
	if err != nil {
		return envelope{}, &EnvelopeError{Field: "arg", Reason: "argument is not JSON-encodable", Err: err}
	}
	return envelope{Func: name, Arg: raw}, nil
}

// decodeEnvelope decodes and validates an encoded envelope. The input must
// be one JSON object of at most maxEnvelopeSize bytes with exactly the keys
// "func" (a valid function name: 1 to 128 bytes of letters, digits and
// "._:/-") and optionally "arg" (any JSON value; missing means null). Any
// other key, a wrong type, or trailing data is an [*EnvelopeError], which
// matches [ErrInvalidEnvelope]. It never panics.
func decodeEnvelope(data []byte) (envelope, error) {
	if len(data) > maxEnvelopeSize {
		return envelope{}, &EnvelopeError{Reason: "larger than " + strconv.Itoa(maxEnvelopeSize) + " bytes"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return envelope{}, &EnvelopeError{Reason: "not a JSON object", Err: err}
	}
	if fields == nil {
		return envelope{}, &EnvelopeError{Reason: "not a JSON object"}
	}
	for k := range fields {
		if k != "func" && k != "arg" {
			return envelope{}, &EnvelopeError{Field: k, Reason: "unknown field"}
		}
	}
	rawFunc, ok := fields["func"]
	if !ok {
		return envelope{}, &EnvelopeError{Field: "func", Reason: "missing"}
	}
	var env envelope
	if err := json.Unmarshal(rawFunc, &env.Func); err != nil || bytes.Equal(bytes.TrimSpace(rawFunc), []byte("null")) {
		return envelope{}, &EnvelopeError{Field: "func", Reason: "not a string", Err: err}
	}
	if reason := checkFuncName(env.Func); reason != "" {
		return envelope{}, &EnvelopeError{Field: "func", Reason: reason}
	}
	env.Arg = json.RawMessage("null")
	if raw, ok := fields["arg"]; ok {
		// Marshal of a RawMessage validates it and writes the canonical
		// form (compact, HTML-escaped) that encoding an envelope produces.
		canon, err := json.Marshal(raw)
		if err != nil {
			return envelope{}, &EnvelopeError{Field: "arg", Reason: "not valid JSON", Err: err}
		}
		env.Arg = canon
	}
	return env, nil
}

// validate reports whether e is well formed, with the rules of
// decodeEnvelope, returning an [*EnvelopeError] if not.
func (e envelope) validate() error {
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
