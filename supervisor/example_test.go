package supervisor_test

import (
	"errors"
	"fmt"

	"github.com/megane-go/megane/supervisor"
)

// A service or worker that cannot succeed by trying again (a bad config, a
// rejected token) returns NoRestart: its supervisor stops in StateFailed
// instead of restarting it, and the cause stays matchable.
func ExampleNoRestart() {
	errBadConfig := errors.New("config: no channel set")
	err := supervisor.NoRestart(errBadConfig)
	fmt.Println(err)
	fmt.Println(errors.Is(err, supervisor.ErrNoRestart), errors.Is(err, errBadConfig))
	// Output:
	// supervise: fatal: config: no channel set
	// true true
}

// A Policy's zero fields take the defaults, so set only what differs.
func ExamplePolicy() {
	p := supervisor.DefaultPolicy()
	fmt.Println(p.MinBackoff, p.MaxBackoff, p.MaxRestarts, p.Window)

	patient := supervisor.Policy{MaxRestarts: -1, MaxFailedStarts: -1} // never give up
	fmt.Println(patient.MaxRestarts < 0)
	// Output:
	// 100ms 30s 5 1m0s
	// true
}

// A recovered panic keeps its value and stack; its Error is one line.
func ExamplePanicError() {
	var err error = &supervisor.PanicError{Value: "index out of range", Stack: []byte("goroutine 7 [running]:\n...")}
	var pe *supervisor.PanicError
	if errors.As(err, &pe) {
		fmt.Println(err)
		fmt.Println(len(pe.Stack) > 0)
	}
	// Output:
	// supervise: panic: index out of range
	// true
}
