package discordtest

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzClientPayload feeds arbitrary client payloads to the parsers the
// reader uses. They must never panic, must accept only JSON objects with a
// client opcode, and must agree with encoding/json about validity.
func FuzzClientPayload(f *testing.F) {
	for _, seed := range []string{
		`{"op":1,"d":null}`, `{"op":1,"d":42}`, `{"op":1}`, `{"op":1,"d":"x"}`,
		`{"op":2,"d":{"token":"a.b.c","intents":513,"shard":[0,1],"properties":{"os":"linux"}}}`,
		`{"op":2,"d":{"shard":[1]}}`, `{"op":2,"d":[]}`, `{"op":6,"d":{"token":"t","session_id":"s","seq":3}}`,
		`{"op":6,"d":{"seq":null}}`, `{"op":99}`, `{"op":"1"}`, `[]`, `null`, `{"op":1,`, ``,
		`{"op":3,"d":{}}`, `{"op":8,"d":{"guild_id":"1"}}`, `{"op":2,"d":{"intents":-1}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseClientPayload(data)
		if err != nil {
			if !errors.Is(err, errDecode) && !errors.Is(err, errUnknownOpcode) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		switch p.op {
		case opHeartbeat:
			_ = parseHeartbeat(p.d)
		case opIdentify:
			if id, err := parseIdentify(p.d); err == nil && id.Shard != nil {
				_ = id.Shard[0] + id.Shard[1]
			}
		case opResume:
			if r, err := parseResume(p.d); err == nil && r.Seq == nil {
				t.Fatal("resume without seq accepted")
			}
		case opPresenceUpdate, opVoiceStateUpdate, opRequestGuildMembers, opRequestSoundboard:
		default:
			t.Fatalf("op %d accepted", p.op)
		}
	})
}
