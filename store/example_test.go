package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/megane-go/megane/store"
)

func ExampleOpen() {
	s := store.New()
	defer s.Close()

	prefixes, err := store.Open[uint64, string](s, "prefixes")
	if err != nil {
		panic(err)
	}
	prefixes.Set(81384788765712384, "!")
	prefixes.Set(41771983423143937, "") // the empty string is a value

	p, ok := prefixes.Get(41771983423143937)
	fmt.Printf("%q %v\n", p, ok)
	_, ok = prefixes.Get(1)
	fmt.Println(ok)

	// The same name with other types is refused.
	_, err = store.Open[string, string](s, "prefixes")
	fmt.Println(errors.Is(err, store.ErrTypeMismatch))
	// Output:
	// "" true
	// false
	// true
}

func ExampleBucket_Compute() {
	s := store.New()
	defer s.Close()
	hits, _ := store.Open[string, int](s, "hits")

	for range 3 {
		hits.Compute("ping", func(old int, _ bool) (int, store.Op) {
			return old + 1, store.OpUpdate
		})
	}
	n, _ := hits.Get("ping")
	fmt.Println(n)

	// Delete the counter once it reaches 3.
	_, present := hits.Compute("ping", func(old int, _ bool) (int, store.Op) {
		if old >= 3 {
			return 0, store.OpDelete
		}
		return old, store.OpKeep
	})
	fmt.Println(present)
	// Output:
	// 3
	// false
}

func ExampleCompareAndSwap() {
	s := store.New()
	defer s.Close()
	state, _ := store.Open[int, string](s, "cluster-state")

	state.Set(0, "starting")
	fmt.Println(store.CompareAndSwap(state, 0, "starting", "ready"))
	fmt.Println(store.CompareAndSwap(state, 0, "starting", "ready"))
	v, _ := state.Get(0)
	fmt.Println(v)
	// Output:
	// true
	// false
	// ready
}

func ExampleBucket_SetTTL() {
	s := store.New(store.WithSweepInterval(time.Minute))
	defer s.Close()
	cooldowns, _ := store.Open[string, bool](s, "cooldowns")

	cooldowns.SetTTL("user:1", true, time.Hour)
	cooldowns.SetTTL("user:2", false, -1) // ttl <= 0: no expiry, like Set
	fmt.Println(cooldowns.Has("user:1"), cooldowns.Len())
	// Output:
	// true 2
}

func ExampleBucket_Watch() {
	s := store.New()
	defer s.Close()
	guilds, _ := store.Open[uint64, string](s, "guild-names")

	ctx, cancel := context.WithCancel(context.Background())
	changes, err := guilds.Watch(ctx, store.WithWatchBuffer(16))
	if err != nil {
		panic(err)
	}
	guilds.Set(1, "Megane")
	guilds.Delete(1)
	cancel()

	for c := range changes { // ends when the channel closes
		fmt.Println(c.Kind, c.Key, c.Value)
	}
	// Output:
	// KindSet 1 Megane
	// KindDelete 1 Megane
}
