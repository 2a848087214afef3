package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

func TestReadiness(t *testing.T) {
	t.Parallel()
	ready := func(ids ...snowflake.ID) gateway.EventReady {
		var gs []discord.UnavailableGuild
		for _, id := range ids {
			gs = append(gs, discord.UnavailableGuild{ID: id, Unavailable: true})
		}
		return gateway.EventReady{Guilds: gs}
	}
	guild := func(id snowflake.ID) gateway.EventGuildCreate {
		var g gateway.EventGuildCreate
		g.ID = id
		return g
	}
	type step struct {
		shard int
		t     gateway.EventType
		ev    gateway.EventData
		// resumed: call resumed(shard) instead
		resumed bool
	}
	tests := []struct {
		name     string
		steps    []step
		wantAll  bool
		wantLate []int
	}{
		{"nothing yet", nil, false, nil},
		{"ready without guilds", []step{{0, gateway.EventTypeReady, ready(), false}, {1, gateway.EventTypeReady, ready(), false}}, true, nil},
		{"guilds pending", []step{{0, gateway.EventTypeReady, ready(1, 2), false}, {1, gateway.EventTypeResumed, nil, false}}, false, nil},
		{"guilds arrived", []step{
			{0, gateway.EventTypeReady, ready(1, 2), false}, {0, gateway.EventTypeGuildCreate, guild(1), false},
			{0, gateway.EventTypeGuildCreate, guild(2), false}, {1, "", nil, true},
		}, true, nil},
		{"foreign guild ignored", []step{
			{0, gateway.EventTypeReady, ready(1), false}, {0, gateway.EventTypeGuildCreate, guild(9), false}, {1, "", nil, true},
		}, false, nil},
		{"unknown shard ignored", []step{{7, gateway.EventTypeReady, ready(), false}}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReadiness([]int{0, 1})
			for _, s := range tt.steps {
				if s.resumed {
					r.resumed(s.shard)
					continue
				}
				r.observe(s.shard, s.t, s.ev)
			}
			all, _, late, _ := r.check(time.Now(), time.Hour)
			if all != tt.wantAll || !slices.Equal(late, tt.wantLate) {
				t.Fatalf("check = %v %v, want %v %v", all, late, tt.wantAll, tt.wantLate)
			}
		})
	}
}

func TestReadinessTimeout(t *testing.T) {
	t.Parallel()
	r := newReadiness([]int{0})
	r.observe(0, gateway.EventTypeReady, gateway.EventReady{Guilds: []discord.UnavailableGuild{{ID: 5}}})
	now := time.Now()
	all, next, late, _ := r.check(now, time.Minute)
	if all || next.IsZero() || late != nil {
		t.Fatalf("before the timeout: %v %v %v", all, next, late)
	}
	all, _, late, changed := r.check(next, time.Minute)
	if !all || !slices.Equal(late, []int{0}) {
		t.Fatalf("at the timeout: %v %v", all, late)
	}
	if changed != nil {
		t.Fatal("a change channel after all ready")
	}
}

// TestReadinessChangeRightAfterCheck: the last GUILD_CREATE may be
// observed by the executor right after the attempt's check found a shard
// pending. The channel the check returned must then be closed, or the
// attempt waits for a change that never comes and the cluster is never
// ready (seen under load in the cluster and root tests: a restart that
// never became ready).
func TestReadinessChangeRightAfterCheck(t *testing.T) {
	t.Parallel()
	r := newReadiness([]int{0})
	r.observe(0, gateway.EventTypeReady, gateway.EventReady{Guilds: []discord.UnavailableGuild{{ID: 5}}})
	all, _, _, changed := r.check(time.Now(), time.Hour)
	if all || changed == nil {
		t.Fatalf("check = %v, %v: want pending with a change channel", all, changed)
	}
	var g gateway.EventGuildCreate
	g.ID = 5
	r.observe(0, gateway.EventTypeGuildCreate, g) // between the check and the wait
	select {
	case <-changed:
	default:
		t.Fatal("the change after the check did not close its channel")
	}
	if all, _, _, _ := r.check(time.Now(), time.Hour); !all {
		t.Fatal("not all ready after the last guild")
	}
}

// TestForwarder checks that the forwarder hands events to the current
// incarnation only, drops events of another attempt's client, and turns a
// listener panic into a crash.
func TestForwarder(t *testing.T) {
	t.Parallel()
	client, other := &bot.Client{}, &bot.Client{}
	a := &attempt{client: client, crashc: make(chan error, 1), exec: newExecutor(1, 0, nil, nil)}
	var f forwarder
	inc := newIncarnation(context.Background(), a, nil)
	var got []int
	inc.add([]bot.EventListener{listenerFunc(func(e bot.Event) {
		got = append(got, e.SequenceNumber())
		if e.SequenceNumber() == 3 {
			panic("listener bug")
		}
	})})
	f.cur.Store(inc)
	f.OnEvent(events.NewGenericEvent(client, 1, 0))
	f.OnEvent(events.NewGenericEvent(other, 2, 0)) // a late event of an old client
	f.OnEvent(events.NewGenericEvent(client, 3, 0))
	f.OnEvent(events.NewGenericEvent(client, 4, 0)) // after the crash: dropped
	if !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("delivered %v, want [1 3]", got)
	}
	select {
	case err := <-a.crashc:
		pe, ok := err.(*PanicError)
		if !ok || pe.Value != "listener bug" || len(pe.Stack) == 0 {
			t.Fatalf("crash = %v", err)
		}
	default:
		t.Fatal("no crash")
	}
	select {
	case <-a.exec.abandoned:
	default:
		t.Fatal("dispatch not stopped after the crash")
	}
}
