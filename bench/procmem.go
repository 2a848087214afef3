package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Resident memory as an operator sees it (top, ps, a container's memory
// limit), next to the live-heap figures: VmRSS is what the process holds
// now, VmHWM the most it has held since it started or since its peak was
// last reset. Both come from /proc/self/status (Linux).

// ErrNoProcStatus is matched when /proc/self/status cannot be read or
// lacks VmRSS or VmHWM (not Linux, or /proc not mounted).
var ErrNoProcStatus = errors.New("bench: no VmRSS and VmHWM in /proc/self/status")

// ErrNoPeakReset is matched when VmHWM cannot be reset (Linux before 4.0,
// or /proc/self/clear_refs not writable).
var ErrNoPeakReset = errors.New("bench: cannot reset VmHWM through /proc/self/clear_refs")

// procMem is a process's resident set, in KiB as /proc reports it.
type procMem struct {
	RSSKB int64 `json:"rss_kb"` // VmRSS: resident now
	HWMKB int64 `json:"hwm_kb"` // VmHWM: the peak of VmRSS since start or the last resetPeak
}

// parseProcStatus reads VmRSS and VmHWM from the text of a
// /proc/PID/status file ("VmRSS:\t   1234 kB" lines). Both must be there.
func parseProcStatus(r io.Reader) (procMem, error) {
	var m procMem
	var seenRSS, seenHWM bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(val), " ")
		kb, err := strconv.ParseInt(num, 10, 64)
		if err != nil || kb < 0 || strings.TrimSpace(unit) != "kB" {
			return procMem{}, fmt.Errorf("%w: bad %s line %q", ErrNoProcStatus, key, sc.Text())
		}
		if key == "VmRSS" {
			m.RSSKB, seenRSS = kb, true
		} else {
			m.HWMKB, seenHWM = kb, true
		}
	}
	if err := sc.Err(); err != nil {
		return procMem{}, fmt.Errorf("%w: %w", ErrNoProcStatus, err)
	}
	if !seenRSS || !seenHWM {
		return procMem{}, ErrNoProcStatus
	}
	return m, nil
}

// readProcMem reads this process's VmRSS and VmHWM.
func readProcMem() (procMem, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return procMem{}, fmt.Errorf("%w: %w", ErrNoProcStatus, err)
	}
	defer f.Close()
	return parseProcStatus(f)
}

// resetPeak sets this process's VmHWM back to its current VmRSS, so that a
// later VmHWM is the peak of one phase: it writes "5" to
// /proc/self/clear_refs (Linux 4.0 and later). On failure the peak stays
// the process's peak since it started.
func resetPeak() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("%w: %w", ErrNoPeakReset, err)
	}
	return nil
}

// rssPhase is the resident memory around one phase of a child: before it
// (idle, or the baseline) and its peak.
type rssPhase struct {
	BeforeKB  int64  `json:"before_kb"`  // VmRSS just before the phase
	PeakKB    int64  `json:"peak_kb"`    // VmHWM at the phase's end
	PeakReset bool   `json:"peak_reset"` // VmHWM was reset at the phase's start; if not, PeakKB is the peak since the process started
	Err       string `json:"error,omitempty"`
}

// beginPhase reads VmRSS and resets VmHWM; endPhase reads the peak.
func beginPhase() rssPhase {
	m, err := readProcMem()
	if err != nil {
		return rssPhase{Err: err.Error()}
	}
	return rssPhase{BeforeKB: m.RSSKB, PeakReset: resetPeak() == nil}
}

// endPhase fills the phase's peak from VmHWM now.
func (p *rssPhase) endPhase() {
	if p.Err != "" {
		return
	}
	m, err := readProcMem()
	if err != nil {
		p.Err = err.Error()
		return
	}
	p.PeakKB = m.HWMKB
}

// peakVsBefore is the phase's peak ÷ the RSS before it (0 when unknown).
func (p rssPhase) peakVsBefore() float64 {
	if p.Err != "" {
		return 0
	}
	return ratio(float64(p.PeakKB), float64(p.BeforeKB))
}
