package discordtest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"go.uber.org/goleak"
)

// guildKey is a guild event's identity as a string, from the ledger.
func guildKey(e GuildEvent) string {
	unix := int64(0)
	if !e.Time.IsZero() {
		unix = e.Time.Unix()
	}
	return fmt.Sprintf("%s g=%d c=%d u=%d m=%d e=%q t=%d", e.Type, e.GuildID, e.ChannelID, e.UserID, e.MessageID, e.Emoji, unix)
}

// receivedKey is the identity of a guild event a client received, read
// from disgo's decoded event as a bot would; ok is false for any other
// dispatch.
func receivedKey(t *testing.T, f frame) (string, bool) {
	t.Helper()
	typ := gateway.EventType(f.event())
	switch typ {
	case gateway.EventTypeMessageCreate, gateway.EventTypeMessageReactionAdd, gateway.EventTypeTypingStart:
	default:
		return "", false
	}
	data, err := gateway.UnmarshalEventData(f.D, typ)
	if err != nil {
		t.Fatalf("decode %s: %v", typ, err)
	}
	var e GuildEvent
	e.Type = typ
	switch d := data.(type) {
	case gateway.EventMessageCreate:
		e.GuildID, e.ChannelID, e.UserID, e.MessageID = *d.GuildID, d.ChannelID, d.Author.ID, d.ID
	case gateway.EventMessageReactionAdd:
		e.GuildID, e.ChannelID, e.UserID, e.MessageID, e.Emoji = *d.GuildID, d.ChannelID, d.UserID, d.MessageID, *d.Emoji.Name
	case gateway.EventTypingStart:
		e.GuildID, e.ChannelID, e.UserID, e.Time = *d.GuildID, d.ChannelID, d.UserID, d.Timestamp
	default:
		t.Fatalf("decoded %s as %T", typ, data)
	}
	return guildKey(e), true
}

// covered lists the keys of the ledger's events that shard [id, count]
// covers, in order.
func covered(evs []GuildEvent, shard [2]int) []string {
	var out []string
	for _, e := range evs {
		if int((uint64(e.GuildID)>>22)%uint64(shard[1])) == shard[0] {
			out = append(out, guildKey(e))
		}
	}
	return out
}

// readGuildEvents reads from c until it holds n guild events in all, and
// returns their keys and their "d" by key.
func readGuildEvents(t *testing.T, c *client, keys []string, ds map[string]string, n int) []string {
	t.Helper()
	for len(keys) < n {
		f := c.mustNext()
		if k, ok := receivedKey(t, f); ok {
			keys = append(keys, k)
			if ds != nil {
				ds[k] = string(f.D)
			}
		}
	}
	return keys
}

// TestGuildEventsReachEveryShardCount connects shard 0 of 1 and shards 0
// and 1 of 2 at once: each guild event reaches the one session of each
// count that covers its guild, with the same "d", and the ledger lists it
// once with a fan-out of 2.
func TestGuildEventsReachEveryShardCount(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(8), WithIdentifyWindow(0))
	shards := [][2]int{{0, 1}, {0, 2}, {1, 2}}
	var sts []*started
	for _, sh := range shards {
		sts = append(sts, startSession(t, s, sh, gateway.CompressionNone))
	}
	ds := make([]map[string]string, len(sts)) // "d" by key, per session
	for i := range ds {
		ds[i] = map[string]string{}
	}
	s.SetGuildRate(5000)
	all := readGuildEvents(t, sts[0].client, nil, ds[0], 40)
	s.SetGuildRate(0)
	evs := s.Ledger().GuildEvents()
	if len(evs) < 40 {
		t.Fatalf("ledger has %d guild events, want at least 40", len(evs))
	}
	kinds := map[gateway.EventType]int{}
	for i, e := range evs {
		kinds[e.Type]++
		if e.Serial != int64(i+1) || e.Sessions != 2 {
			t.Errorf("event %d: serial %d, sessions %d; want %d and 2", i, e.Serial, e.Sessions, i+1)
		}
	}
	if kinds[gateway.EventTypeMessageCreate] <= len(evs)/2 {
		t.Errorf("kinds %v: want mostly MESSAGE_CREATE", kinds)
	}

	for i, st := range sts {
		want := covered(evs, shards[i])
		var got []string
		if i == 0 {
			got = all
		}
		got = readGuildEvents(t, st.client, got, ds[i], len(want))
		if !slices.Equal(got, want) {
			t.Fatalf("shard %v got %d events %v\nwant %d %v", shards[i], len(got), got, len(want), want)
		}
		// Its seqs are its own, without a gap, and the ledger has no more.
		if want := s.Ledger().Seqs(shards[i][0], st.ready.SessionID); !slices.Equal(st.seqs, want) {
			t.Errorf("shard %v seqs %v, ledger %v", shards[i], st.seqs, want)
		}
	}
	for k, d := range ds[0] {
		other := ds[1][k] + ds[2][k]
		if other != d {
			t.Errorf("%s: count 1 got d %s\ncount 2 got d %s", k, d, other)
		}
	}
}

// TestGuildEventsReplayedOnResume: a session without a connection keeps
// getting guild events, and RESUME replays them.
func TestGuildEventsReplayedOnResume(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(4), WithIdentifyWindow(0))
	gone := startSession(t, s, [2]int{0, 1}, gateway.CompressionZlibStream)
	witness := startSession(t, s, [2]int{0, 2}, gateway.CompressionNone)
	s.SetGuildRate(2000)
	before := readGuildEvents(t, gone.client, nil, nil, 5)
	gone.close() // a TCP close: the session stays resumable
	// The feed goes on: the witness sees 30 more events.
	readGuildEvents(t, witness.client, nil, nil, 30)
	s.SetGuildRate(0)
	evs := s.Ledger().GuildEvents()
	c := resumeClient(t, s, gone, lastOf(gone.seqs), gateway.CompressionZlibStream)
	got := before
	for {
		f := c.mustNext()
		if f.event() == "RESUMED" {
			break
		}
		if k, ok := receivedKey(t, f); ok {
			got = append(got, k)
		}
	}
	if want := covered(evs, [2]int{0, 1}); !slices.Equal(got, want) {
		t.Fatalf("got %d events %v\nwant %d %v", len(got), got, len(want), want)
	}
	seqs := append(slices.Clone(gone.seqs), c.seqs...)
	if want := s.Ledger().Seqs(0, gone.ready.SessionID); !slices.Equal(seqs, want) {
		t.Errorf("seqs %v, ledger %v", seqs, want)
	}
}

// TestGuildEventsEndWithTheSession: a session its client closed with 1000
// gets no more guild events, and they no longer count it.
func TestGuildEventsEndWithTheSession(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(4), WithIdentifyWindow(0))
	ended := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	stays := startSession(t, s, [2]int{0, 1}, gateway.CompressionNone)
	s.SetGuildRate(2000)
	readGuildEvents(t, ended.client, nil, nil, 3)
	ended.closeFrom(1000)
	last := s.Ledger().LastSeq(0, ended.ready.SessionID)
	seen := readGuildEvents(t, stays.client, nil, nil, 20)
	s.SetGuildRate(0)
	if got := s.Ledger().LastSeq(0, ended.ready.SessionID); got != last {
		t.Errorf("closed session's last seq went from %d to %d", last, got)
	}
	evs := s.Ledger().GuildEvents()
	if e := evs[len(evs)-1]; e.Sessions != 1 {
		t.Errorf("last event went to %d sessions, want 1", e.Sessions)
	}
	if len(seen) > len(evs) {
		t.Errorf("client saw %d events, ledger lists %d", len(seen), len(evs))
	}
}

// TestGuildEventsWithoutSessions are made and listed with no session.
func TestGuildEventsWithoutSessions(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuilds(3))
	s.SetGuildRate(1e5)
	for _, r := range []float64{-2, 0} { // -2 is treated as 0
		s.SetGuildRate(r)
	}
	evs := s.Ledger().GuildEvents()
	for _, e := range evs {
		if e.Sessions != 0 || e.GuildID == snowflake.ID(0) {
			t.Fatalf("event %+v", e)
		}
	}
	if n := len(s.Ledger().GuildEvents()); n != len(evs) {
		t.Errorf("ledger grew from %d to %d after SetGuildRate(0)", len(evs), n)
	}
}

// TestCloseStopsGuildFeed: Close stops the feed's goroutine, and
// SetGuildRate after Close returns at once.
func TestCloseStopsGuildFeed(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	s, err := Start(WithGuilds(2))
	if err != nil {
		t.Fatal(err)
	}
	s.SetGuildRate(1000)
	s.Close()
	s.SetGuildRate(10)
	goleak.VerifyNone(t, opt)
}
