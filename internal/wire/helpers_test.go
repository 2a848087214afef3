package wire

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// frameFiles are the realistic frames in testdata.
var frameFiles = []string{
	"message_create.json", "guild_create.json", "ready.json",
	"hello.json", "invalid_session.json", "heartbeat_ack.json",
	// One of each hot type but MESSAGE_CREATE, in Discord's shapes.
	"message_update.json", "message_delete.json", "message_reaction_add.json",
	"message_reaction_remove.json", "typing_start.json", "presence_update.json",
	"guild_member_add.json", "guild_member_update.json", "interaction_create.json",
	"voice_state_update.json",
}

func loadFrame(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// loadFrames returns every realistic frame, in frameFiles order.
func loadFrames(tb testing.TB) [][]byte {
	tb.Helper()
	out := make([][]byte, len(frameFiles))
	for i, f := range frameFiles {
		out[i] = loadFrame(tb, f)
	}
	return out
}

// mustEnvelope parses a frame that is known to be valid.
func mustEnvelope(tb testing.TB, frame []byte) Envelope {
	tb.Helper()
	env, err := ParseEnvelope(frame)
	if err != nil {
		tb.Fatal(err)
	}
	return env
}

// engines are the two JSON engines, by name, each with the call that
// installs it process-wide. A test that installs one must not run in
// parallel, and must put UseStdJSON back.
var engines = []struct {
	name string
	use  func()
}{{"std", UseStdJSON}, {"fast", func() { UseFastJSON() }}}
