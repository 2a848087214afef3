package pacedconn

import "testing"

// TestFDRef: the last to leave, Close or a syscall, destroys; Close once.
func TestFDRef(t *testing.T) {
	t.Parallel()
	var r fdRef
	if first, last := r.close(); !first || !last {
		t.Fatalf("close with nothing in flight = %v, %v; want true, true", first, last)
	}
	if r.acquire() {
		t.Fatal("acquire after close succeeded")
	}
	if first, last := r.close(); first || last {
		t.Fatalf("second close = %v, %v; want false, false", first, last)
	}

	var s fdRef
	for range 2 {
		if !s.acquire() {
			t.Fatal("acquire on an open fd failed")
		}
	}
	if first, last := s.close(); !first || last {
		t.Fatalf("close with two in flight = %v, %v; want true, false", first, last)
	}
	if s.release() {
		t.Fatal("the first of two releases was told to destroy")
	}
	if !s.release() {
		t.Fatal("the last release after close was not told to destroy")
	}

	var o fdRef
	o.acquire()
	if o.release() {
		t.Fatal("a release with no close was told to destroy")
	}
}
