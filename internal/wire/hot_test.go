package wire

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	disgojson "github.com/disgoorg/json/v2"
	"github.com/gorilla/websocket"

	"github.com/megane-go/megane/discordtest"
)

// requireStdJSON fails tb unless encoding/json is the installed engine: the
// differential tests compare the hot decoder with disgo's types decoded by
// encoding/json.
func requireStdJSON(tb testing.TB) {
	tb.Helper()
	if funcPtr(disgojson.Unmarshal) != funcPtr(stdjson.Unmarshal) {
		tb.Fatal("the installed engine is not encoding/json (a test left another one installed)")
	}
}

// checkHot fails tb if the hot decoder accepts d and its result differs from
// disgo's types decoded by encoding/json (gateway.UnmarshalEventData), or if
// it accepts what encoding/json rejects; and if DecodeDispatch, which tries
// the hot decoder first, disagrees with encoding/json in either case. It
// reports whether the hot decoder accepted d.
func checkHot(tb testing.TB, t gateway.EventType, d []byte) bool {
	tb.Helper()
	want, werr, panicked := disgoDecode(t, d)
	if panicked {
		werr = fmt.Errorf("disgo panicked")
	}
	got, ok := hotDecode(t, d)
	if ok {
		if werr != nil {
			tb.Fatalf("%s: the hot decoder accepts what encoding/json rejects (%v): %.300q", t, werr, d)
		}
		if path := diffPath(reflect.ValueOf(got), reflect.ValueOf(want), string(t)); path != "" {
			tb.Fatalf("the hot decoder differs from encoding/json at %s\ndata %.500q", path, d)
		}
	} else if got != nil {
		tb.Fatalf("%s: declined with an event %#v", t, got)
	}
	dd, derr := DecodeDispatch(t, d)
	switch {
	case (derr == nil) != (werr == nil) && t != gateway.EventTypeResumed:
		tb.Fatalf("%s: DecodeDispatch err = %v, encoding/json err = %v: %.300q", t, derr, werr, d)
	case derr == nil && t != gateway.EventTypeResumed:
		if path := diffPath(reflect.ValueOf(dd), reflect.ValueOf(want), string(t)); path != "" {
			tb.Fatalf("DecodeDispatch differs from encoding/json at %s\ndata %.500q", path, d)
		}
	}
	return ok
}

// diffPath returns the path of the first place where a and b differ, as
// reflect.DeepEqual sees them, with both values; "" if they are equal.
func diffPath(a, b reflect.Value, path string) string {
	if a.IsValid() != b.IsValid() {
		return fmt.Sprintf("%s: %v vs %v", path, a, b)
	}
	if !a.IsValid() {
		return ""
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: type %v vs %v", path, a.Type(), b.Type())
	}
	if a.CanInterface() && b.CanInterface() && reflect.DeepEqual(a.Interface(), b.Interface()) {
		return ""
	}
	switch a.Kind() {
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		return diffPath(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if p := diffPath(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
		if !a.CanInterface() {
			return ""
		}
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d vs %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if p := diffPath(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
		return ""
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: map %v vs %v", path, a, b)
		}
		for _, k := range a.MapKeys() {
			if p := diffPath(a.MapIndex(k), b.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); p != "" {
				return p
			}
		}
		return ""
	}
	if !a.CanInterface() {
		// An unexported field (time.Time's, an interaction's): fmt
		// reads it.
		if fmt.Sprintf("%#v", a) != fmt.Sprintf("%#v", b) {
			return fmt.Sprintf("%s: %#v vs %#v", path, a, b)
		}
		return ""
	}
	return fmt.Sprintf("%s: %#v vs %#v", path, a.Interface(), b.Interface())
}

// TestHotDecodesRealisticFrames checks the hot decoder on every hot
// dispatch of the realistic frames and of dispatchCases: it must take
// them (a decline would silently cost the engine's time) and equal
// encoding/json.
func TestHotDecodesRealisticFrames(t *testing.T) {
	t.Parallel()
	requireStdJSON(t)
	var envs []Envelope
	for _, frame := range loadFrames(t) {
		envs = append(envs, mustEnvelope(t, frame))
	}
	for _, c := range dispatchCases {
		envs = append(envs, Envelope{Type: c.t, D: []byte(c.d)})
	}
	hot := 0
	for _, env := range envs {
		isHot := slices.Contains(hotEventTypes, env.Type)
		if ok := checkHot(t, env.Type, env.D); ok != isHot {
			t.Errorf("%s: hot decoder took it: %v, want %v", env.Type, ok, isHot)
		}
		if isHot {
			hot++
		}
	}
	if hot < 8 {
		t.Fatalf("only %d hot frames checked", hot)
	}
}

// fakeTraffic records n dispatches of discordtest's mixed traffic
// (MESSAGE_CREATE in guilds and DMs, GUILD_MEMBER_ADD,
// MESSAGE_REACTION_ADD, TYPING_START) from a fake Discord whose message
// contents rotate through contents.
func fakeTraffic(t *testing.T, n int, contents []string, opts ...discordtest.Option) []Envelope {
	t.Helper()
	opts = append([]discordtest.Option{discordtest.WithGuilds(4), discordtest.WithContents(1, contents...)}, opts...)
	s := discordtest.New(t, opts...)
	q := url.Values{"v": {"10"}, "encoding": {"json"}}
	ws, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	identify, _ := stdjson.Marshal(map[string]any{"op": 2, "d": map[string]any{
		"token": s.Token(), "intents": 1<<15 | 1<<9 | 1<<12 | 1<<1 | 1<<10 | 1<<11, "shard": [2]int{0, 1},
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"},
	}})
	if err := ws.WriteMessage(websocket.TextMessage, identify); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang guard
	var out []Envelope
	for len(out) < n {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		env, err := ParseEnvelope(msg)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case env.Op != gateway.OpcodeDispatch:
		case env.Type == gateway.EventTypeReady:
			s.SetRate(-1) // the mixed stream, as fast as it goes
		case env.Type != gateway.EventTypeGuildCreate:
			out = append(out, env)
		}
	}
	s.SetRate(0)
	return out
}

// hotContents are message contents for the fake's traffic: plain,
// escaped, UTF-8 and emoji, and mentions.
var hotContents = []string{
	"hello world",
	`quotes " and backslashes \ and a tab	and a newline
here`,
	"naïve café — ünïcödé, 日本語, emoji 👍🏽🎉, and a zero-width joiner 👩‍💻",
	"<@1100000004206137282> <#1100000000841108452> <@&1100000001259947209> @everyone",
	"control \u0001 and \u001f and the line separator \u2028 and <script>",
}

// TestHotMatchesStdOnFakeTraffic decodes discordtest's mixed traffic, also
// with data that is not the frame's last member, with the hot decoder and
// with encoding/json.
func TestHotMatchesStdOnFakeTraffic(t *testing.T) {
	t.Parallel()
	requireStdJSON(t)
	for _, notLast := range []bool{false, true} {
		var opts []discordtest.Option
		if notLast {
			opts = append(opts, discordtest.WithDataNotLast())
		}
		seen := map[gateway.EventType]int{}
		for _, env := range fakeTraffic(t, 300, hotContents, opts...) {
			if !checkHot(t, env.Type, env.D) && slices.Contains(hotEventTypes, env.Type) {
				t.Errorf("%s: the hot decoder declined the fake's frame %.200q", env.Type, env.D)
			}
			seen[env.Type]++
		}
		for _, typ := range []gateway.EventType{gateway.EventTypeMessageCreate, gateway.EventTypeGuildMemberAdd,
			gateway.EventTypeMessageReactionAdd, gateway.EventTypeTypingStart} {
			if seen[typ] == 0 {
				t.Errorf("no %s in the fake's traffic (saw %v)", typ, seen)
			}
		}
	}
}

// TestHotLazyData checks the hot decoder on unchecked data (see
// ParseEnvelopeLazy): with members after "d" it declines the slice, and
// DecodeUnchecked still decodes the frame as ParseEnvelope and
// DecodeDispatch do.
func TestHotLazyData(t *testing.T) {
	t.Parallel()
	requireStdJSON(t)
	frame := loadFrame(t, "message_create.json")
	for _, trailer := range []string{`,"_trace":["gw-1",{"t":"}"}]}`, `, "x" : null }`, `}}`, `,"d":{}}`} {
		in := append(withoutClosingBrace(frame), trailer...)
		env, err := ParseEnvelopeLazy(in)
		if err != nil || !env.Unchecked {
			t.Fatalf("%s: %v, %v", trailer, env.Unchecked, err)
		}
		if _, ok := hotDecode(env.Type, env.D); ok {
			t.Fatalf("%s: the hot decoder took data followed by %q", env.Type, trailer)
		}
		got, gerr := DecodeUnchecked(env.Type, env.D)
		var fe *FrameError
		if errors.As(gerr, &fe) && fe.Reason == reasonRepeatedKey {
			continue // the lazy path rejects it by design (see ParseEnvelopeLazy)
		}
		full, ferr := ParseEnvelope(in)
		if ferr != nil {
			if gerr == nil {
				t.Fatalf("%q: DecodeUnchecked accepted a frame ParseEnvelope rejects", trailer)
			}
			continue
		}
		want, _, _ := disgoDecode(full.Type, full.D)
		if gerr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: DecodeUnchecked = %v; differs from encoding/json", trailer, gerr)
		}
	}
}

// withoutClosingBrace returns a copy of frame without its closing brace.
func withoutClosingBrace(frame []byte) []byte {
	s := strings.TrimSpace(string(frame))
	return []byte(strings.TrimSuffix(s, "}"))
}

// hotSeedLimit bounds the fuzz seeds (see seedLimit): large seeds make the
// fuzzer spend its time minimising them.
const hotSeedLimit = 290

// FuzzHotDecode checks, for any data of a hot event type, that the hot
// decoder either declines it or decodes it exactly as encoding/json does
// through disgo's types, never taking what encoding/json rejects; and that
// DecodeDispatch agrees with encoding/json either way.
func FuzzHotDecode(f *testing.F) {
	index := map[gateway.EventType]uint8{}
	for i, t := range hotEventTypes {
		index[t] = uint8(i)
	}
	add := func(t gateway.EventType, d []byte) {
		i, ok := index[t]
		if !ok {
			return
		}
		if len(d) <= hotSeedLimit {
			f.Add(i, d)
			return
		}
		if !stdjson.Valid(d) || nesting(d) > 16 {
			return // splitValue needs valid, shallow JSON
		}
		for _, part := range splitValue(f, d, hotSeedLimit) {
			f.Add(i, part)
		}
	}
	for _, env := range seedData(f) {
		add(env.Type, env.D)
	}
	for _, c := range dispatchCases {
		add(c.t, []byte(c.d))
	}
	for _, c := range hotCases {
		add(c.t, []byte(c.d))
	}
	// The body installs encoding/json: fuzz bodies run one at a time.
	f.Fuzz(func(t *testing.T, typ uint8, d []byte) {
		defer UseStdJSON()
		UseStdJSON()
		checkHot(t, hotEventTypes[int(typ)%len(hotEventTypes)], d)
	})
}

// nesting returns the deepest nesting of objects and arrays in the valid
// JSON value d.
func nesting(d []byte) int {
	dec := stdjson.NewDecoder(bytes.NewReader(d))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case stdjson.Delim('{'), stdjson.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case stdjson.Delim('}'), stdjson.Delim(']'):
			depth--
		}
	}
}

// TestHotMatchesFastJSON checks the hot decoder against the fast engine
// too, which the bot installs: where the hot decoder takes data, the
// engine must decode it to the same value.
func TestHotMatchesFastJSON(t *testing.T) {
	defer UseFastJSON()()
	var envs []Envelope
	for _, frame := range loadFrames(t) {
		envs = append(envs, mustEnvelope(t, frame))
	}
	for _, c := range hotCases {
		envs = append(envs, Envelope{Type: c.t, D: []byte(c.d)})
	}
	for _, env := range envs {
		got, ok := hotDecode(env.Type, env.D)
		if !ok {
			continue
		}
		want, err := engineDispatch(env.Type, env.D)
		if err != nil {
			t.Fatalf("%s: the hot decoder takes what %s rejects (%v): %.200q", env.Type, FastJSONName, err, env.D)
		}
		if path := diffPath(reflect.ValueOf(got), reflect.ValueOf(want), string(env.Type)); path != "" {
			t.Fatalf("the hot decoder differs from %s at %s\ndata %.300q", FastJSONName, path, env.D)
		}
	}
}
