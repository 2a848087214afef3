package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The soak's section of a results file lies between these markers, so
// that -md replaces it in place and the bench command, which writes the
// rest of bench/RESULTS.md, keeps it.
const (
	mdBegin = "<!-- soak:begin -->"
	mdEnd   = "<!-- soak:end -->"
)

// writeMarkdown puts the report's section into the file at path: in place
// of its previous section, or at its end. args are the command's
// arguments, quoted in the section so that the run can be repeated.
func (r *report) writeMarkdown(path string, args []string, began time.Time) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := r.markdown(args, began)
	var out []byte
	if i, j := bytes.Index(old, []byte(mdBegin)), bytes.Index(old, []byte(mdEnd)); i >= 0 && j > i {
		out = append(append(append(out, old[:i]...), section...), old[j+len(mdEnd):]...)
	} else {
		out = append(append(old, '\n'), section...)
	}
	return os.WriteFile(path, out, 0o644)
}

// markdown renders the report as one results section, markers included.
func (r *report) markdown(args []string, began time.Time) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("%s", mdBegin)
	p("## Reliability: the chaos soak")
	p("")
	p("Written by the soak itself (`-md`); re-run with:")
	p("")
	p("```sh")
	p("go run ./bench/soak %s", strings.Join(args, " "))
	p("```")
	p("")
	p("| | |")
	p("| --- | --- |")
	p("| date (UTC) | %s |", began.UTC().Format(time.RFC3339))
	p("| machine | %s (%d logical CPUs), GOMAXPROCS %d |", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	p("| Go | %s |", r.GoVersion)
	p("| bot | %d shards in %d clusters, %g dispatches/s per shard, max_concurrency %d, identify window %s |",
		r.Shards, r.Clusters, r.Rate, r.MaxConcurrency, r.IdentifyWindow)
	p("| seed, duration | %d, %s |", r.Seed, r.Duration)
	p("| result | %s |", resultText(r))
	p("")
	p("| figure | value |")
	p("| --- | --- |")
	p("| dispatches sent / delivered | %d / %d |", r.Sent, r.Delivered)
	p("| lost where no loss is allowed (`lost`) | %d |", r.Lost)
	p("| lost where a session ended without resume (`lost_allowed`) | %s |", counts(r.LostAllowed))
	p("| duplicates | %d |", r.Duplicates)
	p("| identify bucket breaches | %d |", r.IdentifyBreaches)
	p("| session starts spent / minimum | %d / %d |", r.SessionStarts.Spent, r.SessionStarts.Minimum)
	p("| sessions identified afresh where a resume was possible | %d |", r.UnjustifiedEnds)
	p("| goroutines leaked | %d (%d known third-party ones ignored) |", r.LeakedGoroutines, r.IgnoredLeaks)
	p("| heap growth | %d bytes |", r.HeapGrowthBytes)
	p("| injected panics / escaped | %d / %d |", sumInjected(r.Panics), r.EscapedPanics)
	p("| faults injected | %d of %d kinds |", sumCounts(r.FaultsInjected), len(r.FaultsInjected))
	p("")
	p("Faults injected, by kind: %s.", kindCounts(r.FaultsInjected))
	p("%s", mdEnd)
	return b.String()
}

func resultText(r *report) string {
	if r.OK {
		return "OK"
	}
	return "FAIL: " + strings.Join(r.Failures, "; ")
}

func sumCounts(m map[kind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// kindCounts writes "a 3, b 1" in kind order.
func kindCounts(m map[kind]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// cpuModel is the CPU's model name from /proc/cpuinfo, or GOARCH.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
