package wire

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/disgoorg/disgo/gateway"
)

// dispatchCases are dispatch payloads beyond the realistic frames: every hot
// event type plus types that take disgo's generic path.
var dispatchCases = []struct {
	t gateway.EventType
	d string
}{
	{gateway.EventTypePresenceUpdate, `{"user":{"id":"111111111111111111"},"status":"idle","guild_id":"222222222222222222","client_status":{"mobile":"idle"},"activities":[{"name":"Spotify","type":2,"created_at":1732550000000}]}`},
	{gateway.EventTypeTypingStart, `{"user_id":"111111111111111111","timestamp":1732550000,"channel_id":"333333333333333333","guild_id":"222222222222222222"}`},
	{gateway.EventTypeMessageUpdate, `{"id":"444444444444444444","channel_id":"333333333333333333","type":0,"content":"edited","timestamp":"2026-11-25T18:11:42.357000+00:00","edited_timestamp":"2026-11-25T18:12:00.000000+00:00","author":{"id":"111111111111111111","username":"u","discriminator":"0"},"attachments":[],"embeds":[],"mentions":[],"mention_roles":[],"pinned":false,"mention_everyone":false,"tts":false}`},
	{gateway.EventTypeMessageDelete, `{"id":"444444444444444444","channel_id":"333333333333333333","guild_id":"222222222222222222"}`},
	{gateway.EventTypeMessageReactionAdd, `{"user_id":"111111111111111111","type":0,"message_id":"444444444444444444","emoji":{"name":"👍","id":null},"channel_id":"333333333333333333","guild_id":"222222222222222222","burst":false}`},
	{gateway.EventTypeGuildMemberUpdate, `{"guild_id":"222222222222222222","roles":["555555555555555555"],"user":{"id":"111111111111111111","username":"u","discriminator":"0"},"nick":"n","joined_at":"2022-01-01T00:00:00+00:00","flags":0}`},
	{gateway.EventTypeVoiceStateUpdate, `{"guild_id":"222222222222222222","channel_id":null,"user_id":"111111111111111111","session_id":"abc","deaf":false,"mute":false,"self_deaf":false,"self_mute":false,"self_video":false,"suppress":false,"request_to_speak_timestamp":null}`},
	{gateway.EventTypeChannelCreate, `{"id":"333333333333333333","type":0,"guild_id":"222222222222222222","name":"general","position":0,"permission_overwrites":[],"nsfw":false}`},
	{gateway.EventTypeGuildDelete, `{"id":"222222222222222222","unavailable":true}`},
	{gateway.EventTypeResumed, `null`},
	{gateway.EventTypeResumed, ``},
	{"SOMETHING_NEW", `{"x":[1,2,3]}`},
}

func TestDecodeDispatchMatchesDisgo(t *testing.T) {
	t.Parallel()
	type tc struct {
		name string
		t    gateway.EventType
		d    []byte
	}
	var cases []tc
	for _, name := range []string{"message_create.json", "guild_create.json", "ready.json"} {
		env := mustEnvelope(t, loadFrame(t, name))
		cases = append(cases, tc{name, env.Type, env.D})
	}
	for _, c := range dispatchCases {
		cases = append(cases, tc{string(c.t), c.t, []byte(c.d)})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			want, err := gateway.UnmarshalEventData(c.d, c.t)
			if err != nil {
				t.Fatalf("disgo: %v", err)
			}
			got, err := DecodeDispatch(c.t, c.d)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeDispatch differs from disgo:\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestDecodeDispatchDoesNotAliasInput(t *testing.T) {
	t.Parallel()
	env := mustEnvelope(t, loadFrame(t, "message_create.json"))
	d := bytes.Clone(env.D)
	got, err := DecodeDispatch(env.Type, d)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := gateway.UnmarshalEventData(env.D, env.Type)
	for i := range d {
		d[i] = 'Z' // the inflater reuses its buffer for the next message
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("decoded event changed when its input buffer was overwritten")
	}
}

func TestDecodeDispatchErrors(t *testing.T) {
	t.Parallel()
	const secret = "payload-secret-42"
	tests := []struct {
		name string
		t    gateway.EventType
		d    string
	}{
		{"hot type, bad json", gateway.EventTypeMessageCreate, `{"content":"` + secret + `","id":}`},
		{"hot type, wrong type", gateway.EventTypeGuildCreate, `{"id":12,"name":"` + secret + `"}`},
		{"generic type, bad json", gateway.EventTypeChannelPinsUpdate, `{"channel_id":"` + secret + `",`},
		{"empty", gateway.EventTypeMessageCreate, ``},
		// disgo panics on this (an unchecked type assertion): recovered.
		{"dm channel in guild create", gateway.EventTypeGuildCreate, `{"id":"1","name":"` + secret + `","channels":[{"id":"2","type":1}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := DecodeDispatch(tt.t, []byte(tt.d))
			if err == nil || ev != nil {
				t.Fatalf("DecodeDispatch = %v, %v; want an error", ev, err)
			}
			var de *DecodeError
			if !errors.Is(err, ErrMalformedFrame) || !errors.As(err, &de) || de.Type != tt.t {
				t.Fatalf("err = %#v, want a *DecodeError matching ErrMalformedFrame", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error quotes the payload: %v", err)
			}
		})
	}
}

func TestDecodeControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		frame string
		want  gateway.MessageData
	}{
		{"hello", string(loadFrame(t, "hello.json")), gateway.MessageDataHello{HeartbeatInterval: 41250}},
		{"invalid session false", string(loadFrame(t, "invalid_session.json")), gateway.MessageDataInvalidSession(false)},
		{"invalid session true", `{"op":9,"d":true}`, gateway.MessageDataInvalidSession(true)},
		{"heartbeat request", `{"op":1,"d":251}`, gateway.MessageDataHeartbeat(251)},
		{"heartbeat request null", `{"op":1,"d":null}`, gateway.MessageDataHeartbeat(0)},
		{"reconnect", `{"op":7,"d":null}`, gateway.MessageDataReconnect{}},
		{"ack", string(loadFrame(t, "heartbeat_ack.json")), gateway.MessageDataHeartbeatACK{}},
		{"unknown op", `{"op":42,"d":{"x":1}}`, gateway.MessageDataUnknown(`{"x":1}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := mustEnvelope(t, []byte(tt.frame))
			got, err := DecodeControl(env.Op, env.D)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if tt.name == "unknown op" {
				return // disgo fails on unknown opcodes; we keep the data
			}
			var msg gateway.Message
			if err := msg.UnmarshalJSON([]byte(tt.frame)); err != nil {
				t.Fatalf("disgo: %v", err)
			}
			if !reflect.DeepEqual(got, msg.D) {
				t.Fatalf("got %#v, disgo decodes %#v", got, msg.D)
			}
		})
	}
}

func TestDecodeControlErrors(t *testing.T) {
	t.Parallel()
	if _, err := DecodeControl(gateway.OpcodeDispatch, []byte(`{}`)); !errors.Is(err, ErrDispatchOpcode) {
		t.Fatalf("op 0: err = %v, want ErrDispatchOpcode", err)
	}
	_, err := DecodeControl(gateway.OpcodeHello, []byte(`{"heartbeat_interval":"x"}`))
	var de *DecodeError
	if !errors.As(err, &de) || de.Op != gateway.OpcodeHello || !errors.Is(err, ErrMalformedFrame) {
		t.Fatalf("bad hello: err = %#v, want a *DecodeError for op 10", err)
	}
}

func FuzzDecodeDispatch(f *testing.F) {
	for _, env := range seedData(f) {
		f.Add(string(env.Type), env.D)
	}
	for _, c := range dispatchCases {
		if len(c.d) <= seedLimit {
			f.Add(string(c.t), []byte(c.d))
			continue
		}
		for _, d := range splitValue(f, []byte(c.d), seedLimit) {
			f.Add(string(c.t), d)
		}
	}
	// The body swaps the process-wide engine: fuzz bodies run one at a time.
	f.Fuzz(func(t *testing.T, typ string, d []byte) {
		defer UseStdJSON()
		et := gateway.EventType(typ)
		UseStdJSON()
		got, err := DecodeDispatch(et, d)
		if err != nil {
			if got != nil || !errors.Is(err, ErrMalformedFrame) {
				t.Fatalf("DecodeDispatch = %v, %v", got, err)
			}
		} else {
			want, werr, panicked := disgoDecode(et, d)
			if panicked || werr != nil {
				t.Fatalf("DecodeDispatch accepted what disgo rejects (panic=%v err=%v)", panicked, werr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeDispatch differs from disgo:\n got %#v\nwant %#v", got, want)
			}
		}
		// The fast engine must decode whatever encoding/json decodes, to
		// the same value.
		UseFastJSON()
		fast, ferr := DecodeDispatch(et, d)
		if ferr != nil && !errors.Is(ferr, ErrMalformedFrame) {
			t.Fatalf("fast engine: error %v does not match ErrMalformedFrame", ferr)
		}
		if err == nil {
			if ferr != nil {
				t.Fatalf("%s rejects what encoding/json accepts: %v", FastJSONName, ferr)
			}
			if !reflect.DeepEqual(fast, got) {
				t.Fatalf("%s differs from encoding/json:\n got %#v\nwant %#v", FastJSONName, fast, got)
			}
		}
	})
}

// disgoDecode runs disgo's decoder, reporting a panic instead of crashing.
func disgoDecode(t gateway.EventType, d []byte) (ev gateway.EventData, err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	ev, err = gateway.UnmarshalEventData(d, t)
	return ev, err, false
}
