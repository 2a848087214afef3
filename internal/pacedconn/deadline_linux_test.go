package pacedconn

import (
	"testing"
	"testing/synctest"
	"time"
)

// passed reports whether d's wait channel is closed, after every timer
// of the bubble due by now has run.
func passed(d *deadline) bool {
	synctest.Wait()
	select {
	case <-d.wait():
		if !d.passed.Load() {
			panic("wait channel closed but passed is false")
		}
		return true
	default:
		if d.passed.Load() {
			panic("passed is true but the wait channel is open")
		}
		return false
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	steps := func(t *testing.T, d *deadline, want ...bool) {
		t.Helper()
		for i, w := range want {
			if got := passed(d); got != w {
				t.Fatalf("at %d s: passed = %v, want %v", i, got, w)
			}
			time.Sleep(time.Second)
		}
	}
	for _, c := range []struct {
		name string
		run  func(t *testing.T, d *deadline)
	}{
		{"none", func(t *testing.T, d *deadline) { steps(t, d, false, false) }},
		{"past", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(-time.Nanosecond))
			steps(t, d, true, true)
		}},
		{"now", func(t *testing.T, d *deadline) {
			d.set(time.Now())
			steps(t, d, true)
		}},
		{"future", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(1500 * time.Millisecond))
			steps(t, d, false, false, true, true)
		}},
		{"cleared before it passes", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(1500 * time.Millisecond))
			steps(t, d, false)
			d.set(time.Time{})
			steps(t, d, false, false, false)
		}},
		{"cleared after it passed", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(-time.Second))
			steps(t, d, true)
			d.set(time.Time{})
			steps(t, d, false, false)
		}},
		{"moved later before it passes", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(1500 * time.Millisecond))
			steps(t, d, false)
			d.set(time.Now().Add(2500 * time.Millisecond))
			steps(t, d, false, false, false, true)
		}},
		{"moved earlier", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(time.Hour))
			d.set(time.Now().Add(500 * time.Millisecond))
			steps(t, d, false, true)
		}},
		{"moved later after it passed", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(500 * time.Millisecond))
			steps(t, d, false, true)
			d.set(time.Now().Add(1500 * time.Millisecond))
			steps(t, d, false, false, true)
		}},
		{"moved into the past", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(time.Hour))
			d.set(time.Now().Add(-time.Hour))
			steps(t, d, true)
		}},
		{"a waiter sees the deadline set after it began", func(t *testing.T, d *deadline) {
			woke := make(chan struct{})
			go func() {
				<-d.wait()
				close(woke)
			}()
			synctest.Wait()
			d.set(time.Now().Add(time.Second))
			<-woke
		}},
		{"stopped", func(t *testing.T, d *deadline) {
			d.set(time.Now().Add(time.Second))
			d.stop()
			steps(t, d, false, false, false)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { c.run(t, newDeadline()) })
		})
	}
}
