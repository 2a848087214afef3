package testutil

import (
	"testing"
	"time"

	"github.com/megane-go/megane/discordtest"
)

// Eventually waits up to wait until cond holds, waking on the given
// channels and, as a last resort for conditions nothing signals, on a
// short poll. It fails the test with what when wait passes.
func Eventually(t testing.TB, wait time.Duration, what string, cond func() bool, wake ...<-chan struct{}) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	var w1, w2 <-chan struct{}
	if len(wake) > 0 {
		w1 = wake[0]
	}
	if len(wake) > 1 {
		w2 = wake[1]
	}
	for !cond() {
		select {
		case <-w1:
		case <-w2:
		case <-poll.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// FakeOptions are the fake Discord settings the shard tests use: the
// test identify window, a 1 s heartbeat, 4 guilds and a 100 ms close
// grace. The heartbeat is not shorter because an ACK that a loaded 2-core
// machine under -race delivers later than the next beat is, correctly, a
// zombie; tests about heartbeats set their own.
func FakeOptions() []discordtest.Option {
	return []discordtest.Option{
		discordtest.WithIdentifyWindow(IdentifyWindow),
		discordtest.WithHeartbeatInterval(time.Second),
		discordtest.WithGuilds(4),
		discordtest.WithCloseGrace(100 * time.Millisecond),
	}
}
