package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"testing"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/clusterlink"
)

// allCaches enables every disgo cache, messages included.
func allCaches() bot.ConfigOpt { return bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagsAll)) }

// Guild IDs that the fetch tests' resolver treats specially.
const (
	guildNoOwner      = 1 // no cluster owns it
	guildUnknownOwner = 2 // owned by cluster 7, which nobody runs
)

// fetchFixture is one ready cluster of two shards whose guilds all resolve
// to it, with every cache on and three messages cached in one channel.
type fetchFixture struct {
	b     *bus.Bus
	c     *Cluster
	msgCh snowflake.ID // a channel with 3 cached messages
	msgG  snowflake.ID // its guild
}

func newFetchFixture(t *testing.T) *fetchFixture {
	t.Helper()
	fake := newFake(t, 2)
	b := bus.New(bus.WithLogger(slog.New(slog.DiscardHandler)),
		bus.WithGuildResolver(func(g uint64) (int, bool) {
			switch g {
			case guildNoOwner:
				return 0, false
			case guildUnknownOwner:
				return 7, true
			}
			return 0, true
		}))
	h := newHarness(t, fake, []int{0, 1}, 2, plainWorker, WithBus(b), WithClientOpts(allCaches()))
	h.start()
	h.waitReady()
	// The fake's MESSAGE_CREATE frames all carry one message ID, so the
	// messages are put into the cache directly, with distinct IDs.
	f := &fetchFixture{b: b, c: h.c, msgG: fake.GuildIDs(0, 2)[0]}
	caches := h.c.Client().Caches
	for ch := range caches.ChannelsForGuild(f.msgG) {
		f.msgCh = ch.ID()
		break
	}
	if f.msgCh == 0 {
		t.Fatal("the guild has no cached channel")
	}
	for i := range 3 {
		caches.AddMessage(discord.Message{ID: snowflake.ID(1000 + i), ChannelID: f.msgCh, GuildID: &f.msgG, Content: "m"})
	}
	return f
}

// roundTrip encodes v as JSON and decodes it into a new T.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("unmarshal %T: %v\n%s", v, err, data)
	}
	return out
}

func fetchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestFetchGuild(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	g, ok := f.c.Client().Caches.Guild(f.msgG)
	if !ok {
		t.Fatal("the message's guild is not cached")
	}
	owner := g.OwnerID
	tests := []struct {
		name     string
		opts     []cluster.FetchOption
		members  int // -1: Members must be nil
		messages int // messages expected in msgCh; 0: Messages must be nil
	}{
		{"plain: no members, no messages", nil, -1, 0},
		{"all members", []cluster.FetchOption{cluster.WithMembers()}, 2, 0},
		{"one member", []cluster.FetchOption{cluster.WithMembers(owner)}, 1, 0},
		{"unknown member left out", []cluster.FetchOption{cluster.WithMembers(snowflake.ID(42))}, 0, 0},
		{"messages of every channel", []cluster.FetchOption{cluster.WithMessages(10)}, -1, 3},
		{"two newest messages of one channel", []cluster.FetchOption{cluster.WithMessages(2, f.msgCh)}, -1, 2},
		{"members and messages", []cluster.FetchOption{cluster.WithMembers(), cluster.WithMessages(1)}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fg, err := cluster.FetchGuild(fetchCtx(t), f.c.Bus(), f.c.Address(), f.msgG, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []FetchedGuild{fg, roundTrip(t, fg)} {
				if got.Guild.ID != f.msgG || got.Guild.OwnerID != owner || len(got.Channels) != 2 || len(got.Roles) != 1 {
					t.Fatalf("guild = %+v", got)
				}
				if got.Channels[0].GuildID() != f.msgG || got.Channels[0].Position() > got.Channels[1].Position() {
					t.Fatalf("channels = %v", got.Channels)
				}
				if tt.members < 0 && got.Members != nil {
					t.Fatalf("members present without cluster.WithMembers: %v", got.Members)
				}
				if tt.members >= 0 && len(got.Members) != tt.members {
					t.Fatalf("%d members, want %d", len(got.Members), tt.members)
				}
				if tt.messages == 0 && got.Messages != nil {
					t.Fatalf("messages present without cluster.WithMessages: %v", got.Messages)
				}
				if tt.messages > 0 {
					ms := got.Messages[f.msgCh]
					if len(got.Messages) != 1 || len(ms) != tt.messages {
						t.Fatalf("messages = %v, want %d in %v", got.Messages, tt.messages, f.msgCh)
					}
					for i := 1; i < len(ms); i++ {
						if ms[i-1].ID <= ms[i].ID {
							t.Fatal("messages not newest first")
						}
					}
				}
			}
			if !reflect.DeepEqual(roundTrip(t, fg).Roles, fg.Roles) {
				t.Fatal("roles changed in a JSON round trip")
			}
		})
	}
}

func TestFetchGuildErrors(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	tests := []struct {
		name string
		id   snowflake.ID
		want error
	}{
		{"not cached", 12345 << 22, cluster.ErrNotFound},
		{"no owner", guildNoOwner, bus.ErrNoTarget},
		{"owner not running", guildUnknownOwner, bus.ErrNoTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := cluster.FetchGuild(fetchCtx(t), f.b, bus.Address{}, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var nf *NotFoundError
			if errors.Is(tt.want, cluster.ErrNotFound) && (!errors.As(err, &nf) || nf.Kind != "guild" || nf.ID != tt.id || nf.Unreachable != nil) {
				t.Fatalf("err = %#v, want a *NotFoundError", err)
			}
		})
	}
}

func TestFetchChannelAndUsers(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	ctx := fetchCtx(t)
	g, _ := f.c.Client().Caches.Guild(f.msgG)
	self, _ := f.c.Client().Caches.SelfUser()

	fc, err := cluster.FetchChannel(ctx, f.c.Bus(), f.c.Address(), f.msgCh)
	if err != nil || fc.Channel.ID() != f.msgCh || fc.Messages != nil {
		t.Fatalf("FetchChannel = %+v, %v", fc, err)
	}
	fc, err = cluster.FetchChannel(ctx, f.b, bus.Address{}, f.msgCh, cluster.WithMessages(2))
	if err != nil || len(fc.Messages) != 2 {
		t.Fatalf("FetchChannel with messages = %+v, %v", fc, err)
	}
	back := roundTrip(t, fc)
	if back.Channel.ID() != f.msgCh || back.Channel.Type() != fc.Channel.Type() || back.Channel.Name() != fc.Channel.Name() ||
		len(back.Messages) != 2 || back.Messages[0].ID != fc.Messages[0].ID {
		t.Fatalf("channel after a JSON round trip = %+v", back)
	}
	if _, err := cluster.FetchChannel(ctx, f.c.Bus(), f.c.Address(), 99); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("unknown channel: err = %v", err)
	}

	for _, id := range []snowflake.ID{g.OwnerID, self.ID} {
		u, err := cluster.FetchUser(ctx, f.c.Bus(), f.c.Address(), id)
		if err != nil || u.ID != id || u.Username == "" {
			t.Fatalf("FetchUser(%v) = %+v, %v", id, u, err)
		}
		if back := roundTrip(t, u); back.ID != id || back.Username != u.Username {
			t.Fatalf("user after a JSON round trip = %+v", back)
		}
	}
	var nf *NotFoundError
	if _, err := cluster.FetchUser(ctx, f.c.Bus(), f.c.Address(), 77); !errors.As(err, &nf) || nf.Kind != "user" || nf.ID != 77 {
		t.Fatalf("unknown user: err = %v", err)
	}

	users, err := cluster.FetchUsers(ctx, f.c.Bus(), f.c.Address(), self.ID, 77, g.OwnerID, self.ID)
	if err != nil || len(users) != 2 || users[0].ID != self.ID || users[1].ID != g.OwnerID {
		t.Fatalf("FetchUsers = %+v, %v", users, err)
	}
	if users, err := cluster.FetchUsers(ctx, f.b, bus.Address{}); err != nil || len(users) != 0 {
		t.Fatalf("FetchUsers() = %v, %v", users, err)
	}
}

// TestFetchWithoutClusters proves that fetches on a bus without clusters
// fail with bus.ErrNoTarget, and that a payload of the wrong type is a
// *bus.TypeError.
func TestFetchWithoutClusters(t *testing.T) {
	t.Parallel()
	b := newBus(0)
	ctx := fetchCtx(t)
	if _, err := cluster.FetchChannel(ctx, b, bus.Address{}, 1); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("FetchChannel: %v", err)
	}
	if _, err := cluster.FetchUser(ctx, b, bus.Address{}, 1); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("FetchUser: %v", err)
	}
	if _, err := cluster.FetchUsers(ctx, b, bus.Address{}, 1); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("FetchUsers: %v", err)
	}
	if _, err := cluster.FetchGuild(ctx, b, bus.Address{}, 1<<22); !errors.Is(err, bus.ErrNoTarget) {
		t.Fatalf("FetchGuild: %v", err)
	}
}

func TestDecodePayload(t *testing.T) {
	t.Parallel()
	want := FetchRequest{ID: 5, Members: true}
	raw, _ := json.Marshal(want)
	tests := []struct {
		name    string
		payload any
		want    FetchRequest
		err     bool
	}{
		{"value", want, want, false},
		{"pointer", &want, want, false},
		{"nil", nil, FetchRequest{}, false},
		{"raw JSON", json.RawMessage(raw), want, false},
		{"bytes", raw, want, false},
		{"bad JSON", json.RawMessage(`{`), FetchRequest{}, true},
		{"wrong type", 3, FetchRequest{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodePayload[FetchRequest](&bus.Message{Topic: clusterlink.TopicFetchGuild, Payload: tt.payload})
			if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}
