// Command pacedfloor measures the CPU floor of reading gateway frames:
// the reader's own user and system time per frame when 16 shards of the
// fake Discord send at 10,000 and at 1,000 frames/s in total, read by a
// plain net.Conn (Go's netpoller), by pacedconn with several coalescing
// periods, and by a reactor (one goroutine that reads every shard's raw
// socket once per period, with no goroutine per shard), side by side:
//
//	go run ./internal/pacedconn/cmd/pacedfloor [-window 10s] [-rates 10000,1000] [-periods 0,1ms,2ms,5ms] [-reactor-periods 5ms,20ms]
//
// The net and paced readers only read frames (gorilla/websocket with
// 32 KiB buffers, as package shard dials; no decoding); the reactor splits
// frames itself (reactor_linux.go). So the figures are the transport's
// floor, not a bot's cost. Under them all, a "timer" row per reactor period
// reads no socket: it only wakes once per period, and its "frames" are its
// wake-ups, so its µs/frame is what one wake-up of the Go runtime costs on
// the machine; every paced reader pays it at least once per period. The fake runs in a child process, and so does
// each reader, so getrusage(RUSAGE_SELF) in a reader counts that reader
// only. The fake's identify window is off (each reader identifies every
// shard at once); nothing else is scaled.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// config is what the parent was asked to measure.
type config struct {
	shards  int
	rates   []float64       // frames per second, all shards together
	periods []time.Duration // pacedconn's periods; the net.Conn reader always runs
	// reactors are the periods of the one-goroutine reactor reader
	// (reactor_linux.go).
	reactors []time.Duration
	warmup   time.Duration
	window   time.Duration
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pacedfloor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pacedfloor", flag.ContinueOnError)
	child := fs.String("child", "", "internal: run as the fake or a reader")
	spec := fs.String("spec", "", "internal: the child's spec, JSON")
	shards := fs.Int("shards", 16, "shards (connections)")
	rates := fs.String("rates", "10000,1000", "total frame rates to measure, frames/s over all shards")
	periods := fs.String("periods", "0,1ms,2ms,5ms", "pacedconn coalescing periods to measure")
	reactors := fs.String("reactor-periods", "5ms,20ms", "periods of the one-goroutine reactor reader to measure (Linux only; empty for none)")
	warmup := fs.Duration("warmup", 3*time.Second, "time to let READY and GUILD_CREATE pass before measuring")
	window := fs.Duration("window", 10*time.Second, "measuring window of each reader")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *child {
	case "fake":
		return runFakeChild(*spec, os.Stdin, out)
	case "reader":
		return runReaderChild(ctx, *spec, out)
	case "":
	default:
		return fmt.Errorf("unknown -child %q", *child)
	}
	cfg := config{shards: *shards, warmup: *warmup, window: *window}
	var err error
	if cfg.rates, err = parseList(*rates, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }); err != nil {
		return fmt.Errorf("-rates: %w", err)
	}
	if cfg.periods, err = parseList(*periods, time.ParseDuration); err != nil {
		return fmt.Errorf("-periods: %w", err)
	}
	if *reactors != "" {
		if cfg.reactors, err = parseList(*reactors, time.ParseDuration); err != nil {
			return fmt.Errorf("-reactor-periods: %w", err)
		}
	}
	if cfg.shards < 1 {
		return errors.New("-shards must be at least 1")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	rows, err := measure(ctx, exe, cfg)
	if err != nil {
		return err
	}
	printTable(out, cfg, rows)
	return nil
}

// parseList parses a comma-separated list.
func parseList[T any](list string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, s := range strings.Split(list, ",") {
		v, err := parse(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// row is one reader's figures at one rate.
type row struct {
	rate   float64
	reader string
	result readerResult
}

// measure runs, for each rate, one fake and then each reader in turn.
func measure(ctx context.Context, exe string, cfg config) ([]row, error) {
	var rows []row
	readers := []string{"net"}
	for _, p := range cfg.periods {
		readers = append(readers, "paced:"+p.String())
	}
	for _, p := range cfg.reactors {
		readers = append(readers, "reactor:"+p.String())
	}
	for _, p := range cfg.reactors {
		readers = append(readers, "timer:"+p.String())
	}
	for _, rate := range cfg.rates {
		fake, err := startFake(ctx, exe, fakeSpec{Shards: cfg.shards, PerShard: rate / float64(cfg.shards)})
		if err != nil {
			return nil, err
		}
		for _, reader := range readers {
			res, err := runReader(ctx, exe, readerSpec{URL: fake.url, Token: fake.token, Shards: cfg.shards,
				Reader: reader, Warmup: cfg.warmup, Window: cfg.window})
			if err != nil {
				fake.stop()
				return nil, fmt.Errorf("%s at %.0f/s: %w", reader, rate, err)
			}
			rows = append(rows, row{rate: rate, reader: reader, result: res})
		}
		if err := fake.stop(); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// fakeChild is a running fake Discord in a child process; closing its
// stdin stops it.
type fakeChild struct {
	cmd        *exec.Cmd
	stdin      io.Closer
	url, token string
}

func startFake(ctx context.Context, exe string, spec fakeSpec) (*fakeChild, error) {
	js, _ := json.Marshal(spec)
	cmd := exec.CommandContext(ctx, exe, "-child", "fake", "-spec", string(js))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fakeChild{cmd: cmd, stdin: stdin}
	sc := bufio.NewScanner(stdout)
	for f.url == "" || f.token == "" {
		if !sc.Scan() {
			_ = f.stop()
			return nil, errors.New("the fake exited before printing its address")
		}
		key, value, _ := strings.Cut(sc.Text(), " ")
		switch key {
		case "url":
			f.url = value
		case "token":
			f.token = value
		}
	}
	return f, nil
}

func (f *fakeChild) stop() error {
	_ = f.stdin.Close()
	return f.cmd.Wait()
}

func runReader(ctx context.Context, exe string, spec readerSpec) (readerResult, error) {
	js, _ := json.Marshal(spec)
	cmd := exec.CommandContext(ctx, exe, "-child", "reader", "-spec", string(js))
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return readerResult{}, err
	}
	var res readerResult
	if err := json.Unmarshal(outb, &res); err != nil {
		return readerResult{}, fmt.Errorf("decoding the reader's result: %w", err)
	}
	return res, nil
}

// printTable writes one line per rate and reader.
func printTable(out io.Writer, cfg config, rows []row) {
	fmt.Fprintf(out, "%d shards, %v window after %v warm-up; CPU of the reader process only (getrusage)\n\n",
		cfg.shards, cfg.window, cfg.warmup)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rate (frames/s)\treader\tframes/s\tuser µs/frame\tsys µs/frame\ttotal µs/frame\tCPU ms/s\t")
	for _, r := range rows {
		perSec := (r.result.UserNS + r.result.SysNS) / 1e6 / cfg.window.Seconds()
		if r.result.Frames == 0 {
			fmt.Fprintf(tw, "%.0f\t%s\t0\t-\t-\t-\t%.2f\t\n", r.rate, r.reader, perSec)
			continue
		}
		n := float64(r.result.Frames)
		user, sys := r.result.UserNS/1e3/n, r.result.SysNS/1e3/n
		fmt.Fprintf(tw, "%.0f\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", r.rate, r.reader,
			n/cfg.window.Seconds(), user, sys, user+sys, perSec)
	}
	_ = tw.Flush()
}
