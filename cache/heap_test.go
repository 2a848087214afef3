package cache

import (
	"errors"
	"testing"

	disgocache "github.com/disgoorg/disgo/cache"
)

// TestMeasureHeapPerGuild checks the memory target on a small sample. It
// is deliberately not parallel: a heap measurement must run alone, and Go
// runs the parallel tests only after the sequential ones.
func TestMeasureHeapPerGuild(t *testing.T) {
	gs := guildsFor(t, 30, plainShape)
	def, err := MeasureHeapPerGuild(newDisgoAll, gs)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := MeasureHeapPerGuild(newCompactAll, gs)
	if err != nil {
		t.Fatal(err)
	}
	none, err := MeasureHeapPerGuild(func() disgocache.Caches { return New() }, gs)
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

func TestMeasureHeapPerGuildNoGuilds(t *testing.T) {
	t.Parallel()
	if _, err := MeasureHeapPerGuild(newCompactAll, nil); !errors.Is(err, ErrNoGuilds) {
		t.Fatalf("err = %v, want ErrNoGuilds", err)
	}
}
