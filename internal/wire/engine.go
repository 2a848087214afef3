package wire

import (
	stdjson "encoding/json"
	"sync"

	disgojson "github.com/disgoorg/json/v2"
)

// engine is one set of the swappable functions of disgo's JSON package; a
// nil field leaves that variable as it is. NewEncoder and NewDecoder are
// typed to encoding/json and stay as they are.
type engine struct {
	marshal       func(v any) ([]byte, error)
	unmarshal     func(data []byte, v any) error
	marshalIndent func(v any, prefix, indent string) ([]byte, error)
}

var stdEngine = engine{
	marshal:       stdjson.Marshal,
	unmarshal:     stdjson.Unmarshal,
	marshalIndent: stdjson.MarshalIndent,
}

// engineMu serialises UseFastJSON, UseStdJSON and restores among themselves.
// It cannot protect readers of disgo's variables: see UseFastJSON.
var engineMu sync.Mutex

func installEngine(e engine) engine {
	engineMu.Lock()
	defer engineMu.Unlock()
	prev := engine{
		marshal:       disgojson.Marshal,
		unmarshal:     disgojson.Unmarshal,
		marshalIndent: disgojson.MarshalIndent,
	}
	if e.marshal != nil {
		disgojson.Marshal = e.marshal
	}
	if e.unmarshal != nil {
		disgojson.Unmarshal = e.unmarshal
	}
	if e.marshalIndent != nil {
		disgojson.MarshalIndent = e.marshalIndent
	}
	return prev
}

// UseFastJSON installs the fastest engine that decodes disgo's types exactly
// as encoding/json does (see [FastJSONName]) into the process-wide
// Unmarshal variable of github.com/disgoorg/json/v2, which every disgo type
// and this package decode through. Marshal stays encoding/json. It is idempotent and
// returns a function that puts back the engine that was installed before.
//
// Those variables are plain globals: call UseFastJSON (and restore) before
// anything decodes or encodes, typically at the start of main, not while
// shards run.
func UseFastJSON() (restore func()) {
	prev := installEngine(fastEngine)
	return func() { installEngine(prev) }
}

// UseStdJSON installs encoding/json, disgo's default, into the Marshal,
// Unmarshal and MarshalIndent variables of github.com/disgoorg/json/v2. The same caveat as [UseFastJSON] applies.
func UseStdJSON() { installEngine(stdEngine) }
