package shard

import (
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/wire"
)

// handOvers are the three ways a shard hands decoded events on: through
// its dispatch queue (the default), from the read loop one by one
// (WithDispatchBuffer(0)), and from the read loop in batches
// (WithBatchHandler, as a cluster does); the first and the last also over
// a paced socket (WithReadCoalescing).
func handOvers(r *recorder) []struct {
	name string
	opts []Option
} {
	batches := func(s *Shard, batch []Dispatch) {
		for _, d := range batch {
			r.handle(s, d.Type, d.Seq, d.Data)
		}
	}
	return []struct {
		name string
		opts []Option
	}{
		{"queue", nil},
		{"direct", []Option{WithDispatchBuffer(0)}},
		{"batches", []Option{WithBatchHandler(batches)}},
		{"queue-paced", []Option{WithReadCoalescing(2 * time.Millisecond)}},
		{"batches-paced", []Option{WithBatchHandler(batches), WithReadCoalescing(2 * time.Millisecond)}},
	}
}

// TestCompressions runs traffic and a resume over every transport
// compression and every hand-over.
func TestCompressions(t *testing.T) {
	t.Parallel()
	for _, c := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		for i := range handOvers(nil) {
			t.Run(c.String()+"/"+handOvers(nil)[i].name, func(t *testing.T) {
				t.Parallel()
				srv := discordtest.New(t, fakeOpts()...)
				r := newRecorder()
				h := newHooks()
				opts := append([]Option{WithCompression(c), WithEventHook(h.hook)}, handOvers(r)[i].opts...)
				s := openShard(t, srv, 0, 1, r.handle, opts...)
				emitWritten(t, srv, s, 200)
				if err := srv.Reconnect(0); err != nil {
					t.Fatal(err)
				}
				eventually(t, "a resume", func() bool { return countEvents[Resumed](h) == 1 }, h.wake)
				if err := srv.Emit(0, 200); err != nil {
					t.Fatal(err)
				}
				assertNoLoss(t, srv, s, r, 400)
				if st := s.Stats(); st.Dropped != 0 {
					t.Fatalf("dropped %d", st.Dropped)
				}
			})
		}
	}
}

// TestDataNotLast runs a session, traffic and a resume with a fake that
// writes a member after "d" in every dispatch frame, over every transport
// compression. The read loop takes d unscanned (wire.ParseEnvelopeLazy);
// the dispatch goroutine must find d's real end, so nothing is lost or
// dropped. The guilds' GUILD_CREATEs take the filtering path.
func TestDataNotLast(t *testing.T) {
	t.Parallel()
	for _, c := range []gateway.CompressionType{gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream} {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			srv := discordtest.New(t, append(fakeOpts(), discordtest.WithDataNotLast())...)
			r := newRecorder()
			h := newHooks()
			s := openShard(t, srv, 0, 1, r.handle, WithCompression(c), WithEventHook(h.hook))
			guilds := len(srv.GuildIDs(0, 1))
			eventually(t, "the shard's guilds", func() bool { return r.count(gateway.EventTypeGuildCreate) == guilds }, r.wake)
			emitWritten(t, srv, s, 100)
			if err := srv.Reconnect(0); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a resume", func() bool { return countEvents[Resumed](h) == 1 }, h.wake)
			if err := srv.Emit(0, 100); err != nil {
				t.Fatal(err)
			}
			assertNoLoss(t, srv, s, r, 200)
			if st := s.Stats(); st.Dropped != 0 {
				t.Fatalf("dropped %d", st.Dropped)
			}
		})
	}
}

// TestMalformedFrameDropped checks that a malformed frame is counted and
// dropped while the connection stays up.
func TestMalformedFrameDropped(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	r := newRecorder()
	s := openShard(t, srv, 0, 1, r.handle)
	for range 3 {
		if err := srv.SendMalformed(0); err != nil {
			t.Fatal(err)
		}
		if err := srv.Emit(0, 2); err != nil {
			t.Fatal(err)
		}
	}
	assertNoLoss(t, srv, s, r, 6)
	// The fake writes a malformed frame from its control queue and the
	// dispatches from its traffic counter, so the last malformed frame may
	// follow the last dispatch: wait for all three.
	eventually(t, "three malformed frames dropped", func() bool {
		return srv.Counters().MalformedSent == 3 && s.Stats().Dropped == 3
	})
	st := s.Stats()
	if st.Reconnects != 0 {
		t.Fatal("a malformed frame cost the connection")
	}
}

// TestDMChannelInGuildCreate checks that a DM channel inside GUILD_CREATE
// (disgo panics on it) is filtered out and counted, and the guild still
// reaches the handler.
func TestDMChannelInGuildCreate(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, fakeOpts()...)
	r := newRecorder()
	r.keep = true
	s := openShard(t, srv, 0, 1, r.handle)
	before := len(srv.GuildIDs(0, 1))
	eventually(t, "the shard's guilds", func() bool { return r.count(gateway.EventTypeGuildCreate) == before }, r.wake)
	if err := srv.SendDMGuildCreate(0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the GUILD_CREATE", func() bool { return r.count(gateway.EventTypeGuildCreate) == before+1 }, r.wake)
	st := s.Stats()
	if st.FilteredChannels == 0 || st.Dropped != 0 || st.Reconnects != 0 {
		t.Fatalf("stats = %+v, want filtered channels, nothing dropped", st)
	}
	r.mu.Lock()
	last := r.events[len(r.events)-1]
	r.mu.Unlock()
	gc, ok := last.(gateway.EventGuildCreate)
	if !ok {
		t.Fatalf("last event is %T", last)
	}
	for _, ch := range gc.Channels {
		if ch == nil {
			t.Fatal("nil channel left in the guild")
		}
	}
	assertNoLoss(t, srv, s, r, 0)
}

func TestFilterGuildChannels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		removed int
		wantErr bool
	}{
		{"none", `{"id":"1","channels":[{"id":"2","type":0}]}`, 0, false},
		{"no channels", `{"id":"1"}`, 0, false},
		{"dm", `{"id":"1","channels":[{"id":"2","type":0},{"id":"3","type":1}]}`, 1, false},
		{"group dm", `{"id":"1","channels":[{"id":"3","type":3},{"id":"4","type":1}]}`, 2, false},
		{"broken", `{"id":"1","channels":[`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, n, err := filterGuildChannels([]byte(tc.in))
			if (err != nil) != tc.wantErr || n != tc.removed {
				t.Fatalf("got n=%d err=%v", n, err)
			}
			if err != nil {
				return
			}
			if _, err := wire.DecodeDispatch(gateway.EventTypeGuildCreate, out); err != nil {
				t.Fatalf("filtered payload does not decode: %v", err)
			}
		})
	}
}
