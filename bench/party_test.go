package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"
)

// message returns a MESSAGE_CREATE event of shard.
func message(shard int) *events.MessageCreate {
	return &events.MessageCreate{GenericMessage: &events.GenericMessage{GenericEvent: events.NewGenericEvent(nil, 0, shard)}}
}

func TestCounterSignalsWhenEveryShardIsDone(t *testing.T) {
	t.Parallel()
	const shards, each = 4, 250
	c := newCounter(shards)
	for round := range 2 {
		c.expect(each)
		var wg sync.WaitGroup
		// Shard 0 stays one short until the others are done: the wait
		// must not end before it.
		for shard := 1; shard < shards; shard++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					c.OnEvent(message(shard))
					c.OnEvent(&events.UserTypingStart{GenericEvent: events.NewGenericEvent(nil, 0, shard)})
				}
			}()
		}
		for range each - 1 {
			c.OnEvent(message(0))
		}
		wg.Wait()
		select {
		case <-c.hit:
			t.Fatalf("round %d: signalled with shard 0 one message short", round)
		default:
		}
		c.OnEvent(message(0))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := c.waitMsgs(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := c.msgs(), int64(2*shards*each); got != want {
		t.Errorf("msgs = %d; want %d", got, want)
	}
	if got, want := c.mixed(), int64(2*(2*(shards-1)*each+each)); got != want {
		t.Errorf("mixed = %d; want %d", got, want)
	}
}

func TestCounterWaitsFail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		wait func(*counter, context.Context) error
	}{
		{"msgs", func(c *counter, ctx context.Context) error { c.expect(3); return c.waitMsgs(ctx) }},
		{"ready", func(c *counter, ctx context.Context) error { return c.waitReady(ctx, 2, 5) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(1)
			c.OnEvent(message(0))
			c.OnEvent(&events.Ready{})
			c.OnEvent(&events.GuildReady{})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := tc.wait(c, ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v; want context.Canceled", err)
			}
		})
	}
}

func TestCounterReadyCountsShardsAndGuilds(t *testing.T) {
	t.Parallel()
	c := newCounter(2)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done <- c.waitReady(ctx, 2, 3)
	}()
	for _, e := range []bot.Event{&events.Ready{}, &events.GuildReady{}, &events.GuildAvailable{}, &events.Ready{}, &events.GuildJoin{}} {
		c.OnEvent(e)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestCounterRunsTheHandlerWork checks that a counter with work spins on
// every MESSAGE_CREATE (its slot keeps the result) and one without does
// not.
func TestCounterRunsTheHandlerWork(t *testing.T) {
	t.Parallel()
	idle, busy := newCounter(1), newCounter(1)
	busy.work = 100
	for _, c := range []*counter{idle, busy} {
		c.OnEvent(message(0))
	}
	if got := idle.slots[0].sink.Load(); got != 0 {
		t.Errorf("a counter without work spun: sink %d", got)
	}
	if got, want := busy.slots[0].sink.Load(), spin(0, 100); got != want || got == 0 {
		t.Errorf("sink = %d; want spin(0, 100) = %d", got, want)
	}
	if spin(0, 100) == spin(0, 101) {
		t.Error("one more round of spin left its result unchanged")
	}
}
