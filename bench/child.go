package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Every measured party runs in a child process of the bench binary: the
// fake Discord, each bot under test, the decode-only limit and each memory
// probe. So getrusage(RUSAGE_SELF) in a bot counts that bot only, each heap
// measurement starts from a clean heap, and the process-wide JSON engine
// of one party never leaks into another's figures.
//
// A child is "bench -child ROLE -spec JSON". It writes its result as one
// JSON line on stdout; the fake writes three lines (see runFakeChild) and
// then serves until its stdin closes.

// ErrChild is matched by every failure of a child process.
var ErrChild = errors.New("bench: child process failed")

// childError is a failed child with the tail of its stderr and, when it
// crashed, its first panic line.
type childError struct {
	Role  string
	Err   error
	Tail  string
	Panic string // "panic: ..." or "fatal error: ..."; empty if none was seen
}

func (e *childError) Error() string {
	msg := fmt.Sprintf("bench: child %s: %v", e.Role, e.Err)
	switch {
	case e.Panic != "":
		msg += ": " + e.Panic
	case e.Tail != "":
		msg += ": " + e.Tail
	}
	return msg
}

func (e *childError) Unwrap() []error { return []error{ErrChild, e.Err} }

// tailBuffer keeps the last bytes written to it, and the first line that
// starts a Go panic or fatal error, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	panic string
}

const tailSize = 2048

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if t.panic == "" {
		for _, marker := range []string{"panic: ", "fatal error: "} {
			// Go writes a panic line in pieces: take it once it is whole.
			i := bytes.Index(t.buf, []byte(marker))
			if i < 0 {
				continue
			}
			if line, _, whole := strings.Cut(string(t.buf[i:]), "\n"); whole {
				t.panic = line
			}
			break
		}
	}
	if len(t.buf) > tailSize {
		t.buf = t.buf[len(t.buf)-tailSize:]
	}
	return len(p), nil
}

// panicLine returns the first panic or fatal error line seen, if any.
func (t *tailBuffer) panicLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.panic
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// launcher starts children from one executable.
type launcher struct {
	exe     string    // the bench binary (or its jsonv2 build)
	verbose io.Writer // children's stderr also goes here when non-nil
}

// command builds the command of one child; its stderr is kept in tail.
func (l launcher) command(ctx context.Context, role string, spec any, tail *tailBuffer) (*exec.Cmd, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, l.exe, "-child", role, "-spec", string(js))
	cmd.Stderr = tail
	if l.verbose != nil {
		cmd.Stderr = io.MultiWriter(tail, l.verbose)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd, nil
}

// run runs one child to completion and decodes its JSON line into out.
// ctx bounds it: the child is killed when ctx ends.
func (l launcher) run(ctx context.Context, role string, spec, out any) error {
	var tail tailBuffer
	cmd, err := l.command(ctx, role, spec, &tail)
	if err != nil {
		return err
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return &childError{Role: role, Err: err, Tail: tail.String(), Panic: tail.panicLine()}
	}
	line := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal(line, out); err != nil {
		return &childError{Role: role, Err: fmt.Errorf("decoding result: %w", err), Tail: tail.String()}
	}
	return nil
}

// writeResult writes a child's result line on stdout.
func writeResult(v any) error {
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(os.Stdout, "%s\n", js)
	return err
}

// server is a running child that serves until stopped (the fake).
type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines []string
	tail  *tailBuffer
	done  chan error // capacity 1: Wait's result
}

// serve starts a serving child and reads its first n stdout lines (within
// 30 s). The child is killed when ctx ends; stop it with stop.
func (l launcher) serve(ctx context.Context, role string, spec any, n int) (*server, error) {
	tail := &tailBuffer{}
	cmd, err := l.command(ctx, role, spec, tail)
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, &childError{Role: role, Err: err}
	}
	s := &server{cmd: cmd, stdin: stdin, tail: tail, done: make(chan error, 1)}
	got := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var lines []string
		for len(lines) < n && sc.Scan() {
			lines = append(lines, sc.Text())
		}
		got <- lines
		_, _ = io.Copy(io.Discard, stdout) // until the child exits
		s.done <- cmd.Wait()
	}()
	select {
	case s.lines = <-got:
	case <-time.After(30 * time.Second):
	}
	if len(s.lines) < n {
		s.stop()
		return nil, &childError{Role: role, Err: errors.New("no address lines"), Tail: tail.String()}
	}
	return s, nil
}

// stop closes the child's stdin (its signal to shut down), waits up to
// 10 s and then kills it.
func (s *server) stop() {
	_ = s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
