package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/megane-go/megane/internal/wire"
)

// report is everything one run measured; -json prints it.
type report struct {
	Mode       string   `json:"mode"`
	Args       []string `json:"args"`
	GoVersion  string   `json:"go_version"`
	CPU        string   `json:"cpu"`
	GOMAXPROCS int      `json:"gomaxprocs"`
	Date       string   `json:"date"`
	ElapsedS   float64  `json:"elapsed_s"`

	// The key ratios, at 16 shards, no compression, MESSAGE_CREATE,
	// caches off, GOMAXPROCS clusters.
	MeganeVsDisgo       float64 `json:"megane_vs_disgo"`                        // events per CPU-second, Megane ÷ plain disgo (encoding/json)
	MeganeVsDisgoJSONv2 float64 `json:"megane_vs_disgo_jsonv2"`                 // the same against disgo built with GOEXPERIMENT=jsonv2
	MeganeVsLimit       float64 `json:"megane_vs_limit"`                        // events per CPU-second, Megane ÷ decode-only limit (per core)
	MeganeVsLimitEvents float64 `json:"megane_vs_limit_with_disgo_events"`      // Megane ÷ (the limit plus disgo's event dispatch)
	TwoVsOneCluster     float64 `json:"megane_2_clusters_vs_1"`                 // wall events/s with 2 clusters ÷ with 1
	TwoVsOneWorking     float64 `json:"megane_2_clusters_vs_1_working_handler"` // the same with a handler that spins about 20 µs per message
	MemoryVsDisgo       float64 `json:"memory_vs_disgo"`                        // heap per guild, guilds+channels+roles+members, Megane's compact cache ÷ disgo's default

	Paired     *pairedResult `json:"paired_headline,omitempty"`
	Throughput []tpCell      `json:"throughput"`
	Limits     []limitCell   `json:"decode_limit"`
	Memory     []memCell     `json:"memory"`
	Startup    []startupCell `json:"startup"`
	Micro      []microResult `json:"bus_store"`
	Notes      []string      `json:"notes,omitempty"`
	Errors     []string      `json:"errors,omitempty"`
}

func newReport(modeName string, args []string) *report {
	return &report{
		Mode: modeName, Args: args, GoVersion: runtime.Version(), CPU: cpuModel(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Date: time.Now().UTC().Format(time.RFC3339),
		Notes: []string{
			"every bot and the fake Discord run in separate processes; CPU is getrusage(RUSAGE_SELF) of the bot process",
			"figures are medians of the repetitions; ratios are taken in this run, on this machine",
			"megane runs with its default JSON engine (" + wire.FastJSONName + "); megane(encoding/json) is the same after megane.UseStdJSON, and megane(jsonv2) that in the GOEXPERIMENT=jsonv2 build",
			"caches off in the throughput section (megane.WithCacheFlags(0)); the handler counts events and does nothing else",
		},
	}
}

// cpuModel reads the CPU model name from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return fmt.Sprintf("%s (%d logical CPUs)", strings.TrimSpace(v), runtime.NumCPU())
		}
	}
	return runtime.GOARCH
}

// cell finds a throughput cell.
func (r *report) cell(party string, shards, clusters int, comp string) *tpCell {
	for i := range r.Throughput {
		c := &r.Throughput[i]
		if c.Party == party && c.Shards == shards && c.Compression == comp && (clusters == 0 || c.Clusters == clusters) && c.Err == "" {
			return c
		}
	}
	return nil
}

// limit finds the decode-only limit of a compression.
func (r *report) limit(comp string) *limitCell {
	for i := range r.Limits {
		if r.Limits[i].Compression == comp && r.Limits[i].Err == "" {
			return &r.Limits[i]
		}
	}
	return nil
}

// finish computes the key ratios.
func (r *report) finish(md mode) {
	procs := runtime.GOMAXPROCS(0)
	mg := r.cell("megane", headlineShards, min(procs, headlineShards), "none")
	if mg != nil {
		if d := r.cell("disgo", headlineShards, 0, "none"); d != nil {
			r.MeganeVsDisgo = ratio(mg.Msg.EventsPerCPUS, d.Msg.EventsPerCPUS)
		}
		if d := r.cell("disgo(jsonv2)", headlineShards, 0, "none"); d != nil {
			r.MeganeVsDisgoJSONv2 = ratio(mg.Msg.EventsPerCPUS, d.Msg.EventsPerCPUS)
		}
		if l := r.limit("none"); l != nil {
			r.MeganeVsLimit = ratio(mg.Msg.EventsPerCPUS, l.FastMsg.EventsPerCPUS)
		}
	}
	if p := r.Paired; p != nil {
		// Paired rounds are the steadier measurement: they win.
		for _, x := range []struct {
			name string
			dst  *float64
		}{
			{ratioVsLimit, &r.MeganeVsLimit}, {ratioVsDispatch, &r.MeganeVsLimitEvents},
			{ratioVsDisgo, &r.MeganeVsDisgo}, {ratioVsJSONv2, &r.MeganeVsDisgoJSONv2},
			{ratioTwoVsOne, &r.TwoVsOneCluster}, {ratioTwoVsOneWorking, &r.TwoVsOneWorking},
		} {
			if pr := p.ratio(x.name); pr != nil {
				*x.dst = pr.Median
			}
		}
	}
	one, two := r.cell("megane", headlineShards, 1, "none"), r.cell("megane", headlineShards, 2, "none")
	if one != nil && two != nil && r.TwoVsOneCluster == 0 {
		r.TwoVsOneCluster = ratio(two.Msg.EventsPerSec, one.Msg.EventsPerSec)
	}
	var mm, dm float64
	for _, c := range r.Memory {
		switch c.Label {
		case memCompactLabel:
			mm = c.PerGuildKB
		case memDisgoLabel:
			dm = c.PerGuildKB
		}
	}
	r.MemoryVsDisgo = ratio(mm, dm)
	if len(r.Startup) > 0 {
		r.Notes = append(r.Notes, "startup: the fake and the queue use the same identify window, "+
			"Discord's 5 s or one scaled down (then the op 9 wait is scaled with it, window/5 to window, "+
			"and the margin is 50 ms, for the scheduling jitter of two processes on loopback); "+
			"floor = (ceil(shards/max_concurrency) − 1) × (window + margin); bound = max(ceil(shards/max_concurrency) × window + margin, floor) + 1 s; "+
			"met when every rep is within it with no bucket breach")
	}
	_ = md
}

// workingHandler describes the working handler's cost per event.
func (r *report) workingHandler() string {
	if r.Paired == nil || r.Paired.HandlerWorkUS == 0 {
		return "a handler that spins per message"
	}
	return fmt.Sprintf("a handler that spins %.1f µs per message", r.Paired.HandlerWorkUS)
}

// writeTables prints the human-readable report.
func writeTables(out io.Writer, r *report) {
	fmt.Fprintf(out, "Megane bench (%s mode) — %s, %s, GOMAXPROCS=%d, %s\n\n", r.Mode, r.GoVersion, r.CPU, r.GOMAXPROCS, r.Date)
	fmt.Fprintf(out, "Headline (16 shards, no compression, MESSAGE_CREATE, caches off, events per CPU-second):\n")
	fmt.Fprintf(out, "  megane_vs_disgo        %s\n", fmtRatio(r.MeganeVsDisgo))
	fmt.Fprintf(out, "  megane_vs_disgo_jsonv2 %s\n", fmtRatio(r.MeganeVsDisgoJSONv2))
	fmt.Fprintf(out, "  megane_vs_limit        %s\n", fmtRatio(r.MeganeVsLimit))
	fmt.Fprintf(out, "  megane_vs_limit_with_disgo_events %s (the limit plus disgo's own event dispatch)\n", fmtRatio(r.MeganeVsLimitEvents))
	fmt.Fprintf(out, "  megane 2 clusters ÷ 1  %s (wall events/s)\n", fmtRatio(r.TwoVsOneCluster))
	fmt.Fprintf(out, "  megane 2 clusters ÷ 1, working handler  %s (wall events/s; %s)\n", fmtRatio(r.TwoVsOneWorking), r.workingHandler())
	fmt.Fprintf(out, "  memory_vs_disgo        %s (heap per guild, members cached, compact cache ÷ disgo's)\n\n", fmtRatio(r.MemoryVsDisgo))
	if r.Paired != nil {
		writePaired(out, r.Paired)
	}
	if len(r.Throughput) > 0 {
		writeThroughput(out, r)
	}
	if len(r.Limits) > 0 {
		fmt.Fprintln(out, "Decode-only limit (recorded frames, one goroutine, no network), medians:")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "compression\tstream\tengine\tevents/CPU-s\tCPU-µs/event\t")
		for _, l := range r.Limits {
			if l.Err != "" {
				fmt.Fprintf(tw, "%s\terror: %s\t\t\t\t\n", l.Compression, l.Err)
				continue
			}
			for _, row := range []struct {
				stream, engine string
				f              figure
			}{
				{"MESSAGE_CREATE", "wire+fast", l.FastMsg}, {"mixed", "wire+fast", l.FastMixed},
				{"MESSAGE_CREATE", "gateway.Message+encoding/json", l.StdMsg}, {"mixed", "gateway.Message+encoding/json", l.StdMixed},
			} {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.2f\t\n", l.Compression, row.stream, row.engine, row.f.EventsPerCPUS, row.f.CPUMicrosPerEv)
			}
		}
		tw.Flush()
		fmt.Fprintln(out)
	}
	if len(r.Memory) > 0 {
		fmt.Fprintln(out, "Cache memory (live heap added per guild after all GUILD_CREATEs; 100 members, 50 channels, 20 roles each):")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "configuration\tguilds\tKB/guild (median)\treps\t")
		for _, c := range r.Memory {
			if c.Err != "" {
				fmt.Fprintf(tw, "%s\t%d\terror: %s\t\t\n", c.Label, c.Guilds, c.Err)
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t\n", c.Label, c.Guilds, c.PerGuildKB, fmtFloats(c.RepsKB, "%.1f"))
		}
		tw.Flush()
		fmt.Fprintln(out)
	}
	if len(r.Startup) > 0 {
		writeStartup(out, r)
	}
	if len(r.Micro) > 0 {
		fmt.Fprintln(out, "Bus and store (median ns/op; store ops run on GOMAXPROCS goroutines):")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "benchmark\tcontender\tns/op\tallocs/op\t÷ first row\t")
		first := map[string]float64{}
		for _, m := range r.Micro {
			if _, ok := first[m.Name]; !ok {
				first[m.Name] = m.NsPerOp
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%d\t%.2f\t\n", m.Name, m.Group, m.NsPerOp, m.AllocsPerOp, ratio(m.NsPerOp, first[m.Name]))
		}
		tw.Flush()
		fmt.Fprintln(out)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(out, "note:", n)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(out, "ERROR:", e)
	}
	fmt.Fprintf(out, "elapsed %.1fs\n", r.ElapsedS)
}

func writeThroughput(out io.Writer, r *report) {
	fmt.Fprintln(out, "Gateway throughput (bot side; medians; ÷disgo and ÷limit on events per CPU-second):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "party\tshards\tclusters\tcompression\tMC ev/s\tMC ev/CPU-s\tMC CPU-µs/ev\t÷disgo\t÷limit\tmixed ev/s\tmixed CPU-µs/ev\tstartup s\t")
	for _, c := range r.Throughput {
		cl := "-"
		if c.Clusters > 0 {
			cl = fmt.Sprint(c.Clusters)
		}
		if c.Err != "" {
			what := "failed"
			if strings.Contains(c.Err, "panic") || strings.Contains(c.Err, "fatal error") {
				what = "crashed"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\t\t\t\t\t\t\t\n", c.Party, c.Shards, cl, c.Compression, what)
			continue
		}
		vsD, vsL := "", ""
		if d := r.cell("disgo", c.Shards, 0, c.Compression); d != nil {
			vsD = fmtRatio(ratio(c.Msg.EventsPerCPUS, d.Msg.EventsPerCPUS))
		}
		if l := r.limit(c.Compression); l != nil {
			vsL = fmtRatio(ratio(c.Msg.EventsPerCPUS, l.FastMsg.EventsPerCPUS))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.0f\t%.0f\t%.2f\t%s\t%s\t%.0f\t%.2f\t%.2f\t\n", c.Party, c.Shards, cl, c.Compression,
			c.Msg.EventsPerSec, c.Msg.EventsPerCPUS, c.Msg.CPUMicrosPerEv, vsD, vsL,
			c.Mixed.EventsPerSec, c.Mixed.CPUMicrosPerEv, c.StartupS)
	}
	tw.Flush()
	fmt.Fprintln(out)
}

func writeStartup(out io.Writer, r *report) {
	fmt.Fprintln(out, "Startup and restarts (megane.Manager; the same identify window on the fake and the queue; medians):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "shards\tclusters\tmax_conc\twindow\tmargin\tall READY s\tfloor s\tbound s\tbucket breaches per rep\ttarget\t")
	for _, c := range r.Startup {
		if c.Err != "" {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%gms\t%gms\terror: %s\t\t\t\t\t\n", c.Shards, c.Clusters, c.MaxConcurrency, c.WindowMs, c.MarginMs, c.Err)
			continue
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%gms\t%gms\t%.3f\t%.3f\t%.3f\t%v\t%s\t\n", c.Shards, c.Clusters, c.MaxConcurrency,
			c.WindowMs, c.MarginMs, c.ReadyS, c.FloorS, c.BoundS, c.StartBreaches, metOrMissed(c.Met))
	}
	tw.Flush()
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "max_conc\trestart\tms\tidentifies\tresumes\top 9 (bucket breaches)\t")
	for _, c := range r.Startup {
		keys := make([]string, 0, len(c.Restarts))
		for _, k := range restartKinds {
			if _, ok := c.Restarts[k.name]; ok {
				keys = append(keys, k.name)
			}
		}
		for _, k := range keys {
			t := c.Restarts[k]
			fmt.Fprintf(tw, "%d\t%s\t%.1f\t%d\t%d\t%d (%d)\t\n", c.MaxConcurrency, k, t.Seconds*1000, t.Identifies, t.Resumes, t.InvalidSessions, t.BucketBreaches)
		}
	}
	tw.Flush()
	fmt.Fprintln(out, "(restart = cluster 0 of the clusters; rolling = every cluster in turn)")
	fmt.Fprintln(out)
}

func fmtRatio(x float64) string {
	if x == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", x)
}

func fmtFloats(xs []float64, f string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(f, x)
	}
	return strings.Join(parts, " ")
}

// partiesInOrder returns the parties of the throughput cells in the order
// they first appear.
func partiesInOrder(r *report) []string {
	var out []string
	for _, c := range r.Throughput {
		if !slices.Contains(out, c.Party) {
			out = append(out, c.Party)
		}
	}
	return out
}

func writePaired(out io.Writer, p *pairedResult) {
	fmt.Fprintf(out, "Paired headline (%d shards, no compression, MESSAGE_CREATE, caches off; %d rounds, every party one repetition per round; medians):\n", headlineShards, p.Rounds)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "party\tclusters\tev/CPU-s\tCPU-µs/ev\tev/s\t")
	for _, s := range p.Series {
		cl := "-"
		if s.Clusters > 0 {
			cl = fmt.Sprint(s.Clusters)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.0f\t\n", s.Label, cl, s.Figure.EventsPerCPUS, s.Figure.CPUMicrosPerEv, s.Figure.EventsPerSec)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ratio (events per CPU-second, or wall events/s for clusters; taken within each round)\tmedian\tmin\tmax\t")
	for _, r := range p.Ratios {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.Name, fmtRatio(r.Median), fmtRatio(r.Min), fmtRatio(r.Max))
	}
	tw.Flush()
	fmt.Fprintln(out)
}

// metOrMissed names a target's outcome.
func metOrMissed(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}
