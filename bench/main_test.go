package main

import (
	"context"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain lets the test binary act as a bench child ("-child ROLE -spec
// JSON"), so the tests drive real child processes through the launcher.
func TestMain(m *testing.M) {
	if len(os.Args) == 5 && os.Args[1] == "-child" && os.Args[3] == "-spec" {
		if err := runChild(os.Args[2], os.Args[4]); err != nil {
			os.Stderr.WriteString("bench child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// testLauncher starts children from this test binary.
func testLauncher(t *testing.T) launcher {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return launcher{exe: exe}
}

// toyBotSpec starts a toy fake child for the test (2 shards, 6 guilds; it
// stops when the test ends) and returns the spec of a 2-cluster megane
// party against it with plan.
func toyBotSpec(ctx context.Context, t *testing.T, l launcher, plan benchPlan) partySpec {
	t.Helper()
	fake, addr, err := startFake(ctx, l, fakeSpec{Shards: 2, Guilds: 6, Members: 3, Channels: 4, Roles: 2, MaxConcurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.stop)
	return partySpec{Party: partyMegane, Engine: engineFast, Shards: 2, Clusters: 2, Guilds: 6, Fake: addr, Bench: plan}
}
