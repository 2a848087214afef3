package wire

import (
	"bytes"
	stdjson "encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/disgoorg/disgo/gateway"
	disgojson "github.com/disgoorg/json/v2"
)

// These tests swap the process-wide engine, so none of them is parallel:
// they run before the parallel tests of the package resume.

// engineCases are the dispatches the engines must decode identically.
func engineCases(t *testing.T) []Envelope {
	t.Helper()
	var out []Envelope
	for _, name := range []string{"message_create.json", "guild_create.json", "ready.json"} {
		out = append(out, mustEnvelope(t, loadFrame(t, name)))
	}
	for _, c := range dispatchCases {
		out = append(out, Envelope{Type: c.t, D: []byte(c.d)})
	}
	return out
}

func TestFastJSONMatchesStd(t *testing.T) {
	defer UseStdJSON()
	for _, env := range engineCases(t) {
		UseStdJSON()
		want, err := DecodeDispatch(env.Type, env.D)
		if err != nil {
			t.Fatalf("%s with encoding/json: %v", env.Type, err)
		}
		UseFastJSON()
		d := bytes.Clone(env.D)
		got, err := DecodeDispatch(env.Type, d)
		if err != nil {
			t.Fatalf("%s with %s: %v", env.Type, FastJSONName, err)
		}
		for i := range d {
			d[i] = 'Z' // the decoded value must not alias the reused buffer
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %s decodes differently from encoding/json:\n got %#v\nwant %#v", env.Type, FastJSONName, got, want)
		}
	}
}

func TestFastJSONRejectsWhatStdRejects(t *testing.T) {
	defer UseStdJSON()
	bad := []struct {
		t gateway.EventType
		d string
	}{
		{gateway.EventTypeMessageCreate, `{"id":"1","content":"x",}`},
		{gateway.EventTypeMessageCreate, `{"id":1}`},
		{gateway.EventTypeGuildCreate, `{"id":"1","channels":[{"id":"2","type":0}`},
		{gateway.EventTypeTypingStart, `{"timestamp":"soon"}`},
	}
	for _, c := range bad {
		for _, use := range []func(){UseStdJSON, func() { UseFastJSON() }} {
			use()
			if _, err := DecodeDispatch(c.t, []byte(c.d)); err == nil {
				t.Fatalf("%s %s: no error", c.t, c.d)
			}
		}
	}
}

func funcPtr(f any) uintptr { return reflect.ValueOf(f).Pointer() }

func TestUseFastJSONRestore(t *testing.T) {
	defer UseStdJSON()
	UseStdJSON()
	std := funcPtr(disgojson.Unmarshal)
	if std != funcPtr(stdjson.Unmarshal) {
		t.Fatal("UseStdJSON did not install encoding/json")
	}
	restore1 := UseFastJSON()
	fast := funcPtr(disgojson.Unmarshal)
	if fast == std {
		t.Fatal("UseFastJSON did not change the engine")
	}
	restore2 := UseFastJSON() // idempotent
	if funcPtr(disgojson.Unmarshal) != fast {
		t.Fatal("a second UseFastJSON changed the engine")
	}
	if funcPtr(disgojson.Marshal) != funcPtr(stdjson.Marshal) {
		t.Fatal("UseFastJSON changed Marshal")
	}
	restore2()
	if funcPtr(disgojson.Unmarshal) != fast {
		t.Fatal("the inner restore did not go back to the fast engine")
	}
	restore1()
	if funcPtr(disgojson.Unmarshal) != std {
		t.Fatal("the outer restore did not go back to encoding/json")
	}
}

// TestFastJSONConcurrent decodes from many goroutines at once with the fast
// engine, as the clusters of a process do (run under -race).
func TestFastJSONConcurrent(t *testing.T) {
	defer UseFastJSON()()
	cases := engineCases(t)
	want := make([]gateway.EventData, len(cases))
	for i, env := range cases {
		ev, err := DecodeDispatch(env.Type, env.D)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ev
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 20 {
				i := (g + r) % len(cases)
				got, err := DecodeDispatch(cases[i].Type, cases[i].D)
				if err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("%s decoded differently under concurrency", cases[i].Type)
					return
				}
			}
		})
	}
	wg.Wait()
}
