package testutil

import (
	"log/slog"
	"testing"
	"time"

	"github.com/megane-go/megane/discordtest"
)

// NewFake starts a small fake Discord for a test: shards shards,
// guildsPerShard guilds per shard on average, two members and two channels
// per guild, one role, a 1 ms identify window and no logging. opts come
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
		discordtest.WithIdentifyWindow(time.Millisecond),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)...)
}
