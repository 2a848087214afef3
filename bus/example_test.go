package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/megane-go/megane/bus"
)

// Example shows a cluster attaching a mailbox, serving it, and answering a
// typed request. Cluster 0 is an ordinary cluster.
func Example() {
	b := bus.New()

	var mux bus.Mux
	bus.Handle(&mux, "upper", func(ctx context.Context, s string) (string, error) {
		return strings.ToUpper(s), nil
	})
	mb, err := b.Attach(bus.Cluster(0), &mux)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- mb.Serve(ctx) }() // the owner drains its own mailbox

	got, err := bus.Request[string](context.Background(), b, bus.Manager(), bus.Cluster(0), "upper", "megane")
	fmt.Println(got, err)

	_, err = bus.Request[string](context.Background(), b, bus.Manager(), bus.Cluster(9), "upper", "x")
	fmt.Println(errors.Is(err, bus.ErrNoTarget))

	stop()
	<-served
	// Output:
	// MEGANE <nil>
	// true
}

// ExampleHandle registers a typed command on a Mux. The function gets its
// request typed, whether the sender passed the value in-process or its JSON
// (as a message from another host carries it); a payload of another type
// is refused before the function runs.
func ExampleHandle() {
	type move struct {
		X, Y int
	}
	var mux bus.Mux
	bus.Handle(&mux, "move", func(ctx context.Context, m move) (int, error) {
		return m.X + m.Y, nil
	})
	b := bus.New()
	mb, _ := b.Attach(bus.Service("board"), &mux)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- mb.Serve(ctx) }()

	for _, payload := range []any{move{X: 1, Y: 2}, json.RawMessage(`{"X": 3, "Y": 4}`), json.RawMessage(`{"X": "five"}`), "up"} {
		n, err := bus.Request[int](context.Background(), b, bus.Manager(), bus.Service("board"), "move", payload)
		var te *bus.TypeError
		fmt.Println(n, err == nil, errors.Is(err, bus.ErrInvalidPayload), errors.As(err, &te))
	}
	stop()
	<-served
	// Output:
	// 3 true false false
	// 7 true false false
	// 0 false true false
	// 0 false false true
}

// ExampleBroadcast asks every cluster for its guild count while cluster 1 is
// restarting: the broadcast still answers for the others.
func ExampleBroadcast() {
	b := bus.New()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 3)
	for id := range 3 {
		var mux bus.Mux
		bus.Handle(&mux, "guilds", func(context.Context, struct{}) (int, error) { return 100 + id, nil })
		mb, _ := b.Attach(bus.Cluster(id), &mux)
		if id == 1 {
			mb.Detach() // restarting
			served <- nil
			continue
		}
		go func() { served <- mb.Serve(ctx) }()
	}

	for _, r := range bus.Broadcast[int](context.Background(), b, bus.Manager(), bus.AllClusters(), "guilds", nil) {
		if r.Err != nil {
			fmt.Printf("%v: %v\n", r.From, errors.Is(r.Err, bus.ErrTargetStopped))
			continue
		}
		fmt.Printf("%v: %d guilds\n", r.From, r.Value)
	}
	stop()
	for range 3 {
		<-served
	}
	// Output:
	// cluster/0: 100 guilds
	// cluster/1: true
	// cluster/2: 102 guilds
}

type shardSet struct{ shards []int }

// ExampleEvalFunc registers a named function, which takes a JSON argument and
// so may later run on another host, and runs it on every cluster.
func ExampleEvalFunc() {
	b := bus.New()
	_ = bus.RegisterFunc(b, "shards.count", func(ctx context.Context, set *shardSet, atLeast int) (bool, error) {
		return len(set.shards) >= atLeast, nil
	})
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 2)
	for id, set := range []*shardSet{{shards: []int{0, 1}}, {shards: []int{2}}} {
		mb, _ := b.Attach(bus.Cluster(id), nil, bus.WithEvalTarget(set))
		go func() { served <- mb.Serve(ctx) }()
	}

	res, err := bus.EvalFunc[int, bool](context.Background(), b, bus.Manager(), bus.AllClusters(), "shards.count", 2)
	for _, r := range res {
		fmt.Println(r.From, r.Value, r.Err)
	}
	fmt.Println(err)
	stop()
	<-served
	<-served
	// Output:
	// cluster/0 true <nil>
	// cluster/1 false <nil>
	// <nil>
}

// ExampleEval runs an in-process closure on one cluster, found through the
// guild it owns.
func ExampleEval() {
	b := bus.New(bus.WithGuildResolver(func(guild uint64) (int, bool) { return int(guild % 2), true }))
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 2)
	for id := range 2 {
		mb, _ := b.Attach(bus.Cluster(id), nil, bus.WithEvalTarget(fmt.Sprintf("state of cluster %d", id)))
		go func() { served <- mb.Serve(ctx) }()
	}
	res, _ := bus.Eval(context.Background(), b, bus.Manager(), bus.GuildOwner(81384788765712385), func(ctx context.Context, state string) (string, error) {
		return state, nil
	})
	fmt.Println(res[0].From, res[0].Value)
	stop()
	<-served
	<-served
	// Output:
	// cluster/1 state of cluster 1
}

// ExampleBus_Send shows the full-mailbox policy: Send never blocks.
func ExampleBus_Send() {
	b := bus.New()
	mb, _ := b.Attach(bus.Service("twitch"), nil, bus.WithCapacity(1))
	ctx := context.Background()
	fmt.Println(b.Send(ctx, bus.Manager(), bus.Service("twitch"), "poll", nil))
	err := b.Send(ctx, bus.Manager(), bus.Service("twitch"), "poll", nil) // nobody drained the first
	fmt.Println(errors.Is(err, bus.ErrMailboxFull), mb.Stats().Full)
	// Output:
	// <nil>
	// true 1
}

// ExampleParseAddress shows the text form of addresses, which is also their
// JSON form.
func ExampleParseAddress() {
	for _, s := range []string{"cluster/0", "service/twitch", "cluster/*", "guild/81384788765712384", "cluster/-1"} {
		a, err := bus.ParseAddress(s)
		fmt.Println(a, err != nil)
	}
	// Output:
	// cluster/0 false
	// service/twitch false
	// cluster/* false
	// guild/81384788765712384 false
	// none true
}
