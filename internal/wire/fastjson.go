package wire

import (
	goccy "github.com/goccy/go-json"
)

// FastJSONName names the engine [UseFastJSON] installs for decoding.
//
// It was picked by benchmark and by differential tests against
// encoding/json over disgo's types (engine_test.go, FuzzDecodeDispatch and
// the package benchmarks). On a 2-core machine, decoding a realistic
// MESSAGE_CREATE into disgo's types took about 10 µs against 40 µs with
// encoding/json (20 µs when built with GOEXPERIMENT=jsonv2), and a 29 KB
// GUILD_CREATE about 0.5 ms against 1.6 ms (0.8 ms with jsonv2). It
// allocates more bytes for large payloads (about 128 KB against 94 KB).
const FastJSONName = "github.com/goccy/go-json"

// fastEngine is the engine UseFastJSON installs. Only decoding is swapped:
// encoding is off the hot path, and encoding/json's output stays the
// reference for what is sent.
var fastEngine = engine{unmarshal: goccy.Unmarshal}
