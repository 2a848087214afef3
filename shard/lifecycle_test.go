package shard

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
)

func TestOpenReadyClose(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	r := newRecorder()
	h := newHooks()
	s := New(srv.Token(), 0, 1, r.handle, shardOpts(srv, WithEventHook(h.hook))...)
	if s.Status() != gateway.StatusUnconnected {
		t.Fatalf("status before Open = %v", s.Status())
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if s.Status() != gateway.StatusReady {
		t.Fatalf("status after Open = %v, want Ready", s.Status())
	}
	guilds := len(srv.GuildIDs(0, 1))
	eventually(t, "every GUILD_CREATE", func() bool { return r.count(gateway.EventTypeGuildCreate) == guilds }, r.wake)
	if r.count(gateway.EventTypeReady) != 1 {
		t.Fatalf("READY handled %d times", r.count(gateway.EventTypeReady))
	}
	if err := s.Open(t.Context()); !errors.Is(err, ErrAlreadyOpen) {
		t.Fatalf("second Open = %v, want ErrAlreadyOpen", err)
	}
	if st := s.State(); !st.Resumable() || st.ResumeURL == "" || st.Seq != guilds+1 {
		t.Fatalf("State = %+v, want a session at seq %d", st, guilds+1)
	}
	if got := s.Stats(); got.Identifies != 1 || got.Events != uint64(guilds+1) || got.Resumes != 0 {
		t.Fatalf("Stats = %+v", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	s.Close(ctx)
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("Err after Close = %v", s.Err())
	}
	if st := s.State(); st.Resumable() {
		t.Fatalf("State after Close(1000) = %+v, want none", st)
	}
	if err := s.Send(ctx, gateway.OpcodePresenceUpdate, gateway.MessageDataPresenceUpdate{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close = %v", err)
	}
	if countEvents[Connected](h) != 1 || countEvents[Ready](h) != 1 || countEvents[Disconnected](h) != 1 {
		t.Fatalf("hook events = %v", h.events)
	}
}

func TestCloseWithoutOpen(t *testing.T) {
	t.Parallel()
	s := New("token", 0, 1, nil)
	s.Close(t.Context())
	<-s.Done()
	if err := s.Open(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Open after Close = %v, want ErrClosed", err)
	}
}

func TestStateExportResumesWithoutIdentify(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	first := newRecorder()
	a := New(srv.Token(), 0, 1, first.handle, shardOpts(srv)...)
	if err := a.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Emit(0, 20); err != nil {
		t.Fatal(err)
	}
	session := currentSession(t, a)
	eventually(t, "first shard to handle all", func() bool { return first.count(gateway.EventTypeMessageCreate) == 20 }, first.wake)
	want := srv.Ledger().LastSeq(0, session)

	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	a.CloseWithCode(ctx, 4000, "restart")
	st := a.State()
	if st.SessionID != session || st.Seq != want {
		t.Fatalf("State after CloseWithCode(4000) = %+v, want session %s seq %d", st, session, want)
	}
	identifies := srv.Counters().Identifies

	second := newRecorder()
	b := openShard(t, srv, 0, 1, second.handle, WithState(st))
	if err := srv.Emit(0, 20); err != nil {
		t.Fatal(err)
	}
	if got := srv.Counters().Identifies; got != identifies {
		t.Fatalf("identifies went from %d to %d; want a resume", identifies, got)
	}
	if got := b.Stats(); got.Resumes != 1 || got.Identifies != 0 {
		t.Fatalf("new shard stats = %+v, want 1 resume and no identify", got)
	}
	if currentSession(t, b) != session {
		t.Fatal("new shard changed session")
	}
	eventually(t, "second shard to handle all", func() bool { return second.count(gateway.EventTypeMessageCreate) == 20 }, second.wake)
	last := srv.Ledger().LastSeq(0, session)
	if second.lastSeq() != last {
		t.Fatalf("second shard ended at seq %d, ledger at %d", second.lastSeq(), last)
	}
	all := append(first.sessionSeqs(), second.sessionSeqs()...)
	for i, seq := range all {
		if seq != i+1 {
			t.Fatalf("seqs across the restart have a gap or duplicate at %d: %v", i, all)
		}
	}
}

func TestOpenFailsOnInvalidToken(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	h := newHooks()
	s := New("not-the-token", 0, 1, nil, shardOpts(srv, WithEventHook(h.hook))...)
	err := s.Open(t.Context())
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Open with a bad token = %v, want ErrInvalidToken", err)
	}
	if strings.Contains(err.Error(), "not-the-token") {
		t.Fatalf("the error %q holds the token", err)
	}
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 || !ce.Fatal() {
		t.Fatalf("error %v is not a fatal *CloseError 4004", err)
	}
	<-s.Done()
	if !errors.Is(s.Err(), ErrInvalidToken) || countEvents[Fatal](h) != 1 {
		t.Fatalf("Err = %v, fatal events = %d", s.Err(), countEvents[Fatal](h))
	}
	s.Close(t.Context())
	if !errors.Is(s.Err(), ErrInvalidToken) {
		t.Fatalf("Close replaced the fatal error: %v", s.Err())
	}
}

// TestOpenRefusesAnUnsupportedCompression gives WithCompression values the
// shard cannot decode: Open fails with ErrUnsupportedCompression, and the
// gateway is never dialled (before, the shard dialled and reconnected
// forever, and Open never returned).
func TestOpenRefusesAnUnsupportedCompression(t *testing.T) {
	t.Parallel()
	for _, c := range []gateway.CompressionType{gateway.CompressionZlibPayload, "brotli-stream"} {
		t.Run(string(c), func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = ln.Close() })
			dialled := make(chan struct{})
			go func() {
				if conn, err := ln.Accept(); err == nil {
					_ = conn.Close()
					close(dialled)
				}
			}()
			h := newHooks()
			s := New("t", 0, 1, nil, WithURL("ws://"+ln.Addr().String()), WithCompression(c),
				WithLogger(quietLogger()), WithEventHook(h.hook))
			defer s.Close(t.Context())
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			opened := make(chan error, 1)
			go func() { opened <- s.Open(ctx) }()
			select {
			case <-dialled:
				t.Fatalf("dialled the gateway with compression %q", c)
			case err := <-opened:
				if !errors.Is(err, ErrUnsupportedCompression) || !strings.Contains(err.Error(), string(c)) {
					t.Fatalf("Open = %v, want ErrUnsupportedCompression naming %q", err, c)
				}
			}
			<-s.Done()
			if !errors.Is(s.Err(), ErrUnsupportedCompression) || countEvents[Fatal](h) != 1 {
				t.Fatalf("Err = %v, fatal events = %d", s.Err(), countEvents[Fatal](h))
			}
		})
	}
}

func TestOpenCancelled(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	// A queue that never lets the identify through.
	s := New(srv.Token(), 0, 1, nil, shardOpts(srv, WithQueue(blockingQueue{}))...)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Open(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open = %v, want the context's error", err)
	}
	<-s.Done()
	if srv.Counters().Identifies != 0 {
		t.Fatal("identified although the queue never allowed it")
	}
}

type blockingQueue struct{}

func (blockingQueue) Wait(ctx context.Context, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}

func (blockingQueue) Identified(int, time.Time, error) {}

func TestSend(t *testing.T) {
	t.Parallel()
	// No heartbeat during the test: only IDENTIFY uses the send limit.
	srv := discordtest.New(t, fakeOpts(discordtest.WithHeartbeatInterval(time.Hour))...)
	s := New(srv.Token(), 0, 1, nil, shardOpts(srv,
		WithSendLimit(8, time.Hour, 5),
		WithHeartbeatJitter(func() float64 { return 0.99 }))...)
	presence := gateway.MessageDataPresenceUpdate{Status: discord.OnlineStatusOnline, Activities: []discord.Activity{}}
	if err := s.Send(t.Context(), gateway.OpcodePresenceUpdate, presence); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Send before Open = %v, want ErrNotReady", err)
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())

	big := presence
	for range 64 {
		big.Activities = append(big.Activities, discord.Activity{Name: strings.Repeat("x", 100), Type: discord.ActivityTypeGame})
	}
	if err := s.Send(t.Context(), gateway.OpcodePresenceUpdate, big); !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("oversized Send = %v, want ErrPayloadTooLarge", err)
	}
	// 8 per window with 5 reserved leaves users 3, and IDENTIFY used one.
	for i := range 2 {
		if err := s.Send(t.Context(), gateway.OpcodePresenceUpdate, presence); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := s.Send(ctx, gateway.OpcodePresenceUpdate, presence); !errors.Is(err, ErrRateLimited) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third Send = %v, want ErrRateLimited wrapping the deadline", err)
	}
	if srv.Counters().SendLimitCloses != 0 || s.Stats().Reconnects != 0 {
		t.Fatal("the connection was closed")
	}
}

func TestClosedQueueIsFatal(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	queue := NewQueue(WithQueueLogger(quietLogger()))
	queue.Close()
	s := New(srv.Token(), 0, 1, nil, shardOpts(srv, WithQueue(queue))...)
	defer s.Close(context.Background())
	if err := s.Open(t.Context()); !errors.Is(err, ErrQueueClosed) {
		t.Fatalf("Open with a closed queue = %v, want ErrQueueClosed", err)
	}
	<-s.Done()
	if srv.Counters().Identifies != 0 {
		t.Fatal("identified without the queue")
	}
}

// TestRunStopsOnceCloseBegan puts the connection goroutine where Close's
// race used to leave it: CloseWithCode has marked the shard closing and its
// close frame ended the connection, but the context is not cancelled yet.
// The goroutine must stop there: no dial, no Reconnecting event. It used to
// check only the context, so it reported a reconnect and dialled again
// until the cancel landed (seen as a flaky TestOpenReadyClose).
func TestRunStopsOnceCloseBegan(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	h := newHooks()
	s := New(srv.Token(), 0, 1, nil, shardOpts(srv, WithEventHook(h.hook))...)
	defer s.cancel()
	s.mu.Lock()
	s.opened, s.closing = true, true // CloseWithCode's first step
	s.mu.Unlock()
	go s.run()
	eventually(t, "the connection goroutine to stop or reconnect", func() bool {
		select {
		case <-s.runDone:
			return true
		default:
			return countEvents[Reconnecting](h) > 0
		}
	}, h.wake, s.runDone)
	if n := countEvents[Reconnecting](h); n != 0 {
		s.cancel()
		<-s.runDone
		t.Fatalf("%d Reconnecting events from a closing shard", n)
	}
	if got := srv.Counters().Connections; got != 0 {
		t.Fatalf("a closing shard dialled %d times", got)
	}
}
