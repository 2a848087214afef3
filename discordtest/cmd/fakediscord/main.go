// Command fakediscord runs the discordtest fake Discord on its own, for
// bots in other languages and for manual runs:
//
//	go run ./discordtest/cmd/fakediscord -shards 4 -guilds 1000 -rate 50 -contents '!ping,!stats'
//
// The first line of standard output is "listening http://HOST:PORT"; the
// second is "token TOKEN". Point a bot's REST base at URL/api/v10. It runs
// until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/disgoorg/disgo/gateway"

	"github.com/megane-go/megane/discordtest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "fakediscord:", err)
		os.Exit(1)
	}
}

// parseCompressions reads a comma-separated list: none, zlib-stream,
// zstd-stream, or all.
func parseCompressions(list string) ([]gateway.CompressionType, error) {
	var out []gateway.CompressionType
	for _, name := range strings.Split(list, ",") {
		switch c := gateway.CompressionType(strings.TrimSpace(name)); c {
		case "all":
			out = append(out, gateway.CompressionNone, gateway.CompressionZlibStream, gateway.CompressionZstdStream)
		case "none", gateway.CompressionNone:
			out = append(out, gateway.CompressionNone)
		case gateway.CompressionZlibStream, gateway.CompressionZstdStream:
			out = append(out, c)
		default:
			return nil, fmt.Errorf("unknown compression %q", name)
		}
	}
	return out, nil
}

// run starts the server from args, prints its address and token to out,
// and serves until ctx ends or a signal arrives.
func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("fakediscord", flag.ContinueOnError)
	fs.SetOutput(errOut)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	shards := fs.Int("shards", 1, "shard count recommended by /gateway/bot")
	guilds := fs.Int("guilds", 100, "guilds the bot is in")
	members := fs.Int("members", 10, "members per guild")
	channels := fs.Int("channels", 10, "channels per guild")
	maxConc := fs.Int("max-concurrency", 1, "session_start_limit.max_concurrency (0 allowed)")
	rate := fs.Float64("rate", 0, "dispatches per second per shard: 0 none, -1 as fast as possible")
	guildRate := fs.Float64("guild-rate", 0, "guild events per second over all guilds, sent to every session covering the guild in every shard count: 0 none")
	compress := fs.String("compress", "all", "compressions to accept: all, or a list of none,zlib-stream,zstd-stream")
	token := fs.String("token", "", "bot token to accept (default: generated and printed)")
	contents := fs.String("contents", "", "comma-separated message contents, such as bot commands, carried in turn by one rate MESSAGE_CREATE in -contents-every")
	contentsEvery := fs.Int("contents-every", 50, "with -contents: one rate MESSAGE_CREATE in this many carries the next content")
	verbose := fs.Bool("v", false, "log to stderr at debug level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	comps, err := parseCompressions(*compress)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
	s, err := discordtest.Start(
		discordtest.WithAddr(*addr), discordtest.WithShards(*shards), discordtest.WithGuilds(*guilds),
		discordtest.WithMembers(*members), discordtest.WithChannels(*channels),
		discordtest.WithMaxConcurrency(*maxConc), discordtest.WithRate(*rate),
		discordtest.WithCompressions(comps...), discordtest.WithToken(*token),
		discordtest.WithLogger(logger), contentsOption(*contents, *contentsEvery))
	if err != nil {
		return err
	}
	defer s.Close()
	s.SetGuildRate(*guildRate)
	fmt.Fprintln(out, "listening", s.URL())
	fmt.Fprintln(out, "token", s.Token())
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// contentsOption turns -contents and -contents-every into WithContents; an
// empty -contents keeps the default lorem ipsum traffic.
func contentsOption(list string, every int) discordtest.Option {
	if list == "" {
		return discordtest.WithContents(0)
	}
	return discordtest.WithContents(every, strings.Split(list, ",")...)
}
