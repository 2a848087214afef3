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

func TestCounterSignalsTargetOnce(t *testing.T) {
	t.Parallel()
	c := newCounter()
	const workers, each = 4, 250
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c.OnEvent(&events.MessageCreate{})
				c.OnEvent(&events.UserTypingStart{})
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.waitMsgs(ctx, workers*each); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if c.msgs.Load() != workers*each || c.mixed.Load() != 2*workers*each {
		t.Errorf("msgs %d mixed %d", c.msgs.Load(), c.mixed.Load())
	}
}

func TestCounterWaitsFail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		wait func(*counter, context.Context) error
	}{
		{"msgs", func(c *counter, ctx context.Context) error { return c.waitMsgs(ctx, 3) }},
		{"ready", func(c *counter, ctx context.Context) error { return c.waitReady(ctx, 2, 5) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter()
			c.OnEvent(&events.MessageCreate{})
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
	c := newCounter()
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
