package testutil

import (
	"log/slog"
	"testing"
	"time"

	"github.com/megane-go/megane/discordtest"
)

// The identify timing of tests. The fake Discord and the bot's identify
// queue use the same window, as Discord and a real bot do; the queue adds
// the margin, which here covers how late a loaded 2-core machine under
// -race may read a frame (Discord's is DefaultIdentifyMargin in package
// shard).
const (
	IdentifyWindow = 5 * time.Millisecond
	IdentifyMargin = 25 * time.Millisecond
)

// NewFake starts a small fake Discord for a test: shards shards,
// guildsPerShard guilds per shard on average, two members and two channels
// per guild, one role, the test identify window (IdentifyWindow) and no
// logging. opts come
// last, so a test can override any of these. The server closes when the
// test ends.
func NewFake(t *testing.T, shards, guildsPerShard int, opts ...discordtest.Option) *discordtest.Server {
	t.Helper()
	return discordtest.New(t, append([]discordtest.Option{
		discordtest.WithShards(shards),
		discordtest.WithGuilds(guildsPerShard * shards),
		discordtest.WithMembers(2),
		discordtest.WithChannels(2),
		discordtest.WithRoles(1),
		discordtest.WithIdentifyWindow(IdentifyWindow),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)...)
}
