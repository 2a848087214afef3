//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package collector

// readCPU returns the Go runtime's estimate of the process's CPU time; this
// platform has no getrusage.
func readCPU() cpuTimes { return cpuFromMetrics() }
