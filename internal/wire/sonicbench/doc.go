// Package sonicbench measures github.com/bytedance/sonic beside the JSON
// engines Megane uses, decoding the hot gateway events into disgo's types.
//
// It is a module of its own so that sonic, a large dependency, never enters
// the main module's go.mod: Megane does not use it, it is only measured.
// Its go.mod points the main module at this checkout with a replace
// directive. Run it from this directory:
//
//	cd internal/wire/sonicbench && go test -run '^$' -bench . -count 5
//
// Each event type is decoded four ways in one run: disgo's
// gateway.UnmarshalEventData with encoding/json ("std"), with go-json
// ("fast", Megane's default engine) and with sonic's default API
// ("sonic") installed behind github.com/disgoorg/json/v2, and with
// wire.DecodeDispatch, which tries Megane's hot decoder first ("hot",
// over go-json).
package sonicbench
