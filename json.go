package megane

import (
	"sync"

	"github.com/megane-go/megane/internal/wire"
)

// FastJSONName names the JSON engine Megane installs for decoding gateway
// payloads (see [UseStdJSON]).
const FastJSONName = wire.FastJSONName

var jsonChoice sync.Once

// installFastJSON puts the fast engine behind disgo's swappable JSON
// variables the first time a Manager is made, unless [UseStdJSON] was
// called first. The once makes every later New a reader, not a writer, so
// Managers made while others run do not race on those globals.
func installFastJSON() {
	jsonChoice.Do(func() { wire.UseFastJSON() })
}

// UseStdJSON opts the process out of the fast JSON engine.
//
// By default the first call to [New] installs [FastJSONName] behind
// github.com/disgoorg/json/v2's Unmarshal variable, through which disgo and
// Megane decode every gateway payload. It decodes disgo's types exactly as
// encoding/json does (a differential test and a fuzz target check it) at
// about a quarter of the CPU for MESSAGE_CREATE; encoding stays
// encoding/json. The variable is process-wide, so the choice is too: call
// UseStdJSON at the start of main, before New and before anything decodes.
// Calling it while shards run races with their decoding.
func UseStdJSON() {
	jsonChoice.Do(func() {})
	wire.UseStdJSON()
}
