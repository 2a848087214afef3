package pacedconn

import "sync/atomic"

// fdRef counts the syscalls in flight on a conn's fd, so that Close never
// closes the fd under one of them (the kernel may give the number to the
// next socket opened, and the syscall would then act on that one). The
// last to leave, Close or a syscall, destroys the fd. It plays the part of
// the reference count in Go's internal fdMutex. The zero value is an open
// fd with no syscall in flight.
type fdRef struct{ state atomic.Uint64 }

const refClosed = 1 << 63

// acquire takes a reference, or reports false once the fd is closed.
func (r *fdRef) acquire() bool {
	for {
		s := r.state.Load()
		if s&refClosed != 0 {
			return false
		}
		if r.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// release drops a reference. It reports true to the one caller that must
// destroy the fd: the last to leave after close.
func (r *fdRef) release() bool { return r.state.Add(^uint64(0)) == refClosed }

// close marks the fd closed. first is true for the first call only; last
// is true if no syscall is in flight, so that the caller must destroy it.
func (r *fdRef) close() (first, last bool) {
	for {
		s := r.state.Load()
		if s&refClosed != 0 {
			return false, false
		}
		if r.state.CompareAndSwap(s, s|refClosed) {
			return true, s == 0
		}
	}
}
