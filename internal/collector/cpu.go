package collector

import (
	"runtime/metrics"
	"time"
)

// cpuTimes is the process's cumulative CPU time.
type cpuTimes struct {
	user, system time.Duration
	source       string
}

// Names of the CPU sources reported in ManagerStats.CPUSource.
const (
	cpuSourceRusage  = "getrusage"
	cpuSourceMetrics = "runtime/metrics"
)

// runtimeMetricsCPU are the runtime/metrics samples whose sum estimates the
// CPU time spent by Go code and the Go runtime (idle time excluded).
var runtimeMetricsCPU = []string{
	"/cpu/classes/user:cpu-seconds",
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/scavenge/total:cpu-seconds",
}

// cpuFromMetrics estimates the process's CPU time from runtime/metrics. It is
// the fallback where getrusage is not available: it cannot split user from
// system time, so it reports everything as user time, and the runtime only
// accounts these figures at each GC cycle, so they lag between cycles.
func cpuFromMetrics() cpuTimes {
	samples := make([]metrics.Sample, len(runtimeMetricsCPU))
	for i, name := range runtimeMetricsCPU {
		samples[i].Name = name
	}
	metrics.Read(samples)
	var secs float64
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindFloat64 {
			secs += s.Value.Float64()
		}
	}
	return cpuTimes{user: time.Duration(secs * float64(time.Second)), source: cpuSourceMetrics}
}
