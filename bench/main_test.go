package main

import (
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
