package discordtest

import (
	"errors"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// TestClientLatencyTimesFramesOnArrival: with WithClientLatency the server
// acts on a client frame only after its seeded delay and times it then. The
// identify gate closes the bucket from the delayed arrival, so a second
// IDENTIFY sent at once (latency off) breaches a 1 ns window that the
// undelayed arrival would have left open. The wait itself is replaced by a
// hook that records the arrival time and returns at once: nothing sleeps.
func TestClientLatencyTimesFramesOnArrival(t *testing.T) {
	t.Parallel()
	const seed, maxDelay = 7, time.Hour
	want := newClientLatency(maxDelay, seed).next() // the first delay the server draws
	if want < time.Minute {
		t.Fatalf("seed %d draws %v first; the test needs a seed whose first delay dwarfs the run", seed, want)
	}
	arrivals := make(chan time.Time, 8)
	hook := Option(func(c *config) {
		c.sleepUntil = func(at time.Time, _ <-chan struct{}) bool {
			arrivals <- at
			return true
		}
	})
	s := New(t, WithGuilds(2), WithIdentifyWindow(time.Nanosecond), WithClientLatency(maxDelay, seed), hook)

	before := time.Now()
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	after := time.Now()
	var at time.Time
	select {
	case at = <-arrivals:
	case <-time.After(readTimeout):
		t.Fatal("the IDENTIFY was not delayed")
	}
	if at.Before(before.Add(want)) || at.After(after.Add(want)) {
		t.Fatalf("IDENTIFY timed at %v, want read time + %v in [%v, %v]", at, want, before.Add(want), after.Add(want))
	}
	s.gate.mu.Lock()
	last := s.gate.last[0]
	s.gate.mu.Unlock()
	if !last.Equal(at) {
		t.Fatalf("identify gate closed bucket 0 at %v, want the delayed arrival %v", last, at)
	}
	if started := s.Ledger().Started(0, st.ready.SessionID); started.IsZero() {
		t.Fatal("Ledger.Started is zero for a live session")
	}

	s.SetClientLatency(0)
	c := dial(t, s, gateway.CompressionNone)
	c.hello()
	c.identify(s.Token(), [2]int{0, 1}, 0)
	if f := c.mustNext(); f.Op != opInvalidSession || string(f.D) != "false" {
		t.Fatalf("second IDENTIFY got op %d d=%s, want op 9 false (bucket breached)", f.Op, f.D)
	}
	if cs := s.Counters(); cs.BucketBreaches != 1 || cs.Identifies != 1 {
		t.Fatalf("BucketBreaches %d Identifies %d, want 1 and 1", cs.BucketBreaches, cs.Identifies)
	}
	select {
	case at := <-arrivals:
		t.Fatalf("a frame was delayed (to %v) with the latency off", at)
	default:
	}
}

// TestClientLatencyCloseEndsDelay: Close does not wait for a frame's
// latency (about half an hour for this seed) to pass; the delayed IDENTIFY
// is never acted on.
func TestClientLatencyCloseEndsDelay(t *testing.T) {
	t.Parallel()
	const seed = 7
	waiting := make(chan struct{}, 1)
	hook := Option(func(c *config) {
		c.sleepUntil = func(at time.Time, stop <-chan struct{}) bool {
			waiting <- struct{}{}
			return waitUntil(at, stop)
		}
	})
	s, err := Start(WithGuilds(1), WithClientLatency(time.Hour, seed), hook)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s, gateway.CompressionNone)
	c.hello()
	c.identify(s.Token(), [2]int{0, 1}, 0)
	select {
	case <-waiting:
	case <-time.After(readTimeout):
		t.Fatal("the IDENTIFY was not delayed")
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		s.Close()
	}()
	select {
	case <-closed:
	case <-time.After(readTimeout):
		t.Fatal("Close waited for a client frame's latency")
	}
	if n := s.Counters().Identifies; n != 0 {
		t.Fatalf("Identifies = %d, want 0: the frame was still being delayed", n)
	}
}

func TestClientLatencyGenerator(t *testing.T) {
	t.Parallel()
	const maxDelay = 50 * time.Millisecond
	a, b := newClientLatency(maxDelay, 3), newClientLatency(maxDelay, 3)
	for i := range 100 {
		da, db := a.next(), b.next()
		if da != db {
			t.Fatalf("draw %d: %v and %v from one seed", i, da, db)
		}
		if da < 0 || da > maxDelay {
			t.Fatalf("draw %d: %v outside [0, %v]", i, da, maxDelay)
		}
	}
	off := newClientLatency(0, 3)
	if d := off.next(); d != 0 {
		t.Fatalf("latency off drew %v", d)
	}
	// Off draws nothing: turned on, it continues the seed's sequence.
	off.max.Store(int64(maxDelay))
	if got, want := off.next(), newClientLatency(maxDelay, 3).next(); got != want {
		t.Fatalf("first draw after turning on = %v, want the seed's first %v", got, want)
	}
}

func TestClientLatencyOption(t *testing.T) {
	t.Parallel()
	_, err := Start(WithClientLatency(-time.Second, 1))
	var oe *OptionError
	if !errors.Is(err, ErrInvalidOption) || !errors.As(err, &oe) || oe.Option != "WithClientLatency" {
		t.Fatalf("Start(WithClientLatency(-1s)) = %v, want an *OptionError for WithClientLatency", err)
	}
	s := New(t, WithGuilds(1))
	s.SetClientLatency(-time.Second)
	if d := s.latency.next(); d != 0 {
		t.Fatalf("SetClientLatency(-1s) left a latency: drew %v", d)
	}
}

// TestLedgerStarted: each session's start time is recorded, in order of
// creation; an unknown session has none.
func TestLedgerStarted(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1), WithIdentifyWindow(0))
	first := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	second := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	l := s.Ledger()
	t1, t2 := l.Started(0, first.ready.SessionID), l.Started(0, second.ready.SessionID)
	if t1.IsZero() || t2.IsZero() {
		t.Fatalf("Started = %v, %v; want both set", t1, t2)
	}
	if t2.Before(t1) {
		t.Fatalf("second session started %v, before the first %v", t2, t1)
	}
	if got := l.Started(0, "unknown"); !got.IsZero() {
		t.Fatalf("Started(unknown) = %v, want zero", got)
	}
	if got := l.Started(1, first.ready.SessionID); !got.IsZero() {
		t.Fatalf("Started on another shard = %v, want zero", got)
	}
}
