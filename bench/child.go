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

// piped is a running child that the parent talks to over its stdin and
// stdout: the child's stdout lines arrive in order on lines, and closing
// its stdin is its signal to exit. Its stderr is kept in tail.
type piped struct {
	role     string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	lines    chan string // the child's stdout lines; closed at its EOF
	tail     *tailBuffer
	quit     chan struct{} // closed by stop: later lines are dropped
	quitOnce sync.Once
	done     chan error // capacity 1: Wait's result
}

// startPiped starts a child of role with spec. The child is killed when
// ctx ends; stop it with stop.
func (l launcher) startPiped(ctx context.Context, role string, spec any) (*piped, error) {
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
	p := &piped{role: role, cmd: cmd, stdin: stdin, lines: make(chan string, 1), tail: tail,
		quit: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			case <-p.quit:
			}
		}
		close(p.lines)
		_, _ = io.Copy(io.Discard, stdout) // until the child exits
		p.done <- cmd.Wait()
	}()
	return p, nil
}

// nextLine returns the child's next stdout line, waiting at most d.
func (p *piped) nextLine(d time.Duration) (string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", &childError{Role: p.role, Err: errors.New("exited early"), Tail: p.tail.String(), Panic: p.tail.panicLine()}
		}
		return line, nil
	case <-t.C:
		return "", &childError{Role: p.role, Err: fmt.Errorf("no answer within %s", d), Tail: p.tail.String()}
	}
}

// stop closes the child's stdin (its signal to shut down), waits up to
// 15 s and then kills it. Only the first call does anything.
func (p *piped) stop() {
	p.quitOnce.Do(func() {
		close(p.quit)
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// server is a running child that serves until stopped (the fake); first
// holds the lines it wrote on start.
type server struct {
	*piped
	first []string
}

// serve starts a serving child and reads its first n stdout lines (within
// 30 s). The child is killed when ctx ends; stop it with stop.
func (l launcher) serve(ctx context.Context, role string, spec any, n int) (*server, error) {
	p, err := l.startPiped(ctx, role, spec)
	if err != nil {
		return nil, err
	}
	s := &server{piped: p}
	for len(s.first) < n {
		line, err := p.nextLine(30 * time.Second)
		if err != nil {
			p.stop()
			return nil, err
		}
		s.first = append(s.first, line)
	}
	return s, nil
}
