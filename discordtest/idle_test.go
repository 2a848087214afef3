package discordtest

import (
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
)

// A client that stays silent after HELLO for longer than the write timeout
// (as discord.js does while its identify queue holds a shard) must still get
// READY and every GUILD_CREATE: the deadline applies to each write, not to
// the time the writer spent idle. Found with @discordjs/ws against
// cmd/fakediscord, where the READY batch was larger than one flush.
func TestLateIdentifyAfterIdleLongerThanWriteTimeout(t *testing.T) {
	t.Parallel()
	const writeTimeout = 50 * time.Millisecond
	// 150 guilds with members make the READY batch several flushes long.
	s := New(t, WithGuilds(150), WithMembers(20), WithWriteTimeout(writeTimeout))
	c := dial(t, s, gateway.CompressionNone)
	c.hello()
	// The scenario itself is idleness: let the writer's clock pass the
	// timeout before identifying. Nothing is being waited for.
	time.Sleep(3 * writeTimeout)
	c.identify(s.Token(), [2]int{0, 1}, 0)
	ready := c.until(isEvent("READY"))
	if ready.seq() != 1 {
		t.Fatalf("READY seq %d", ready.seq())
	}
	for i := range 150 {
		f, err := c.next()
		if err != nil {
			t.Fatalf("after %d GUILD_CREATEs: %v (close code %d)", i, err, c.closeCode())
		}
		if f.event() != "GUILD_CREATE" {
			t.Fatalf("got %q, want GUILD_CREATE", f.event())
		}
	}
}
