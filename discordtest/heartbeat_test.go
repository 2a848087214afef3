package discordtest

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// waitFor polls cond until it holds, failing the test after readTimeout. It
// is for conditions no event signals.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met before the deadline")
		case <-tick.C:
		}
	}
}

func TestAckQueueHonoursDelay(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	q := ackQueue{delay: 10 * time.Millisecond}
	q.add(t0)
	q.add(t0.Add(3 * time.Millisecond))
	steps := []struct {
		at   time.Duration
		want int
	}{
		{0, 0}, {9 * time.Millisecond, 0}, {10 * time.Millisecond, 1},
		{12 * time.Millisecond, 0}, {13 * time.Millisecond, 1}, {time.Hour, 0},
	}
	for _, st := range steps {
		if got := q.pop(t0.Add(st.at)); got != st.want {
			t.Fatalf("at %v: %d due, want %d", st.at, got, st.want)
		}
	}
	if _, ok := q.next(); ok {
		t.Error("queue not empty")
	}
}

func TestHeartbeatAckNotBeforeDelay(t *testing.T) {
	t.Parallel()
	const delay = 40 * time.Millisecond
	s := New(t, WithGuilds(1), WithAckDelay(delay), WithHeartbeatInterval(1234*time.Millisecond))
	c := dial(t, s, gateway.CompressionNone)
	if f := c.hello(); string(f.D) != `{"heartbeat_interval":1234,"_trace":["[\"discordtest\",{\"micros\":0}]"]}` {
		t.Errorf("HELLO d=%s", f.D)
	}
	for _, d := range []any{nil, 17} {
		sent := time.Now()
		c.send(opHeartbeat, d)
		c.until(isOp(opHeartbeatACK))
		// The server reads the beat after sent and schedules its ACK delay
		// after that, so this holds however slow the machine is.
		if got := time.Since(sent); got < delay {
			t.Fatalf("ACK %v after the beat, want at least %v", got, delay)
		}
	}
}

func TestWithholdAcksAndRequestHeartbeat(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(1))
	st := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	if err := s.WithholdAcks(0, true); err != nil {
		t.Fatal(err)
	}
	st.send(opHeartbeat, 2)
	// The beat is read asynchronously; nothing the client can observe
	// tells it the server has read it, so poll the counter (last resort).
	waitFor(t, func() bool { return s.Counters().Heartbeats == 1 })
	if err := s.WithholdAcks(0, false); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestHeartbeat(0); err != nil {
		t.Fatal(err)
	}
	if f := st.mustNext(); f.Op != opHeartbeat {
		t.Fatalf("got op %d, want the server's op 1", f.Op)
	}
	st.send(opHeartbeat, 2)
	st.until(isOp(opHeartbeatACK))
	// The withheld beat was never scheduled, so exactly one ACK exists.
	if cs := s.Counters(); cs.Heartbeats != 2 || cs.Acks != 1 {
		t.Fatalf("Heartbeats %d Acks %d, want 2 and 1", cs.Heartbeats, cs.Acks)
	}
}
