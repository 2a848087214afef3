package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
)

// TestFatalCloseCodes checks that each fatal close code stops the shard
// with its own sentinel.
func TestFatalCloseCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code int
		want error
	}{
		{4004, ErrInvalidToken},
		{4010, ErrInvalidShard},
		{4011, ErrShardingRequired},
		{4012, ErrInvalidAPIVersion},
		{4013, ErrInvalidIntents},
		{4014, ErrDisallowedIntents},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			srv := discordtest.New(t, fakeOpts()...)
			h := newHooks()
			s := openShard(t, srv, 0, 1, nil, WithEventHook(h.hook))
			if err := srv.CloseShard(0, tc.code); err != nil {
				t.Fatal(err)
			}
			select {
			case <-s.Done():
			case <-time.After(testWait):
				t.Fatal("shard did not stop")
			}
			err := s.Err()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Err = %v, want %v", err, tc.want)
			}
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("Err = %v, want a *CloseError with code %d", err, tc.code)
			}
			if countEvents[Fatal](h) != 1 {
				t.Fatalf("fatal events = %d", countEvents[Fatal](h))
			}
			if got := srv.Counters().Identifies; got != 1 {
				t.Fatalf("identifies = %d, want 1 (no retry)", got)
			}
		})
	}
}

// TestReidentifyCloseCodes checks that 4003, 4007 and 4009 start a new
// session.
func TestReidentifyCloseCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{4003, 4007, 4009} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			srv := discordtest.New(t, fakeOpts()...)
			r := newRecorder()
			s := openShard(t, srv, 0, 1, r.handle)
			old := currentSession(t, s)
			if err := srv.CloseShard(0, code); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a new session", func() bool {
				st := s.State()
				return st.Resumable() && st.SessionID != old
			})
			if got := srv.Counters().Identifies; got != 2 {
				t.Fatalf("identifies = %d, want 2", got)
			}
			if err := srv.Emit(0, 5); err != nil {
				t.Fatal(err)
			}
			assertNoLoss(t, srv, s, r, 5)
		})
	}
}

// TestResumingFaults checks every fault that must resume the session: the
// other close codes, op 7, op 9 d:true and a dropped TCP connection. No
// dispatch is lost or repeated across it.
func TestResumingFaults(t *testing.T) {
	t.Parallel()
	type fault struct {
		name   string
		inject func(*discordtest.Server) error
	}
	faults := []fault{
		{"op7", func(s *discordtest.Server) error { return s.Reconnect(0) }},
		{"op9-resumable", func(s *discordtest.Server) error { return s.InvalidSession(0, true) }},
		{"drop", func(s *discordtest.Server) error { return s.DropShard(0) }},
	}
	for _, code := range []int{1001, 1011, 4000, 4001, 4002, 4005, 4008} {
		faults = append(faults, fault{fmt.Sprintf("close%d", code), func(s *discordtest.Server) error { return s.CloseShard(0, code) }})
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			srv := discordtest.New(t, fakeOpts()...)
			r := newRecorder()
			h := newHooks()
			logs := &syncBuffer{}
			debug := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := openShard(t, srv, 0, 1, r.handle, WithEventHook(h.hook), WithLogger(debug))
			session := currentSession(t, s)
			emitWritten(t, srv, s, 10)
			if err := f.inject(srv); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a resume", func() bool { return countEvents[Resumed](h) == 1 }, h.wake)
			if err := srv.Emit(0, 10); err != nil {
				t.Fatal(err)
			}
			if currentSession(t, s) != session {
				t.Fatal("session changed; want a resume")
			}
			c := srv.Counters()
			if c.Identifies != 1 || c.Resumes != 1 {
				t.Fatalf("identifies=%d resumes=%d, want 1 and 1", c.Identifies, c.Resumes)
			}
			assertNoLoss(t, srv, s, r, 20)
			if st := s.Stats(); st.Resumes != 1 || st.Reconnects != 1 {
				t.Fatalf("stats = %+v", st)
			}
			if out := logs.String(); strings.Contains(out, srv.Token()) || !strings.Contains(out, "shard=0") {
				t.Fatal("the token appears in the logs, or the shard attribute is missing")
			}
		})
	}
}

// TestInvalidSessionNotResumable checks op 9 d:false: wait, then identify.
func TestInvalidSessionNotResumable(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	r := newRecorder()
	h := newHooks()
	s := openShard(t, srv, 0, 1, r.handle, WithEventHook(h.hook))
	old := currentSession(t, s)
	if err := srv.InvalidSession(0, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a second READY", func() bool { return countEvents[Ready](h) == 2 }, h.wake)
	if currentSession(t, s) == old {
		t.Fatal("kept the invalidated session")
	}
	if got := srv.Counters().Identifies; got != 2 {
		t.Fatalf("identifies = %d, want 2", got)
	}
	if err := srv.Emit(0, 5); err != nil {
		t.Fatal(err)
	}
	assertNoLoss(t, srv, s, r, 5)
}

// TestHeartbeatRequest checks that op 1 from the gateway is answered at
// once with a heartbeat (the fake's heartbeat interval is an hour, so any
// beat is an answer).
func TestHeartbeatRequest(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts(discordtest.WithHeartbeatInterval(time.Hour))...)
	r := newRecorder()
	s := openShard(t, srv, 0, 1, r.handle, WithHeartbeatJitter(func() float64 { return 0.99 }), WithHeartbeatAckEvents(true))
	for i := range 3 {
		if err := srv.RequestHeartbeat(0); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the answer", func() bool { return srv.Counters().Heartbeats == int64(i+1) })
		eventually(t, "the ACK", func() bool { return s.Stats().Acks == uint64(i+1) })
	}
	if s.Latency() <= 0 {
		t.Fatalf("latency = %v after ACKs", s.Latency())
	}
	eventually(t, "heartbeat ACK events", func() bool { return r.count(gateway.EventTypeHeartbeatAck) == 3 }, r.wake)
}

// TestZombieResumes withholds ACKs: the shard must close the connection
// (not with 1000) and resume, losing nothing.
func TestZombieResumes(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts(discordtest.WithHeartbeatInterval(20*time.Millisecond))...)
	r := newRecorder()
	h := newHooks()
	s := openShard(t, srv, 0, 1, r.handle, WithEventHook(h.hook))
	session := currentSession(t, s)
	emitWritten(t, srv, s, 5)
	// With a 20 ms heartbeat a loaded machine may already have made the
	// shard a zombie and be reconnecting, with no live session for a moment.
	eventually(t, "ACKs withheld", func() bool { return srv.WithholdAcks(0, true) == nil })
	eventually(t, "zombie detection", func() bool { return s.Stats().Zombies >= 1 }, h.wake)
	if err := srv.WithholdAcks(0, false); err != nil {
		// The connection may already be gone; the new one ACKs.
		t.Logf("WithholdAcks(false): %v", err)
	}
	eventually(t, "a resume", func() bool { return countEvents[Resumed](h) >= 1 }, h.wake)
	if err := srv.Emit(0, 5); err != nil {
		t.Fatal(err)
	}
	if currentSession(t, s) != session {
		t.Fatal("session changed; want a resume")
	}
	assertNoLoss(t, srv, s, r, 10)
	var d Disconnected
	h.mu.Lock()
	for _, e := range h.events {
		if e, ok := e.(Disconnected); ok {
			d = e
			break
		}
	}
	h.mu.Unlock()
	if !errors.Is(d.Err, ErrZombie) {
		t.Fatalf("disconnect reason = %v, want ErrZombie", d.Err)
	}
}

// TestEarlyAckIsNotZombie runs many quick beats against a fake that ACKs
// after 1 ms: no ACK may be taken for a zombie. It is not parallel: under
// the load of the other tests an ACK can legitimately arrive after the
// next beat is due, which is a zombie.
func TestEarlyAckIsNotZombie(t *testing.T) {
	srv := discordtest.New(t, fakeOpts(
		discordtest.WithHeartbeatInterval(100*time.Millisecond),
		discordtest.WithAckDelay(time.Millisecond),
		discordtest.WithSendLimit(1_000_000, time.Second),
	)...)
	s := openShard(t, srv, 0, 1, nil, WithSendLimit(1_000_000, time.Second, 10))
	const beats = 25
	eventually(t, "many heartbeats", func() bool { return s.Stats().Acks >= beats })
	st := s.Stats()
	if st.Reconnects != 0 || st.Zombies != 0 {
		t.Fatalf("after %d beats: reconnects=%d zombies=%d, want 0", st.Heartbeats, st.Reconnects, st.Zombies)
	}
	if s.Latency() <= 0 {
		t.Fatal("no latency measured")
	}
}

// TestSlowHandlerBackpressure blocks the handler: the read loop must wait
// (counted), heartbeats must go on without a zombie verdict, and once the
// handler runs again nothing is lost.
func TestSlowHandlerBackpressure(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts(discordtest.WithHeartbeatInterval(200*time.Millisecond))...)
	r := newRecorder()
	gate := make(chan struct{})
	var once = make(chan struct{}, 1)
	blocking := func(g gatewayT, typ eventTypeT, seq int, d eventDataT) {
		if typ == "MESSAGE_CREATE" {
			select {
			case once <- struct{}{}:
				<-gate // the first MESSAGE_CREATE blocks until released
			default:
			}
		}
		r.handle(g, typ, seq, d)
	}
	s := openShard(t, srv, 0, 1, blocking, WithDispatchBuffer(4))
	session := currentSession(t, s)
	if err := srv.Emit(0, 50); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a full queue", func() bool { return s.Stats().QueueFullWaits >= 1 })
	beats := srv.Counters().Heartbeats
	eventually(t, "heartbeats while blocked", func() bool { return srv.Counters().Heartbeats >= beats+3 })
	st := s.Stats()
	if st.Zombies != 0 || st.Reconnects != 0 {
		t.Fatalf("blocked handler caused zombies=%d reconnects=%d", st.Zombies, st.Reconnects)
	}
	if st.QueueDepth != 4 {
		t.Fatalf("queue depth = %d, want 4 (full)", st.QueueDepth)
	}
	// The read loop holds a dispatch it could not queue; State must not
	// count it.
	if got, written := s.State().Seq, srv.Ledger().LastSeq(0, session); got >= written {
		t.Fatalf("State claims seq %d of %d written, but the read loop is blocked", got, written)
	}
	close(gate)
	assertNoLoss(t, srv, s, r, 50)
	if s.Stats().Reconnects != 0 {
		t.Fatal("reconnected")
	}
}

// TestCloseDuringBlockedHandler closes the shard while the handler blocks:
// Close must return when its context ends, and State must not claim the
// dispatches the handler never got.
func TestCloseDuringBlockedHandler(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	gate := make(chan struct{})
	blocked := make(chan int, 1)
	r := newRecorder()
	blocking := func(g gatewayT, typ eventTypeT, seq int, d eventDataT) {
		if typ == "MESSAGE_CREATE" {
			select {
			case blocked <- seq:
			default:
			}
			<-gate
		}
		r.handle(g, typ, seq, d)
	}
	s := New(srv.Token(), 0, 1, blocking, shardOpts(srv, WithDispatchBuffer(2))...)
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Emit(0, 10); err != nil {
		t.Fatal(err)
	}
	// The handler is stuck in the first MESSAGE_CREATE; everything before
	// it was handled.
	first := <-blocked
	eventually(t, "a full queue", func() bool { return s.Stats().QueueFullWaits >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	s.CloseWithCode(ctx, 4000, "restart")
	if st := s.State(); st.Seq != first-1 || st.SessionID == "" {
		t.Fatalf("State = %+v after an abandoned queue, want seq %d (the last handled)", st, first-1)
	}
	close(gate) // lets the dispatch goroutine finish (goleak checks it)
}
