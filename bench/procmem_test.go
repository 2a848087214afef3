package main

import (
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseProcStatus(t *testing.T) {
	t.Parallel()
	const real = "Name:\tbench\nVmPeak:\t  812345 kB\nVmSize:\t  800000 kB\nVmHWM:\t   54321 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n"
	cases := []struct {
		name    string
		in      string
		want    procMem
		wantErr bool
	}{
		{"real layout", real, procMem{RSSKB: 12345, HWMKB: 54321}, false},
		{"order and spacing do not matter", "VmRSS: 7 kB\nVmHWM:\t\t9 kB\n", procMem{RSSKB: 7, HWMKB: 9}, false},
		{"zero is a value", "VmRSS:\t0 kB\nVmHWM:\t0 kB\n", procMem{}, false},
		{"VmRSSx is not VmRSS", "VmRSSx:\t1 kB\nVmHWM:\t2 kB\n", procMem{}, true},
		{"look-alike keys are skipped", "VmRSS:\t5 kB\nVmHWM:\t9 kB\nVmRSSx:\t1 kB\nVmHWMy:\t1 kB\n", procMem{RSSKB: 5, HWMKB: 9}, false},
		{"no VmHWM", "VmRSS:\t1 kB\n", procMem{}, true},
		{"no VmRSS", "VmHWM:\t1 kB\n", procMem{}, true},
		{"empty", "", procMem{}, true},
		{"not a number", "VmRSS:\tlots kB\nVmHWM:\t1 kB\n", procMem{}, true},
		{"negative", "VmRSS:\t-1 kB\nVmHWM:\t1 kB\n", procMem{}, true},
		{"another unit", "VmRSS:\t1 MB\nVmHWM:\t1 kB\n", procMem{}, true},
		{"no unit", "VmRSS:\t1\nVmHWM:\t1 kB\n", procMem{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseProcStatus(strings.NewReader(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrNoProcStatus) {
					t.Errorf("err = %v; want ErrNoProcStatus", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseProcStatus = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestReadProcMemAndResetPeak reads this process's own figures. On Linux
// VmRSS and VmHWM exist and the peak is never below the RSS; resetting
// the peak either works or fails with ErrNoPeakReset.
func TestReadProcMemAndResetPeak(t *testing.T) {
	t.Parallel()
	m, err := readProcMem()
	if runtime.GOOS != "linux" {
		if !errors.Is(err, ErrNoProcStatus) {
			t.Errorf("err = %v off Linux; want ErrNoProcStatus", err)
		}
		return
	}
	if err != nil || m.RSSKB <= 0 || m.HWMKB < m.RSSKB {
		t.Fatalf("readProcMem = %+v, %v; want RSS > 0 and HWM >= RSS", m, err)
	}
	if err := resetPeak(); err != nil && !errors.Is(err, ErrNoPeakReset) {
		t.Errorf("resetPeak: %v; want nil or ErrNoPeakReset", err)
	}
	p := beginPhase()
	p.endPhase()
	if p.Err != "" || p.BeforeKB <= 0 || p.PeakKB <= 0 {
		t.Errorf("phase %+v; want both figures", p)
	}
}

func TestRSSPhaseRatio(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    rssPhase
		want float64
	}{
		{rssPhase{BeforeKB: 100, PeakKB: 150}, 1.5},
		{rssPhase{BeforeKB: 0, PeakKB: 150}, 0},
		{rssPhase{BeforeKB: 100, PeakKB: 150, Err: "no /proc"}, 0},
	}
	for _, tc := range cases {
		if got := tc.p.peakVsBefore(); got != tc.want {
			t.Errorf("%+v: peakVsBefore = %v; want %v", tc.p, got, tc.want)
		}
	}
	failed := rssPhase{Err: "no /proc"}
	failed.endPhase()
	if failed.PeakKB != 0 || failed.Err != "no /proc" {
		t.Errorf("endPhase on a failed phase changed it: %+v", failed)
	}
}

// touched keeps what touch allocated reachable while a test needs it.
var touched []byte

// touch allocates n bytes and writes every page, so they are resident.
func touch(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

// TestPhaseForgetsTheEarlierPeak: a phase starts from the RSS now, not the
// earlier peak, and (where VmHWM can be reset) its peak is its own. Not
// parallel: the parallel tests wait until it is done, so no other test's
// memory moves this process's RSS meanwhile.
func TestPhaseForgetsTheEarlierPeak(t *testing.T) {
	if _, err := readProcMem(); runtime.GOOS != "linux" {
		if !errors.Is(err, ErrNoProcStatus) {
			t.Errorf("err = %v off Linux; want ErrNoProcStatus", err)
		}
		return
	}
	const mib = 1 << 20
	touched = touch(128 * mib)
	touched = nil
	debug.FreeOSMemory()
	before, err := readProcMem()
	if err != nil {
		t.Fatal(err)
	}
	if before.HWMKB-before.RSSKB < 100*1024 {
		t.Fatalf("the 128 MiB spike is not above the RSS: %+v", before)
	}
	p := beginPhase()
	if p.Err != "" || p.BeforeKB > before.RSSKB+16*1024 {
		t.Fatalf("phase %+v began from the old peak, not the RSS %d KiB", p, before.RSSKB)
	}
	touched = touch(32 * mib)
	p.endPhase()
	touched = nil
	if p.PeakKB < p.BeforeKB+28*1024 {
		t.Errorf("peak %d KiB; want at least the 32 MiB touched above %d KiB", p.PeakKB, p.BeforeKB)
	}
	if p.PeakReset && p.PeakKB >= before.HWMKB {
		t.Errorf("peak %d KiB after a reset still counts the earlier spike (%d KiB)", p.PeakKB, before.HWMKB)
	}
	if !p.PeakReset {
		t.Log("VmHWM cannot be reset here; the phase's peak is the process's")
	}
}
