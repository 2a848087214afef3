package shard

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/internal/wire"
)

func TestCloseErrorClasses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code       int
		sentinel   error
		reidentify bool
	}{
		{4000, nil, false},
		{4001, nil, false},
		{4003, nil, true},
		{4004, ErrInvalidToken, false},
		{4007, nil, true},
		{4008, nil, false},
		{4009, nil, true},
		{4010, ErrInvalidShard, false},
		{4011, ErrShardingRequired, false},
		{4012, ErrInvalidAPIVersion, false},
		{4013, ErrInvalidIntents, false},
		{4014, ErrDisallowedIntents, false},
		{1000, nil, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			var err error = &CloseError{Code: tc.code, Reason: "why"}
			ce := err.(*CloseError)
			if ce.Fatal() != (tc.sentinel != nil) || ce.reidentify() != tc.reidentify {
				t.Fatalf("fatal=%t reidentify=%t", ce.Fatal(), ce.reidentify())
			}
			if tc.sentinel != nil && !errors.Is(fmt.Errorf("wrapped: %w", err), tc.sentinel) {
				t.Fatalf("%v does not match %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), "why") {
				t.Fatalf("message %q lacks the reason", err.Error())
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	s := New("t", 0, 1, nil, WithBackoff(10*time.Millisecond, 80*time.Millisecond))
	cases := []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 0, 0},
		{1, 5 * time.Millisecond, 10 * time.Millisecond},
		{2, 10 * time.Millisecond, 20 * time.Millisecond},
		{3, 20 * time.Millisecond, 40 * time.Millisecond},
		{4, 40 * time.Millisecond, 80 * time.Millisecond},
		{10, 40 * time.Millisecond, 80 * time.Millisecond},
	}
	for _, tc := range cases {
		for range 50 {
			if d := s.backoff(tc.attempt); d < tc.min || d > tc.max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}

func TestSendLimiterReservesSlots(t *testing.T) {
	t.Parallel()
	l := newSendLimiter(5, time.Hour, 2)
	for i := range 3 {
		if ok, _ := l.reserve(false); !ok {
			t.Fatalf("user send %d refused", i)
		}
	}
	if ok, retry := l.reserve(false); ok || retry.IsZero() {
		t.Fatal("a user send took a reserved slot")
	}
	for i := range 2 {
		if ok, _ := l.reserve(true); !ok {
			t.Fatalf("internal send %d refused", i)
		}
	}
	if ok, _ := l.reserve(true); ok {
		t.Fatal("the limit was exceeded")
	}
	l.reset()
	if ok, _ := l.reserve(false); !ok {
		t.Fatal("reset did not free the window")
	}
}

func TestGatewayURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base string
		c    gateway.CompressionType
		want string
	}{
		{"wss://gateway.discord.gg", gateway.CompressionNone, "wss://gateway.discord.gg?encoding=json&v=10"},
		{"wss://gateway.discord.gg/", gateway.CompressionZlibStream, "wss://gateway.discord.gg/?compress=zlib-stream&encoding=json&v=10"},
		{"ws://127.0.0.1:1/gateway?v=9", gateway.CompressionZstdStream, "ws://127.0.0.1:1/gateway?compress=zstd-stream&encoding=json&v=10"},
	}
	for _, tc := range cases {
		got, err := gatewayURL(tc.base, tc.c)
		if err != nil || got != tc.want {
			t.Errorf("gatewayURL(%q, %q) = %q, %v; want %q", tc.base, tc.c, got, err, tc.want)
		}
	}
}

func TestUnknownOpcodeIgnored(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	s := New("t", 3, 4, nil, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err := s.handleFrame(&session{}, wire.Envelope{Op: gateway.Opcode(42)}); err != nil {
		t.Fatalf("unknown opcode ended the connection: %v", err)
	}
	if got := s.Stats().UnknownOpcodes; got != 1 {
		t.Fatalf("UnknownOpcodes = %d", got)
	}
	if out := logs.String(); !strings.Contains(out, "unknown gateway opcode 42") || !strings.Contains(out, "shard=3") {
		t.Fatalf("log line %q lacks the opcode or shard", out)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for log capture.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestStatsEventsPerSecond(t *testing.T) {
	t.Parallel()
	s := New("t", 0, 1, nil, WithStatsWindow(time.Nanosecond))
	s.events.Add(100)
	first := s.Stats()
	if first.Events != 100 || first.EventsPerSecond <= 0 {
		t.Fatalf("first snapshot = %+v, want a positive rate", first)
	}
	// Nothing new since the last snapshot: the rate over the window is 0.
	if second := s.Stats(); second.EventsPerSecond != 0 {
		t.Fatalf("rate with no new events = %v", second.EventsPerSecond)
	}
}

// TestBadHelloIsAProtocolError feeds HELLOs the read loop must refuse
// before it starts a heartbeat: an interval that is missing, not positive,
// or so large that it would overflow time.Duration into a negative one.
func TestBadHelloIsAProtocolError(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, d string }{
		{"no data", `null`},
		{"zero", `{"heartbeat_interval":0}`},
		{"negative", `{"heartbeat_interval":-5}`},
		{"overflows a Duration", `{"heartbeat_interval":10000000000000000}`},
		{"not a number", `{"heartbeat_interval":"soon"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New("t", 0, 1, nil, WithLogger(quietLogger()))
			ss := &session{}
			err := s.handleFrame(ss, wire.Envelope{Op: gateway.OpcodeHello, D: []byte(tc.d)})
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("handleFrame = %v, want ErrProtocol", err)
			}
			if ss.hbCancel != nil || ss.helloSeen {
				t.Fatal("a heartbeat was started for a bad HELLO")
			}
		})
	}
}

// TestPrintingKeepsTheTokenOut formats a Shard every way a log line, test
// failure or panic message might: the token must not show. fmt prints a
// pointer to a struct field by field, so without String this printed the
// token.
func TestPrintingKeepsTheTokenOut(t *testing.T) {
	t.Parallel()
	const token = "MTIzNDU2.secret-token.value"
	testutil.CheckPrinting(t, token, "16", "count=16", New(token, 3, 16, nil))
}

// TestDecodeUncheckedData feeds the dispatch goroutine's decode the data
// the read loop took from wire.ParseEnvelopeLazy without scanning it:
// data followed by other members still decodes (guilds are still
// filtered), and a frame broken inside d is a typed error, not a panic.
func TestDecodeUncheckedData(t *testing.T) {
	t.Parallel()
	s := New("t", 0, 1, nil, WithLogger(quietLogger()))
	const trace = `,"_trace":["gw-1",{"x":"}"}]}`
	cases := []struct {
		name  string
		frame string
		check func(t *testing.T, data gateway.EventData)
	}{
		{"member after d", `{"t":"MESSAGE_DELETE","s":5,"op":0,"d":{"id":"1","channel_id":"2"}` + trace,
			func(t *testing.T, data gateway.EventData) {
				if ev, ok := data.(gateway.EventMessageDelete); !ok || ev.ChannelID != 2 {
					t.Fatalf("data = %#v", data)
				}
			}},
		{"guild with a DM channel and a member after d",
			`{"t":"GUILD_CREATE","s":6,"op":0,"d":{"id":"1","name":"g","channels":[{"id":"2","type":0},{"id":"3","type":1}]}` + trace,
			func(t *testing.T, data gateway.EventData) {
				if ev, ok := data.(gateway.EventGuildCreate); !ok || len(ev.Channels) != 1 {
					t.Fatalf("data = %#v", data)
				}
			}},
	}
	for _, tc := range cases {
		env, err := wire.ParseEnvelopeLazy([]byte(tc.frame))
		if err != nil || !env.Unchecked {
			t.Fatalf("%s: %+v, %v: want an unchecked envelope", tc.name, env, err)
		}
		data, err := s.decode(env.Seq, env.Type, env.D, true)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		tc.check(t, data)
	}
	for _, frame := range []string{
		`{"t":"MESSAGE_DELETE","s":7,"op":0,"d":{"id":"1","channel_id":"2"` + trace,
		`{"t":"GUILD_CREATE","s":8,"op":0,"d":{"id":"1","channels":[}}`,
		`{"t":"MESSAGE_DELETE","s":9,"op":0,"d":{"id":"1","channel_id":"2"},"s":10}`,
	} {
		env, err := wire.ParseEnvelopeLazy([]byte(frame))
		if err != nil || !env.Unchecked {
			t.Fatalf("%s: %+v, %v: want an unchecked envelope", frame, env, err)
		}
		_, err = s.decode(env.Seq, env.Type, env.D, true)
		var me *MalformedDispatchError
		if !errors.As(err, &me) || me.Seq != env.Seq || !errors.Is(err, wire.ErrMalformedFrame) {
			t.Fatalf("%s: err = %v, want a *MalformedDispatchError matching wire.ErrMalformedFrame", frame, err)
		}
	}
}
