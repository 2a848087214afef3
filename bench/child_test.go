package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/megane-go/megane/discordtest"
)

func TestChildErrorsMatch(t *testing.T) {
	t.Parallel()
	l := testLauncher(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out struct{}
	err := l.run(ctx, "no-such-role", struct{}{}, &out)
	var ce *childError
	if !errors.Is(err, ErrChild) || !errors.As(err, &ce) {
		t.Fatalf("err = %v; want a *childError matching ErrChild", err)
	}
	if ce.Role != "no-such-role" || !strings.Contains(ce.Tail, "unknown child role") {
		t.Errorf("childError = %+v; want the role and the child's stderr", ce)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	t.Parallel()
	var tb tailBuffer
	for range 1000 {
		_, _ = tb.Write([]byte("0123456789"))
	}
	_, _ = tb.Write([]byte("END"))
	s := tb.String()
	if len(s) != tailSize || !strings.HasSuffix(s, "END") {
		t.Errorf("tail of %d bytes ending %q", len(s), s[len(s)-5:])
	}
}

// TestFakeChildAndControl starts the fake as a child process, reads its
// addresses and drives its control endpoint.
func TestFakeChildAndControl(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fake, addr, err := startFake(ctx, testLauncher(t), fakeSpec{Shards: 2, Guilds: 4, Members: 2, Channels: 3, Roles: 2, MaxConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.stop()
	if !strings.HasPrefix(addr.APIURL, "http://127.0.0.1:") || !strings.HasSuffix(addr.APIURL, "/api/v10") || addr.Token == "" {
		t.Errorf("addresses %+v", addr)
	}
	ctl := newControl(addr.Control)
	defer ctl.close()
	if err := ctl.emit(5); err == nil || !strings.Contains(err.Error(), discordtest.ErrNoSession.Error()) {
		t.Errorf("emit with no session: %v; want the fake's no-session error", err)
	}
	if err := ctl.rate(0); err != nil {
		t.Errorf("rate: %v", err)
	}
	c, err := ctl.counters()
	if err != nil || c.Connections != 0 || c.SessionStartRemaining == 0 {
		t.Errorf("counters %+v, %v", c, err)
	}
}

// TestBotChildMeasuresMegane runs the whole throughput pipeline at toy
// size: a fake child, a megane bot child, fixed-work MESSAGE_CREATE
// repetitions and mixed windows.
func TestBotChildMeasuresMegane(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := testLauncher(t)
	spec := toyBotSpec(ctx, t, l, benchPlan{WarmupPerShard: 20, RepSeconds: 0.01, MinPerShard: 30, Reps: 3, MixedWindowS: 0.05})
	var res botResult
	if err := l.run(ctx, "bot", spec, &res); err != nil {
		t.Fatal(err)
	}
	if res.Msg.Reps != 3 || res.Mixed.Reps != 3 {
		t.Fatalf("reps %d and %d; want 3 each", res.Msg.Reps, res.Mixed.Reps)
	}
	for _, s := range res.Msg.Samples {
		if s.Events < 60 || s.Events%2 != 0 {
			t.Errorf("a repetition counted %d events; want at least 30 per shard, the same on each", s.Events)
		}
	}
	if res.Msg.EventsPerCPUS <= 0 || res.Mixed.Samples[0].Events <= 0 {
		t.Errorf("no rates: %+v", res)
	}
}

func TestTailBufferFindsThePanicLine(t *testing.T) {
	t.Parallel()
	var tb tailBuffer
	_, _ = tb.Write([]byte("some log\npanic: "))
	if got := tb.panicLine(); got != "" {
		t.Errorf("panic line %q before the line is whole", got)
	}
	_, _ = tb.Write([]byte("runtime error: invalid memory address\n\ngoroutine 1 [running]:\n"))
	for range 500 {
		_, _ = tb.Write([]byte("main.frame(...)\n\t/src/x.go:1 +0x1\n"))
	}
	if got := tb.panicLine(); got != "panic: runtime error: invalid memory address" {
		t.Errorf("panic line %q", got)
	}
	err := &childError{Role: "bot", Err: errors.New("exit status 2"), Tail: tb.String(), Panic: tb.panicLine()}
	if !strings.HasSuffix(err.Error(), "panic: runtime error: invalid memory address") {
		t.Errorf("error %q does not end with the panic line", err.Error())
	}
}
