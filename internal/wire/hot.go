package wire

import "github.com/disgoorg/disgo/gateway"

//go:generate go run ../hotgen -o hot_gen.go

// hotDecode decodes the data d of a dispatch of type t in one pass over its
// bytes, straight into disgo's structs, for the hot event types
// (hotEventTypes: messages, reactions, typing, presences, members,
// interactions, voice states). It returns false, and no event, for any
// other type and whenever it declines d: malformed data, data followed
// by anything but whitespace (an unchecked Envelope.D with members after
// "d"), and any valid data it does not decode exactly as encoding/json
// does through disgo's types (see hotDecoder). The caller then decodes d
// with the JSON engine, so the result, or the error, is always the
// engine's. A panic in one of disgo's methods it calls is a decline too.
//
// The decoders are generated from disgo's types by internal/hotgen
// (hot_gen.go); hot_repro.go reproduces the UnmarshalJSON methods of the
// hot path by hand. The result never aliases d. Safe for concurrent use.
func hotDecode(t gateway.EventType, d []byte) (ev gateway.EventData, ok bool) {
	defer func() {
		if recover() != nil {
			ev, ok = nil, false
		}
	}()
	dec := hotDecoder{p: d, i: skipWS(d, 0)}
	ev, ok = dec.event(t)
	if !ok || skipWS(d, dec.i) != len(d) {
		return nil, false
	}
	return ev, true
}
