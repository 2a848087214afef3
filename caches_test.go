package megane

import (
	"reflect"
	"testing"

	"github.com/disgoorg/disgo/cache"

	mcache "github.com/megane-go/megane/cache"
)

// TestCacheChoice checks which caches each cluster's client gets: Megane's
// compact member cache by default, disgo's with WithDisgoCache, and none at
// all with WithCacheFlags(0), which disgo's own cache.WithCaches cannot
// express through WithClientOpts (it only adds flags).
func TestCacheChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []Option
		wantCompact bool
		wantMembers bool
	}{
		{"default", nil, true, true},
		{"disgo", []Option{WithDisgoCache()}, false, true},
		{"flags 0", []Option{WithCacheFlags(0)}, true, false},
		{"guilds only", []Option{WithCacheFlags(cache.FlagGuilds)}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 2)
			tl := newTally()
			m, err := New(fake.Token(), append(append(baseOpts(fake, tl), WithClusters(1), WithWorker(workerOf(tl))), tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			run(t, m)
			waitAllReady(t, tl)
			c, err := m.Cluster(0)
			if err != nil {
				t.Fatal(err)
			}
			caches := c.Client().Caches
			compact := reflect.TypeOf(caches.MemberCache()) == reflect.TypeOf(mcache.NewMemberCache().MemberCache())
			if compact != tt.wantCompact {
				t.Errorf("compact member cache = %v, want %v", compact, tt.wantCompact)
			}
			if got := caches.MembersAllLen() > 0; got != tt.wantMembers {
				t.Errorf("members cached = %v (%d), want %v", got, caches.MembersAllLen(), tt.wantMembers)
			}
			if tt.name == "flags 0" && caches.GuildsLen() != 0 {
				t.Errorf("flags 0 cached %d guilds", caches.GuildsLen())
			}
		})
	}
}
