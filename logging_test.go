package megane

import (
	"log/slog"
	"testing"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
)

// TestLogLinesHaveEachKeyOnce runs a bot through its start, shard faults,
// every kind of restart, a crash and bus errors, with the Manager's and
// the fake's loggers at debug level, and checks that no line carries an
// attribute twice (a JSON handler writes such a line with a duplicate key).
// Every "cluster event" line carried "cluster" twice, and the fake logged
// "shard=-1 shard=7".
func TestLogLinesHaveEachKeyOnce(t *testing.T) {
	t.Parallel()
	dups := testutil.NewDupKeys()
	log := slog.New(dups)
	fake := newFake(t, 2, discordtest.WithLogger(log))
	tl := newTally()
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithShards(2), WithClusters(2),
		WithLogger(log), WithService("counter", newCounter()),
		// A cluster's first message makes its listener panic: a crash.
		WithWorker(func() cluster.Worker { return &tallyWorker{t: tl, panicAt: 1} }))...)
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := run(t, m)
	waitAllReady(t, tl)

	if err := fake.Emit(0, 1); err != nil {
		t.Fatal(err)
	}
	tl.waitFor(t, "the crash", func(tl *tally) bool { return tl.count(cluster.EventCrashed, -1) > 0 })
	// Each fault on a shard that has a session again after the last one.
	back := func(tl *tally) int {
		return tl.count(cluster.EventShardResumed, -1) + tl.count(cluster.EventShardReady, -1)
	}
	for _, fault := range []func() error{
		func() error { return fake.SendMalformed(1) },
		func() error { return fake.Reconnect(0) },
		func() error { return fake.InvalidSession(1, false) },
		func() error { return fake.CloseShard(0, 4000) },
	} {
		tl.mu.Lock()
		before := back(tl)
		tl.mu.Unlock()
		if err := fault(); err != nil {
			t.Fatal(err)
		}
		tl.waitFor(t, "the shard back", func(tl *tally) bool { return back(tl) > before || before == 0 })
	}
	for _, kind := range []cluster.RestartKind{cluster.RestartResume, cluster.RestartWorker, cluster.RestartFull} {
		if err := m.Restart(ctxFor(t), 1, kind); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.RestartService(ctxFor(t), "counter"); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.Request[int](ctxFor(t), m.Bus(), bus.Manager(), bus.Cluster(7), "nothing", nil); err == nil {
		t.Fatal("a request to a missing cluster succeeded")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, line := range dups.Lines() {
		t.Error(line)
	}
}
