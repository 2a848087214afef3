package sonicbench

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/disgoorg/disgo/gateway"
	disgojson "github.com/disgoorg/json/v2"

	"github.com/megane-go/megane/internal/wire"
)

// frames are the realistic frames of the hot event types, in wire's testdata.
var frames = []string{
	"message_create.json", "message_update.json", "message_delete.json",
	"message_reaction_add.json", "message_reaction_remove.json", "typing_start.json",
	"presence_update.json", "guild_member_add.json", "guild_member_update.json",
	"interaction_create.json", "voice_state_update.json",
}

func useSonic() func() {
	prev := disgojson.Unmarshal
	disgojson.Unmarshal = sonic.Unmarshal
	return func() { disgojson.Unmarshal = prev }
}

// BenchmarkHotEvents decodes each frame's data four ways (see the package
// documentation). Where sonic's result differs from encoding/json's, the
// benchmark says so in its log: it is measured, not trusted.
func BenchmarkHotEvents(b *testing.B) {
	for _, name := range frames {
		frame, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		env, err := wire.ParseEnvelope(frame)
		if err != nil {
			b.Fatal(err)
		}
		wire.UseStdJSON()
		want, err := gateway.UnmarshalEventData(env.D, env.Type)
		if err != nil {
			b.Fatal(err)
		}
		restore := useSonic()
		got, err := gateway.UnmarshalEventData(env.D, env.Type)
		restore()
		if err != nil || !reflect.DeepEqual(got, want) {
			b.Logf("%s: sonic's result differs from encoding/json's (err %v)", env.Type, err)
		}
		engines := []struct {
			name string
			use  func() func()
		}{
			{"std", func() func() { wire.UseStdJSON(); return func() {} }},
			{"fast", wire.UseFastJSON},
			{"sonic", useSonic},
		}
		for _, e := range engines {
			b.Run(string(env.Type)+"/"+e.name, func(b *testing.B) {
				defer e.use()()
				defer wire.UseStdJSON()
				b.ReportAllocs()
				b.SetBytes(int64(len(env.D)))
				for b.Loop() {
					if _, err := gateway.UnmarshalEventData(env.D, env.Type); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(string(env.Type)+"/hot", func(b *testing.B) {
			defer wire.UseFastJSON()()
			b.ReportAllocs()
			b.SetBytes(int64(len(env.D)))
			for b.Loop() {
				if _, err := wire.DecodeDispatch(env.Type, env.D); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
