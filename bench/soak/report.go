package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// report is the soak's result: the -json document, and the source of the
// human-readable summary.
type report struct {
	GoVersion      string  `json:"go_version"`
	Seed           uint64  `json:"seed"`
	Duration       string  `json:"duration"`
	Shards         int     `json:"shards"`
	Clusters       int     `json:"clusters"`
	Rate           float64 `json:"rate"`
	MaxConcurrency int     `json:"max_concurrency"`
	IdentifyWindow string  `json:"identify_window"`
	Kinds          []kind  `json:"kinds"`

	Sent        int            `json:"sent"`
	Delivered   int            `json:"delivered"`
	Lost        int            `json:"lost"`
	LostAllowed map[string]int `json:"lost_allowed"`
	Duplicates  int            `json:"duplicates"`

	IdentifyBreaches int64 `json:"identify_breaches"`
	SessionStarts    struct {
		Spent   int64 `json:"spent"`
		Minimum int   `json:"minimum"`
	} `json:"session_starts"`
	UnjustifiedEnds int `json:"unjustified_ends"`

	LeakedGoroutines int   `json:"leaked_goroutines"`
	IgnoredLeaks     int   `json:"ignored_goroutines"` // known third-party leaks (disgo's REST rate limiter)
	HeapGrowthBytes  int64 `json:"heap_growth_bytes"`
	GoroutinesAtEnd  int   `json:"goroutines_before_stop"`
	HeapAtEndBytes   int64 `json:"heap_before_stop_bytes"`

	EscapedPanics int                 `json:"escaped_panics"`
	Panics        map[kind]panicTally `json:"panics"`

	FaultsPlanned  map[kind]int `json:"faults_planned"`
	FaultsInjected map[kind]int `json:"faults_injected"`
	FaultsRefused  map[kind]int `json:"faults_refused"` // the call returned an error (e.g. no live session)

	Converged     bool           `json:"converged"`
	ConvergedIn   string         `json:"converged_in"`
	RunError      string         `json:"run_error,omitempty"`
	Events        map[string]int `json:"events"`
	DispatchTypes map[string]int `json:"dispatch_types"`
	Seq0Events    int            `json:"seq0_events"`
	Unattributed  int            `json:"unattributed"`     // dispatches before any READY of their shard
	UnknownSess   int            `json:"unknown_sessions"` // sessions the bot saw that the fake never created

	Details  details  `json:"details"`
	Failures []string `json:"failures"`
	OK       bool     `json:"ok"`
}

// details are the capped lists behind the figures.
type details struct {
	Lost        []loss           `json:"lost"`
	Unjustified []unjustifiedEnd `json:"unjustified_ends"`
	Escaped     []int            `json:"escaped_panic_ids"`
	Leaks       []string         `json:"leaked_stacks"`
	Refused     []string         `json:"refused_faults"`
}

// maxDetails caps each details list.
const maxDetails = 50

// capped returns at most maxDetails of s, and an empty list (JSON [], not
// null) for none.
func capped[T any](s []T) []T {
	switch {
	case s == nil:
		return []T{}
	case len(s) > maxDetails:
		return s[:maxDetails]
	}
	return s
}

// judge fills Failures and OK: the soak fails on any loss on a resumable
// path, any identify breach, any leaked goroutine, any escaped panic, an
// error from Run, or an end that did not converge. It also fails on a
// session the bot identified afresh where it could have resumed, even if
// its tail was empty: the fake writes traffic only to a connected session,
// so after a resumable close nothing is pending, but on Discord the events
// of the gap would be lost.
func (r *report) judge() {
	r.Failures = []string{}
	add := func(cond bool, format string, args ...any) {
		if cond {
			r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
		}
	}
	add(r.Lost > 0, "%d dispatches lost", r.Lost)
	add(r.UnjustifiedEnds > 0, "%d sessions identified afresh where they could have resumed", r.UnjustifiedEnds)
	add(r.IdentifyBreaches > 0, "%d identify bucket breaches", r.IdentifyBreaches)
	add(r.LeakedGoroutines > 0, "%d goroutines leaked", r.LeakedGoroutines)
	add(r.EscapedPanics > 0, "%d injected panics or crashes reported by no one", r.EscapedPanics)
	add(r.RunError != "", "Run returned an error: %s", r.RunError)
	add(!r.Converged, "the bot did not receive everything sent to its live sessions within the final wait")
	r.OK = len(r.Failures) == 0
}

// writeJSON writes the report as one indented JSON document.
func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText writes the human-readable summary.
func (r *report) writeText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("chaos soak: seed %d, %s, %d shards in %d clusters, %g dispatches/s per shard, max_concurrency %d, identify window %s, %s",
		r.Seed, r.Duration, r.Shards, r.Clusters, r.Rate, r.MaxConcurrency, r.IdentifyWindow, r.GoVersion)
	p("  dispatches: sent %d, delivered %d, lost %d, duplicates %d", r.Sent, r.Delivered, r.Lost, r.Duplicates)
	p("  lost legitimately (sessions ended without resume): %s", counts(r.LostAllowed))
	p("  identify: %d bucket breaches; session starts %d spent, %d minimum; %d sessions re-identified without cause",
		r.IdentifyBreaches, r.SessionStarts.Spent, r.SessionStarts.Minimum, r.UnjustifiedEnds)
	p("  panics and crashes: %d injected, %d escaped", sumInjected(r.Panics), r.EscapedPanics)
	for _, k := range slices.Sorted(maps.Keys(r.Panics)) {
		t := r.Panics[k]
		p("    %-16s injected %d, told the caller %d, crash event %d, escaped %d", k, t.Injected, t.ByCaller, t.ByEvent, t.Escaped)
	}
	p("  goroutines leaked %d (%d known and ignored); heap growth %d bytes", r.LeakedGoroutines, r.IgnoredLeaks, r.HeapGrowthBytes)
	p("  lifecycle: %d cluster crashes, %d stalls, %d cluster restarts, %d shard disconnections",
		r.Events["cluster_crashed"], r.Events["cluster_stalled"], r.Events["cluster_restarted"], r.Events["shard_disconnected"])
	p("  converged: %t (%s); Run error: %s", r.Converged, r.ConvergedIn, orNone(r.RunError))
	p("  faults (planned/injected/refused):")
	for _, k := range slices.Sorted(maps.Keys(r.FaultsPlanned)) {
		p("    %-18s %3d %3d %3d", k, r.FaultsPlanned[k], r.FaultsInjected[k], r.FaultsRefused[k])
	}
	for _, l := range r.Details.Lost {
		p("  LOST shard %d session %s (%s): %d: %s", l.Shard, l.Session, l.Why, l.Count, strings.Join(l.Ranges, ", "))
	}
	if r.OK {
		p("result: OK")
	} else {
		p("result: FAIL: %s", strings.Join(r.Failures, "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// counts writes a map of counts as "a 3, b 1" in key order, or "none".
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sumInjected(m map[kind]panicTally) int {
	n := 0
	for _, t := range m {
		n += t.Injected
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
