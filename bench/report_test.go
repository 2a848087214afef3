package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"runtime"
	"strings"
	"testing"
)

// syntheticReport is a report with known figures.
func syntheticReport() *report {
	r := newReport("quick", []string{"-quick"})
	procs := min(runtime.GOMAXPROCS(0), headlineShards)
	fig := func(perCPU, perSec float64) figure {
		return figure{Reps: 3, EventsPerCPUS: perCPU, EventsPerSec: perSec, CPUMicrosPerEv: 1e6 / perCPU}
	}
	r.Throughput = []tpCell{
		{Party: "megane", Shards: 16, Clusters: 1, Compression: "none", Msg: fig(60000, 40000)},
		{Party: "megane", Shards: 16, Clusters: 2, Compression: "none", Msg: fig(80000, 50000)},
		{Party: "disgo", Shards: 16, Compression: "none", Msg: fig(10000, 9000)},
		{Party: "disgo(jsonv2)", Shards: 16, Compression: "none", Msg: fig(20000, 15000)},
		{Party: "megane", Shards: 64, Clusters: procs, Compression: "none", Msg: fig(70000, 45000)},
		{Party: "disgo", Shards: 64, Compression: "none", Err: "broke"},
	}
	if procs != 2 {
		r.Throughput[1].Clusters = procs
	}
	r.Limits = []limitCell{{Compression: "none", limitResult: limitResult{FastMsg: fig(100000, 100000)}}}
	r.Memory = []memCell{
		{Label: "megane default (DefaultCacheFlags: +members, disgo caches)", Party: partyMegane, PerGuildKB: 61},
		{Label: memCompactLabel, Party: partyMegane, PerGuildKB: 30},
		{Label: memDisgoLabel, Party: partyDisgo, PerGuildKB: 60},
	}
	r.Startup = []startupCell{{Shards: 64, Clusters: 2, MaxConcurrency: 16, WindowMs: 20, TheoreticalS: 0.08, ReadyS: 0.1,
		Restarts: map[string]restart{"resume": {Seconds: 0.02, Resumes: 32}}}}
	r.Micro = []microResult{{Name: "bus round trip", Group: "bare channel", NsPerOp: 500}, {Name: "bus round trip", Group: "bus.Request", NsPerOp: 1500}}
	r.finish(quickMode())
	return r
}

func TestFinishComputesTheKeyRatios(t *testing.T) {
	t.Parallel()
	r := syntheticReport()
	want := map[string]float64{"megane_vs_disgo": 8, "megane_vs_disgo_jsonv2": 4, "megane_vs_limit": 0.8, "megane_2_clusters_vs_1": 1.25, "memory_vs_disgo": 0.5}
	if runtime.GOMAXPROCS(0) == 1 {
		want["megane_vs_disgo"], want["megane_vs_disgo_jsonv2"], want["megane_vs_limit"] = 6, 3, 0.6
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if f, ok := got[k].(float64); !ok || f != v {
			t.Errorf("%s = %v; want %v", k, got[k], v)
		}
	}
}

func TestTablesAndMarkdownCarryTheFigures(t *testing.T) {
	t.Parallel()
	r := syntheticReport()
	var tables, md bytes.Buffer
	writeTables(&tables, r)
	if err := writeMarkdown(&md, r, "throughput.svg"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"megane_vs_disgo", "disgo(jsonv2)", "KB/guild", "bus.Request", "failed"} {
		if !strings.Contains(tables.String(), want) {
			t.Errorf("tables lack %q", want)
		}
	}
	for _, want := range []string{"go run ./bench -quick", "![", "throughput.svg", r.GoVersion, r.CPU, "```text"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestSVGIsWellFormedWithEverySeries(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeSVG(&b, syntheticReport()); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&b)
	var texts []string
	polylines := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "polyline" {
				polylines++
			}
		case xml.CharData:
			texts = append(texts, strings.TrimSpace(string(tok)))
		}
	}
	all := strings.Join(texts, "|")
	for _, name := range []string{"megane", "disgo", "disgo(jsonv2)", svgSeriesLimit, "16", "64"} {
		if !strings.Contains(all, name) {
			t.Errorf("SVG lacks the text %q", name)
		}
	}
	if polylines != 4 {
		t.Errorf("%d lines; want 4 (megane, disgo, disgo(jsonv2), limit)", polylines)
	}
}

func TestNiceCeilAndHumanCount(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want float64 }{{0, 1}, {0.3, 0.5}, {7, 10}, {120000, 200000}, {100, 100}} {
		if got := niceCeil(c.in); got != c.want {
			t.Errorf("niceCeil(%v) = %v; want %v", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   float64
		want string
	}{{950, "950"}, {25000, "25k"}, {1500000, "1.5M"}} {
		if got := humanCount(c.in); got != c.want {
			t.Errorf("humanCount(%v) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestPairedRatiosWinOverTheMatrix: when the paired headline ran, the key
// ratios are its medians, not the matrix's cells measured minutes apart.
func TestPairedRatiosWinOverTheMatrix(t *testing.T) {
	t.Parallel()
	r := syntheticReport()
	r.Paired = &pairedResult{Rounds: 3, Ratios: []roundStat{
		{Name: ratioVsLimit, Median: 0.61}, {Name: ratioVsDispatch, Median: 0.78},
		{Name: ratioVsDisgo, Median: 7.5}, {Name: ratioTwoVsOne, Median: 1.1}, {Name: ratioTwoVsOneWorking, Median: 1.6},
	}, HandlerWorkUS: 19.5}
	r.MeganeVsLimit, r.MeganeVsDisgo, r.TwoVsOneCluster = 0, 0, 0
	r.finish(quickMode())
	if r.MeganeVsLimit != 0.61 || r.MeganeVsLimitEvents != 0.78 || r.MeganeVsDisgo != 7.5 || r.TwoVsOneCluster != 1.1 || r.TwoVsOneWorking != 1.6 {
		t.Errorf("key ratios %v %v %v %v %v; want the paired medians",
			r.MeganeVsLimit, r.MeganeVsLimitEvents, r.MeganeVsDisgo, r.TwoVsOneCluster, r.TwoVsOneWorking)
	}
	// jsonv2 did not run paired: the matrix's figure stays.
	if r.MeganeVsDisgoJSONv2 == 0 {
		t.Error("megane_vs_disgo_jsonv2 lost its matrix figure")
	}
	var out bytes.Buffer
	writeTables(&out, r)
	for _, want := range []string{"megane_vs_limit_with_disgo_events 0.78×", "working handler  1.60×", "spins 19.5 µs per message"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, out.String())
		}
	}
}
