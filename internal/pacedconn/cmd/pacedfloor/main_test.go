package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
)

func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

// TestRead runs each kind of reader in-process against a small fake and
// checks that it counts frames in its window.
func TestRead(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.WithShards(2), discordtest.WithGuilds(4), discordtest.WithRate(200),
		discordtest.WithMaxConcurrency(2), discordtest.WithIdentifyWindow(0),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	for _, reader := range []string{"net", "paced:0s", "paced:1ms", "reactor:1ms", "timer:1ms"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := read(ctx, readerSpec{URL: srv.GatewayURL(), Token: srv.Token(), Shards: 2, Reader: reader,
			Warmup: 50 * time.Millisecond, Window: 300 * time.Millisecond})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", reader, err)
		}
		if res.Frames == 0 || res.UserNS+res.SysNS <= 0 {
			t.Fatalf("%s: %+v, want frames and CPU time", reader, res)
		}
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-rates", "10000,fast"},
		{"-periods", "1ms,soon"},
		{"-reactor-periods", "soon"},
		{"-shards", "0"},
		{"-child", "other"},
	} {
		if err := run(context.Background(), append(args, "-window", "1ms"), io.Discard); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
	if _, err := dialerFor("paced:soon"); err == nil {
		t.Error("paced:soon: no error")
	}
	for _, reader := range []string{"reactor:0s", "timer:-1ms", "timer:soon"} {
		if _, err := read(context.Background(), readerSpec{Reader: reader}); err == nil {
			t.Errorf("%s: no error", reader)
		}
	}
	if _, err := dialerFor("epoll"); err == nil {
		t.Error("epoll: no error")
	}
}
