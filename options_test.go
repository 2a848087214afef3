package megane

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

const testToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b"

// TestNewRejectsBadOptions: each option value New cannot use gives an
// *OptionError naming the option and matching ErrInvalidOption. Before,
// WithShards(-2) was taken as AutoShards, WithClusters(-1) failed only in
// Run (with a plan error), and the others were ignored or crashed later.
func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	w := WithWorker(func() cluster.Worker { return &tallyWorker{} })
	tests := []struct {
		opt  Option
		name string // OptionError.Option
	}{
		{WithShards(-2), "WithShards(-2)"},
		{WithClusters(-1), "WithClusters(-1)"},
		{WithGuildsPerShard(0), "WithGuildsPerShard(0)"},
		{WithGuildsPerShard(-5), "WithGuildsPerShard(-5)"},
		{WithGuildsPerShard(2501), "WithGuildsPerShard(2501)"},
		{WithShardMultiple(-16), "WithShardMultiple(-16)"},
		{WithEventBuffer(0), "WithEventBuffer(0)"},
		{WithEventBuffer(-1), "WithEventBuffer(-1)"},
		{WithReadyTimeout(0), "WithReadyTimeout(0s)"},
		{WithReadyTimeout(-time.Second), "WithReadyTimeout(-1s)"},
		{WithCompression("gzip"), `WithCompression("gzip")`},
		{WithCompression(gateway.CompressionZlibPayload), `WithCompression("zlib-payload")`},
		{WithAPIURL("discord.com/api/v10"), `WithAPIURL("discord.com/api/v10")`},
		{WithAPIURL("ftp://127.0.0.1/api/v10"), `WithAPIURL("ftp://127.0.0.1/api/v10")`},
		{WithAPIURL("http://"), `WithAPIURL("http://")`},
		{WithAPIURL("http://[::1"), `WithAPIURL("http://[::1")`},
		{WithClientOpts(nil), "WithClientOpts"},
		{WithShardOptions(shard.WithIntents(), nil), "WithShardOptions"},
		{WithQueueOptions(nil), "WithQueueOptions"},
		{WithBusOptions(nil), "WithBusOptions"},
		{nil, "New option 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := New(testToken, w, tt.opt)
			if m != nil {
				m.Close()
			}
			var oe *OptionError
			if !errors.Is(err, ErrInvalidOption) || !errors.As(err, &oe) || oe.Option != tt.name || oe.Reason == "" {
				t.Fatalf("New = %v, want an OptionError for %s", err, tt.name)
			}
			if !strings.HasPrefix(err.Error(), "megane: invalid option "+tt.name+": ") {
				t.Fatalf("New = %q", err)
			}
		})
	}
	// Several wrong options: one OptionError each.
	_, err := New(testToken, w, WithShards(-1), WithClusters(-1))
	if !strings.Contains(err.Error(), "WithShards(-1)") || !strings.Contains(err.Error(), "WithClusters(-1)") {
		t.Fatalf("New = %v, want both options named", err)
	}
}

// TestNewAcceptsEdgeOptions: the values with a documented meaning pass.
func TestNewAcceptsEdgeOptions(t *testing.T) {
	t.Parallel()
	m, err := New(testToken, WithWorker(func() cluster.Worker { return &tallyWorker{} }),
		WithShards(AutoShards), WithClusters(0), WithGuildsPerShard(2500), WithGuildsPerShard(1),
		WithShardMultiple(0), WithShardMultiple(1), WithEventBuffer(1), WithWatchdog(0), WithWatchdog(-1),
		WithStatsInterval(-1), WithReshardCheck(-1), WithReshardTimeout(0), WithLogger(nil),
		WithEventHandler(nil), WithStatsHandler(nil), WithCaches(nil), WithCompression(gateway.CompressionZstdStream), WithCompression(gateway.CompressionZlibStream),
		WithAPIURL("https://discord.com/api/v10"), WithRestartPolicy(supervisor.Policy{MinBackoff: -1, MaxRestarts: -1}),
		WithClientOpts(bot.WithLogger(nil)), WithBusOptions(bus.WithMailboxSize(4)))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}

// TestNewTokenErrors: an empty token says DISCORD_TOKEN may be unset; a
// token with a newline or without an application ID says so; none of the
// errors holds the token.
func TestNewTokenErrors(t *testing.T) {
	t.Parallel()
	w := WithWorker(func() cluster.Worker { return &tallyWorker{} })
	tests := []struct {
		token, text string
		want        error
	}{
		{"", "megane: empty bot token (is DISCORD_TOKEN set?)", ErrEmptyToken},
		{"   ", "megane: empty bot token (is DISCORD_TOKEN set?)", ErrEmptyToken},
		{"Bot ", "megane: empty bot token (is DISCORD_TOKEN set?)", ErrEmptyToken},
		{testToken + "\n", "megane: malformed bot token: it holds a space or a control character (a newline read from a file?)", ErrMalformedToken},
		{"MTIz NDU2.a.b", "megane: malformed bot token: it holds a space", ErrMalformedToken},
		{"aGVsbG8.a.b", "megane: malformed bot token: its first part is not the base64 of an application ID", ErrMalformedToken},
	}
	for _, tt := range tests {
		_, err := New(tt.token, w)
		if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformedToken) || !strings.HasPrefix(err.Error(), tt.text) {
			t.Errorf("New(%q) = %v, want %q", tt.token, err, tt.text)
		}
		if strings.TrimSpace(tt.token) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.token)) {
			t.Errorf("New(%q): the token is in the error", tt.token)
		}
	}
	if _, err := New("aGVsbG8.a.b", w); errors.Is(err, ErrEmptyToken) {
		t.Error("a malformed token matches ErrEmptyToken")
	}
}

// nilBot is a worker type whose nil pointer a factory may return by
// mistake.
type nilBot struct{ tallyWorker }

// TestNilWorkerIsFatal: a factory that returns nil (or a nil pointer)
// stops Run with ErrNilWorker, on the first start and on a worker-only
// restart. Before, the cluster panicked on the nil worker and restarted
// forever.
func TestNilWorkerIsFatal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		worker  func(call int64, tl *tally) cluster.Worker
		restart bool // the first call is fine; a RestartWorker makes the second
	}{
		{"nil", func(int64, *tally) cluster.Worker { return nil }, false},
		{"nil pointer", func(int64, *tally) cluster.Worker { return (*nilBot)(nil) }, false},
		{"nil on a worker restart", func(call int64, tl *tally) cluster.Worker {
			if call == 1 {
				return &tallyWorker{t: tl}
			}
			return nil
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t, 1)
			tl := newTally()
			var calls atomic.Int64
			m, err := New(fake.Token(), append(baseOpts(fake, tl),
				WithWorker(func() cluster.Worker { return tt.worker(calls.Add(1), tl) }))...)
			if err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 0 {
				t.Fatal("New called the factory")
			}
			done := make(chan error, 1)
			go func() { done <- m.Run(context.Background()) }()
			if tt.restart {
				waitAllReady(t, tl)
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				if err := m.Restart(ctx, 0, cluster.RestartWorker); err == nil {
					t.Fatal("the worker restart with a nil worker succeeded")
				}
			}
			err = waitRun(t, done) // without ErrNilWorker, a crash loop
			if !errors.Is(err, ErrNilWorker) {
				t.Fatalf("Run = %v, want ErrNilWorker", err)
			}
			tl.mu.Lock()
			defer tl.mu.Unlock()
			if n := tl.count(cluster.EventRestarted, -1); n > 1 {
				t.Fatalf("%d restarts: the nil worker was retried", n)
			}
		})
	}
}
