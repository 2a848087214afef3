package engine

import (
	"testing"

	"github.com/disgoorg/disgo/gateway"
	"github.com/megane-go/megane/shard"
)

// TestDeliveredIsPerSession: the executor's delivered seq counts within
// the session of the last READY it took. A shard that identified again
// during an attempt has a new session; until the executor takes its READY
// nothing of it is delivered, so a resume replays it from the start (the
// soak lost a READY and everything after it when a crash came between a
// new session's IDENTIFY and the executor taking its READY).
func TestDeliveredIsPerSession(t *testing.T) {
	t.Parallel()
	e := newExecutor(4, 0, []int{0}, map[int]shard.State{0: {SessionID: "old", Seq: 50}})
	e.handle = func(item) {}
	e.onPanic = func(r any, _ []byte) { t.Errorf("panic: %v", r) }
	s := shard.New("t", 0, 1, nil)
	check := func(when, session string, want int) {
		t.Helper()
		if got, ok := e.deliveredIn(0, session); !ok || got != want {
			t.Errorf("%s: delivered in %q = %d (%v), want %d", when, session, got, ok, want)
		}
	}
	check("at the start", "old", 50)
	check("at the start", "new", 0)
	e.step(item{g: s, t: gateway.EventTypeMessageCreate, seq: 51})
	check("after 51", "old", 51)
	check("after 51", "new", 0) // the shard identified again: its READY is not taken yet
	e.step(item{g: s, t: gateway.EventTypeReady, seq: 1, ev: gateway.EventReady{SessionID: "new"}})
	check("after the new READY", "new", 1)
	check("after the new READY", "old", 0)
	e.step(item{g: s, t: gateway.EventTypeGuildCreate, seq: 2})
	check("after a GUILD_CREATE", "new", 2)
	if _, ok := e.deliveredIn(7, "new"); ok {
		t.Error("a shard the executor does not serve has a delivered seq")
	}
}
