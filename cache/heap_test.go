package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"testing"

	disgocache "github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
)

// errNoGuilds is returned by measureHeapPerGuild when it is given no guilds.
var errNoGuilds = errors.New("cache: no guilds to measure")

// measureHeapPerGuild returns the live heap, in bytes per guild, that the
// Caches built by newCaches hold after loading guilds through
// [AddGuildCreate].
//
// It measures what a bot pays: each guild is first encoded to JSON, then,
// inside the measured window, decoded and handed to the cache one at a time,
// so the decoded event is garbage once the cache has it and only what the
// cache keeps is counted. The figure is the difference in HeapAlloc,
// each reading taken after two full GCs (sync.Pool contents survive one).
// Other goroutines allocating at the same time add noise, so run it alone
// (a benchmark or a command, not a parallel test). The noise measured with
// nothing cached is under 100 B/guild. Cost: four GCs, one JSON encode and
// one decode per guild; about 1 s for 1000 guilds of 100 members.
func measureHeapPerGuild(newCaches func() disgocache.Caches, guilds []gateway.EventGuildCreate) (float64, error) {
	if len(guilds) == 0 {
		return 0, errNoGuilds
	}
	bodies := make([][]byte, len(guilds))
	for i := range guilds {
		b, err := json.Marshal(guilds[i])
		if err != nil {
			return 0, fmt.Errorf("cache: encoding guild %d: %w", i, err)
		}
		bodies[i] = b
	}
	var before, after runtime.MemStats
	settle()
	runtime.ReadMemStats(&before)
	c := newCaches()
	for i, b := range bodies {
		var ev gateway.EventGuildCreate
		if err := json.Unmarshal(b, &ev); err != nil {
			return 0, fmt.Errorf("cache: decoding guild %d: %w", i, err)
		}
		AddGuildCreate(c, ev)
	}
	settle()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(c)
	runtime.KeepAlive(bodies)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(guilds)), nil
}

// settle runs two full GCs: the first moves sync.Pool contents to the
// victim cache, the second frees them.
func settle() {
	runtime.GC()
	runtime.GC()
}

// TestMeasureHeapPerGuild checks the memory target on a small sample. It
// is deliberately not parallel: a heap measurement must run alone, and Go
// runs the parallel tests only after the sequential ones.
func TestMeasureHeapPerGuild(t *testing.T) {
	gs := guildsFor(t, 30, plainShape)
	def, err := measureHeapPerGuild(newDisgoAll, gs)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := measureHeapPerGuild(newCompactAll, gs)
	if err != nil {
		t.Fatal(err)
	}
	none, err := measureHeapPerGuild(func() disgocache.Caches { return New() }, gs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("B/guild: disgo %.0f, compact %.0f (%.2f), nothing cached %.0f", def, comp, comp/def, none)
	if def < 20_000 {
		t.Errorf("disgo's cache measured %.0f B/guild; a guild of 100 members cannot cost so little", def)
	}
	if comp > 0.75*def {
		t.Errorf("compact cache %.0f B/guild > 0.75 × disgo's %.0f", comp, def)
	}
	if none > 0.1*def {
		t.Errorf("with no flags %.0f B/guild stayed live, want about 0", none)
	}
}

// TestMeasureHeapPerGuildTwentyGuilds was ExampleMeasureHeapPerGuild, from
// when the measurement was exported: it compares the caches on the same 20
// guilds. The figures vary a little from run to run; their order does not.
// Not parallel, for the reason TestMeasureHeapPerGuild gives.
func TestMeasureHeapPerGuildTwentyGuilds(t *testing.T) {
	payloads := discordtest.GuildCreatePayloads(20, discordtest.GuildShape{Members: 100, Channels: 50, Roles: 20})
	guilds := make([]gateway.EventGuildCreate, len(payloads))
	for i, p := range payloads {
		if err := json.Unmarshal(p, &guilds[i]); err != nil {
			t.Fatal(err)
		}
	}
	opts := disgocache.WithCaches(disgocache.FlagsAll)
	disgoPerGuild, err := measureHeapPerGuild(func() disgocache.Caches { return disgocache.New(opts) }, guilds)
	if err != nil {
		t.Fatal(err)
	}
	compactPerGuild, err := measureHeapPerGuild(func() disgocache.Caches { return New(WithConfigOpts(opts)) }, guilds)
	if err != nil {
		t.Fatal(err)
	}
	if compactPerGuild > 0.75*disgoPerGuild {
		t.Errorf("compact cache %.0f B/guild is not within 0.75 of disgo's %.0f", compactPerGuild, disgoPerGuild)
	}
}

func TestMeasureHeapPerGuildNoGuilds(t *testing.T) {
	t.Parallel()
	if _, err := measureHeapPerGuild(newCompactAll, nil); !errors.Is(err, errNoGuilds) {
		t.Fatalf("err = %v, want errNoGuilds", err)
	}
}
