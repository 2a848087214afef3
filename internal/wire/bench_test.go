package wire

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/disgoorg/disgo/gateway"
)

func benchDecode(b *testing.B, file string) {
	frame := loadFrame(b, file)
	b.Run("disgo-Message-UnmarshalJSON-std", func(b *testing.B) {
		UseStdJSON()
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		for b.Loop() {
			var m gateway.Message
			if err := m.UnmarshalJSON(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, e := range engines {
		for _, lazy := range []bool{false, true} {
			name, parse, decode := "wire-"+e.name, ParseEnvelope, DecodeDispatch
			if lazy {
				name, parse, decode = name+"-lazy", ParseEnvelopeLazy, DecodeUnchecked
			}
			b.Run(name, func(b *testing.B) {
				e.use()
				defer UseStdJSON()
				b.ReportAllocs()
				b.SetBytes(int64(len(frame)))
				for b.Loop() {
					env, err := parse(frame)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := decode(env.Type, env.D); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecodeMessageCreate(b *testing.B) { benchDecode(b, "message_create.json") }
func BenchmarkDecodeGuildCreate(b *testing.B)   { benchDecode(b, "guild_create.json") }

func BenchmarkParseEnvelope(b *testing.B) {
	for _, file := range []string{"message_create.json", "guild_create.json"} {
		frame := loadFrame(b, file)
		for _, p := range []struct {
			name  string
			parse func([]byte) (Envelope, error)
		}{{"", ParseEnvelope}, {"-lazy", ParseEnvelopeLazy}} {
			b.Run(file+p.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(frame)))
				for b.Loop() {
					if _, err := p.parse(frame); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkInflate decodes one MESSAGE_CREATE per op from a long stream of
// them, as a shard does; the stream restarts (Reset) every 1000 messages.
func BenchmarkInflate(b *testing.B) {
	msgs := variedMessages(b, 1000)
	size := 0
	for _, m := range msgs {
		size += len(m)
	}
	cases := []struct {
		name   string
		stream func(testing.TB, [][]byte) [][]byte
		inf    func() Inflater
	}{
		{"zlib", zlibStream, func() Inflater { return newZlibInflater(klauspostFlate) }},
		{"zlib-stdlib-flate", zlibStream, func() Inflater { return newZlibInflater(stdlibFlate) }},
		{"zstd", zstdStream, func() Inflater { return newZstdInflater() }},
	}
	for _, c := range cases {
		wire := c.stream(b, msgs)
		b.Run(c.name, func(b *testing.B) {
			inf := c.inf()
			defer inf.Close()
			b.ReportAllocs()
			b.SetBytes(int64(size / len(msgs)))
			i := 0
			for b.Loop() {
				if i == len(wire) {
					if err := inf.Reset(); err != nil {
						b.Fatal(err)
					}
					i = 0
				}
				if _, err := inf.Inflate(wire[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// variedMessages returns n MESSAGE_CREATE frames that differ as real traffic
// does (sequence, IDs, content), so that compression cannot just point back
// at the previous message.
func variedMessages(tb testing.TB, n int) [][]byte {
	tb.Helper()
	base := loadFrame(tb, "message_create.json")
	words := strings.Fields("the queue shard gateway resume zlib bot guild role member channel " +
		"latency heartbeat cluster event window budget deploy patch notes works lagging side buffer")
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([][]byte, n)
	for i := range out {
		var content strings.Builder
		for range 10 + rng.IntN(40) {
			content.WriteString(words[rng.IntN(len(words))])
			content.WriteByte(' ')
		}
		m := bytes.Replace(base, []byte(`"s":42`), fmt.Appendf(nil, `"s":%d`, 42+i), 1)
		m = bytes.Replace(m, []byte(`"content":"Hey`), fmt.Appendf(nil, `"content":"%s Hey`, content.String()), 1)
		m = bytes.ReplaceAll(m, []byte(`"id":"11000`), fmt.Appendf(nil, `"id":"1%04d`, rng.IntN(10000)))
		out[i] = m
	}
	return out
}

// hotFrames are the realistic frames of each hot event type, by type.
var hotFrames = []struct {
	t    gateway.EventType
	file string
}{
	{gateway.EventTypeMessageCreate, "message_create.json"},
	{gateway.EventTypeMessageUpdate, "message_update.json"},
	{gateway.EventTypeMessageDelete, "message_delete.json"},
	{gateway.EventTypeMessageReactionAdd, "message_reaction_add.json"},
	{gateway.EventTypeMessageReactionRemove, "message_reaction_remove.json"},
	{gateway.EventTypeTypingStart, "typing_start.json"},
	{gateway.EventTypePresenceUpdate, "presence_update.json"},
	{gateway.EventTypeGuildMemberAdd, "guild_member_add.json"},
	{gateway.EventTypeGuildMemberUpdate, "guild_member_update.json"},
	{gateway.EventTypeInteractionCreate, "interaction_create.json"},
	{gateway.EventTypeVoiceStateUpdate, "voice_state_update.json"},
}

// BenchmarkDecodeHot decodes the data of each hot event type's realistic
// frame into disgo's type: with the JSON engine alone, encoding/json
// ("std") and go-json ("fast", the default), and with DecodeDispatch,
// which tries the hot decoder first, over go-json ("hot"). bytedance/sonic is measured
// beside them in the nested module internal/wire/sonicbench.
func BenchmarkDecodeHot(b *testing.B) {
	for _, hf := range hotFrames {
		env := mustEnvelope(b, loadFrame(b, hf.file))
		if env.Type != hf.t {
			b.Fatalf("%s holds %s", hf.file, env.Type)
		}
		for _, e := range engines {
			b.Run(string(hf.t)+"/"+e.name, func(b *testing.B) {
				e.use()
				defer UseStdJSON()
				b.ReportAllocs()
				b.SetBytes(int64(len(env.D)))
				for b.Loop() {
					if _, err := engineDispatch(env.Type, env.D); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(string(hf.t)+"/hot", func(b *testing.B) {
			defer UseFastJSON()() // what the hot decoder leaves to the engine goes to the default one
			if _, ok := hotDecode(env.Type, env.D); !ok {
				b.Fatal("the hot decoder declines it")
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(env.D)))
			for b.Loop() {
				if _, err := DecodeDispatch(env.Type, env.D); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
