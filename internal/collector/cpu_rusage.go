//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package collector

import (
	"syscall"
	"time"
)

// readCPU returns the process's cumulative user and system CPU time from
// getrusage(RUSAGE_SELF), falling back to runtime/metrics if the call fails.
func readCPU() cpuTimes {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuFromMetrics()
	}
	return cpuTimes{
		user:   time.Duration(ru.Utime.Nano()),
		system: time.Duration(ru.Stime.Nano()),
		source: cpuSourceRusage,
	}
}
