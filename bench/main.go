// Command bench measures Megane side by side with its baselines, in one
// run on one machine:
//
//  1. gateway throughput (events/s and CPU-µs per event of the bot side)
//     of a megane.Manager, of a plain disgo bot.Client with disgo's own
//     sharding (also built with GOEXPERIMENT=jsonv2), and the decode-only
//     limit (the same frames decoded in a tight loop, no network), with
//     the bots' resident memory (VmRSS, VmHWM) around the stream;
//  2. the paced headline: CPU-µs per event (user and system) of Megane and
//     plain disgo when the fake sends a fixed 10,000 and 1,000
//     MESSAGE_CREATEs per second over 16 shards (see paced.go);
//  3. cache memory per guild, live heap and RSS, and the RSS peak of a
//     start;
//  4. startup to all shards READY and each kind of restart;
//  5. bus request/reply and store operations against plain Go baselines.
//
// Every bot and the fake Discord run in their own processes (children of
// this binary), so each bot's CPU is its own getrusage. The headline
// ratios come from paired rounds: the limit and every bot at the headline
// point stay up at once and each runs one repetition per round, so a ratio
// is taken between figures seconds apart, not minutes (see paired.go).
// The paced rounds follow with the same processes. Each of issue 12's
// targets is printed with its figure, its same-run baseline and whether
// it was met (see targets.go).
// Usage:
//
//	go run ./bench -quick            # under 2 minutes, for CI
//	go run ./bench                   # the full matrix
//	go run ./bench -json             # one JSON document on stdout
//	go run ./bench -svg bench/throughput.svg -md bench/RESULTS.md
//	go run ./bench -only throughput  # one section: headline (paired and paced), throughput, memory, startup, busstore
//
// Timings are never asserted: the command exits 0 unless a measurement
// broke.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stderr is where progress and children's diagnostics go.
var stderr io.Writer = os.Stderr

// sections are the names -only accepts, in run order.
var sections = []string{"headline", "throughput", "memory", "startup", "busstore"}

func main() {
	os.Exit(mainCode())
}

func mainCode() int {
	quick := flag.Bool("quick", false, "short run (under 2 minutes): 16 shards, 1 and 2 clusters, no compression")
	asJSON := flag.Bool("json", false, "print one JSON document on stdout instead of tables")
	svgPath := flag.String("svg", "", "write the throughput chart (SVG) to this file")
	mdPath := flag.String("md", "", "write a Markdown report (RESULTS.md) to this file, keeping the soak's section of the file it replaces; needs -svg for the chart link")
	only := flag.String("only", "", "run one section: "+strings.Join(sections, ", "))
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the headline Megane bot's MESSAGE_CREATE run to this file")
	noJSONv2 := flag.Bool("no-jsonv2", false, "skip the disgo baseline built with GOEXPERIMENT=jsonv2")
	verbose := flag.Bool("v", false, "pass children's stderr through")
	coalescing := flag.Duration("read-coalescing", -1, "Megane's read-coalescing period (shard.WithReadCoalescing; 0 turns it off); negative: the library's default")
	child := flag.String("child", "", "internal: run as a child process of this role")
	spec := flag.String("spec", "", "internal: the child's JSON spec")
	flag.Parse()

	if *child != "" {
		if err := runChild(*child, *spec); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			return 1
		}
		return 0
	}
	if *only != "" && !containsString(sections, *only) {
		fmt.Fprintf(os.Stderr, "bench: -only must be one of %s\n", strings.Join(sections, ", "))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	r := &runner{mode: fullMode(), began: time.Now(), cpuProfile: *cpuProfile}
	if *quick {
		r.mode = quickMode()
	}
	if *coalescing >= 0 {
		r.mode.plan.ReadCoalescing = coalescing
	}
	r.self = launcher{exe: exe}
	if *verbose {
		r.self.verbose = os.Stderr
	}
	r.rep = newReport(r.mode.name, os.Args[1:])
	want := func(s string) bool { return *only == "" || *only == s }

	tmp, err := os.MkdirTemp("", "megane-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if (want("headline") || want("throughput")) && !*noJSONv2 {
		budget := 5 * time.Minute
		if *quick {
			budget = 40 * time.Second
		}
		r.progress("building the disgo(jsonv2) baseline with GOEXPERIMENT=jsonv2 (budget %s)", budget)
		if v2, err := buildJSONv2(ctx, tmp, budget); err != nil {
			r.rep.Notes = append(r.rep.Notes, "disgo(jsonv2) skipped: "+err.Error())
			r.progress("disgo(jsonv2) skipped: %v", err)
		} else {
			l := launcher{exe: v2, verbose: r.self.verbose}
			r.jsonv2 = &l
		}
	}
	if want("busstore") {
		testing.Init()
		_ = flag.Set("test.benchtime", r.mode.microTime)
	}
	if want("headline") {
		r.runPaired(ctx)
	}
	if want("throughput") {
		r.runThroughput(ctx)
	}
	if want("memory") {
		r.runMemory(ctx)
	}
	if want("startup") {
		r.runStartup(ctx)
	}
	if want("busstore") {
		r.runBusStore()
	}
	r.rep.finish(r.mode)
	r.rep.ElapsedS = time.Since(r.began).Seconds()

	if *svgPath != "" {
		if err := writeFile(*svgPath, func(w io.Writer) error { return writeSVG(w, r.rep) }); err != nil {
			r.fail("writing %s: %v", *svgPath, err)
		}
	}
	if *mdPath != "" {
		chart := ""
		if *svgPath != "" {
			if rel, err := filepath.Rel(filepath.Dir(*mdPath), *svgPath); err == nil {
				chart = filepath.ToSlash(rel)
			}
		}
		if err := writeMarkdownFile(*mdPath, r.rep, chart); err != nil {
			r.fail("writing %s: %v", *mdPath, err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r.rep); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
	} else {
		writeTables(os.Stdout, r.rep)
	}
	if len(r.rep.Errors) > 0 {
		return 1
	}
	return 0
}

// runner holds the state of one parent run.
type runner struct {
	mode       mode
	self       launcher
	jsonv2     *launcher // nil when the jsonv2 build is skipped
	rep        *report
	began      time.Time
	cpuProfile string
}

// runChild runs this process as a child of the given role.
func runChild(role, specJSON string) error {
	decode := func(v any) error { return json.Unmarshal([]byte(specJSON), v) }
	switch role {
	case "fake":
		var s fakeSpec
		if err := decode(&s); err != nil {
			return err
		}
		return runFakeChild(s)
	case "bot", "mem", "startup":
		var s partySpec
		if err := decode(&s); err != nil {
			return err
		}
		var (
			res any
			err error
		)
		switch role {
		case "bot":
			res, err = runBotChild(s)
		case "mem":
			res, err = runMemChild(s)
		default:
			res, err = runStartupChild(s)
		}
		if err != nil {
			return err
		}
		return writeResult(res)
	case "bot-stepped":
		var s partySpec
		if err := decode(&s); err != nil {
			return err
		}
		return runBotStepped(s)
	case "limit-stepped":
		var s limitSpec
		if err := decode(&s); err != nil {
			return err
		}
		return runLimitStepped(s)
	case "limit":
		var s limitSpec
		if err := decode(&s); err != nil {
			return err
		}
		res, err := runLimitChild(s)
		if err != nil {
			return err
		}
		return writeResult(res)
	}
	return fmt.Errorf("unknown child role %q", role)
}

// buildJSONv2 builds this command with GOEXPERIMENT=jsonv2 into dir.
func buildJSONv2(ctx context.Context, dir string, budget time.Duration) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("no go toolchain: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", errors.New("not inside the megane module")
	}
	out := filepath.Join(dir, "bench-jsonv2")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	bctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	cmd := exec.CommandContext(bctx, "go", "build", "-o", out, "./bench")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=jsonv2")
	msg, err := cmd.CombinedOutput()
	if err != nil {
		if bctx.Err() != nil {
			return "", fmt.Errorf("build exceeded %s", budget)
		}
		return "", fmt.Errorf("go build: %v: %s", err, strings.TrimSpace(string(msg)))
	}
	return out, nil
}

// writeFile creates path and writes it with fn.
func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
