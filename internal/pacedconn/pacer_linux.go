package pacedconn

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The pacer registers each socket once, edge-triggered, for reading and
// writing, as Go's netpoller does. Edge-triggered is what lets the pacer
// sleep on a socket that nobody reads, or whose peer has hung up, instead
// of being woken for it at every wait until it is closed: an event means
// "something changed since you last looked", and a reader or writer waits
// for one only after the socket answered EAGAIN.
// (syscall spells EPOLLET as a negative int, which uint32 cannot hold.)
const socketEvents uint32 = syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | 1<<31

// The events that wake a conn's reader and its writer. An error or a hang
// up wakes both, so that each sees it in its next syscall.
const (
	readEvents  uint32 = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR
	writeEvents uint32 = syscall.EPOLLOUT | syscall.EPOLLHUP | syscall.EPOLLERR
	// hangupEvents are those after which a read(2) never answers EAGAIN
	// again: the peer's FIN (a reset sets it too) or a socket error. Not
	// EPOLLHUP alone: a socket registered before connect(2) reports it
	// while it is still unconnected.
	hangupEvents uint32 = syscall.EPOLLRDHUP | syscall.EPOLLERR
)

// stopID is the epoll data of a pacer's stop pipe; conn ids are never 0.
const stopID = 0

// pacer is the goroutine that watches every socket of one coalescing
// period with an epoll set of its own. It blocks in epoll_wait until a
// socket is ready, gives a token to each reader and writer of a ready
// socket (its capacity-1 ready channel), then sleeps for the period
// before it waits again. A kick ends the sleep early: writers and connects
// are not paced.
//
// Sockets are registered by an id of ours, not by fd number, so an event
// that was queued for a socket just closed (whose number the kernel may
// already have given to another) finds no conn.
type pacer struct {
	period time.Duration
	ep     int
	stopR  int           // read end of the stop pipe, registered in ep
	stopW  int           // write end: written once, when the last conn is gone
	kick   chan struct{} // capacity 1: ends the current sleep
	quit   chan struct{} // closed when the pacer must exit
	done   chan struct{} // closed when run has returned and ep is closed
	wakes  atomic.Uint64 // epoll_waits that returned events

	mu    sync.Mutex
	conns map[uint32]*conn

	// Tests only: onQuit is called by forget once quit is closed, under
	// pacers.mu.
	onQuit func()
}

// pacers holds the running pacer of each period. Its lock is taken before
// a pacer's own.
var pacers struct {
	mu     sync.Mutex
	byTime map[time.Duration]*pacer
	lastID uint32
}

// attach registers c (whose fd is open and not yet shared) with the pacer
// of period, starting that pacer if none runs, and sets c.id and c.pacer.
func attach(c *conn, period time.Duration) error {
	pacers.mu.Lock()
	defer pacers.mu.Unlock()
	p := pacers.byTime[period]
	if p == nil {
		var err error
		if p, err = startPacer(period); err != nil {
			return err
		}
		if pacers.byTime == nil {
			pacers.byTime = make(map[time.Duration]*pacer)
		}
		pacers.byTime[period] = p
	}
	p.mu.Lock()
	for {
		pacers.lastID++
		if _, used := p.conns[pacers.lastID]; !used && pacers.lastID != stopID {
			break
		}
	}
	c.id, c.pacer = pacers.lastID, p
	p.conns[c.id] = c
	p.mu.Unlock()
	ev := syscall.EpollEvent{Events: socketEvents, Fd: int32(c.id)}
	if err := syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.forget(c)
		return fmt.Errorf("pacedconn: epoll_ctl add: %w", err)
	}
	return nil
}

// detach removes c, whose fd has been closed, and stops the pacer if c was
// its last conn. A new conn of the same period then starts a new pacer.
func detach(c *conn) {
	pacers.mu.Lock()
	defer pacers.mu.Unlock()
	c.pacer.forget(c)
}

// forget removes c and stops p if it has no conn left. pacers.mu is held.
func (p *pacer) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	empty := len(p.conns) == 0
	p.mu.Unlock()
	if !empty {
		return
	}
	if pacers.byTime[p.period] == p {
		delete(pacers.byTime, p.period)
	}
	// The pipe is written before quit is closed: once quit is closed the
	// pacer may exit and close the pipe, and its number may then belong
	// to another file of the process. The pipe has room: it is written
	// once. If the write failed, the pacer would sleep in epoll_wait
	// forever; it cannot fail on a pipe of ours with an open read end.
	_, _ = syscall.Write(p.stopW, []byte{1})
	close(p.quit)
	if p.onQuit != nil {
		p.onQuit()
	}
}

// startPacer makes the epoll set and the stop pipe of a new pacer and
// starts its goroutine.
func startPacer(period time.Duration) (*pacer, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("pacedconn: epoll_create1: %w", err)
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		_ = syscall.Close(ep)
		return nil, fmt.Errorf("pacedconn: pipe2: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: stopID}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		_ = syscall.Close(ep)
		_ = syscall.Close(pipe[0])
		_ = syscall.Close(pipe[1])
		return nil, fmt.Errorf("pacedconn: epoll_ctl add: %w", err)
	}
	p := &pacer{period: period, ep: ep, stopR: pipe[0], stopW: pipe[1],
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		conns: make(map[uint32]*conn)}
	go p.run()
	return p, nil
}

// wake ends the pacer's current sleep, if it sleeps; otherwise its next
// sleep ends at once. It never blocks.
func (p *pacer) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// notify gives ch a token unless it has one. It never blocks.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// maxEvents is how many ready sockets one epoll_wait returns at most; the
// rest wait for the next one.
const maxEvents = 128

func (p *pacer) run() {
	defer func() {
		_ = syscall.Close(p.ep)
		_ = syscall.Close(p.stopR)
		_ = syscall.Close(p.stopW)
		close(p.done)
	}()
	events := make([]syscall.EpollEvent, maxEvents)
	var sleep *time.Timer
	if p.period > 0 {
		sleep = time.NewTimer(p.period)
		sleep.Stop()
	}
	// After a sleep the pacer looks (a non-blocking epoll_wait) before it
	// blocks: at steady traffic something is ready every period, and the
	// pacer then never blocks in a syscall at all. That saves the
	// runtime's work around a blocking syscall (sysmon taking the P
	// away, the thread getting one back) at every period.
	block := true
	for {
		// A kick sent before this point is served by this wait: the
		// writer that sent it is already waiting for the event.
		select {
		case <-p.kick:
		default:
		}
		timeout := 0
		if block {
			timeout = -1
		}
		n, err := syscall.EpollWait(p.ep, events, timeout)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			// Only EBADF, EFAULT and EINVAL remain, which mean that the
			// epoll set or the buffer is not ours: a bug in this package.
			panic(fmt.Sprintf("pacedconn: epoll_wait: %v", err))
		}
		if n == 0 {
			block = true // nothing was ready: wait for something
			continue
		}
		block = sleep == nil
		p.wakes.Add(1)
		p.deliver(events[:n])
		select {
		case <-p.quit:
			return
		default:
		}
		if sleep == nil {
			continue
		}
		sleep.Reset(p.period)
		select {
		case <-sleep.C:
		case <-p.kick:
			sleep.Stop()
		case <-p.quit:
			sleep.Stop()
			return
		}
	}
}

// deliver gives a token to the reader and the writer of each conn that
// events say is ready.
func (p *pacer) deliver(events []syscall.EpollEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range events {
		c := p.conns[uint32(ev.Fd)]
		if c == nil {
			continue // the stop pipe, or a conn detached since
		}
		c.events++
		if ev.Events&hangupEvents != 0 {
			c.hangup.Store(true) // before the token: see conn.hangup
		}
		if ev.Events&readEvents != 0 {
			notify(c.rready)
		}
		if ev.Events&writeEvents != 0 {
			notify(c.wready)
		}
	}
}
