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

	// Issue 12's figures. Paced: MESSAGE_CREATE at a fixed total rate
	// over 16 shards (10k/s, and 1k/s in the _1k keys). Overhead:
	// Megane's CPU-µs per event minus the limit plus disgo's event
	// dispatch, within each round. RSS: VmRSS and VmHWM of the bot child.
	MeganeCPUMicros       float64  `json:"megane_cpu_us_per_event"`          // at full rate (the paired headline)
	MeganePacedMicros     float64  `json:"megane_paced_cpu_us_per_event"`    // user + system, at 10k/s
	MeganePacedMicros1k   float64  `json:"megane_paced_cpu_us_per_event_1k"` // the same at 1k/s
	MeganeVsDisgoPaced    float64  `json:"megane_vs_disgo_paced"`            // disgo's CPU per event ÷ Megane's at 10k/s
	MeganeVsDisgoPaced1k  float64  `json:"megane_vs_disgo_paced_1k"`         // the same at 1k/s
	MeganeOverheadMicros  float64  `json:"megane_overhead_us"`               // at full rate
	MeganeOverheadPaced   float64  `json:"megane_overhead_us_paced"`         // at 10k/s
	MeganeOverheadPaced1k float64  `json:"megane_overhead_us_paced_1k"`      // at 1k/s
	RSSStreamVsIdle       float64  `json:"rss_stream_vs_idle"`               // VmHWM during the full-rate stream ÷ VmRSS idle before it
	RSSStartPeakVsSettled float64  `json:"rss_start_peak_vs_settled"`        // VmHWM during the memory section's start ÷ settled VmRSS (Megane default)
	RSSPerGuildVsDisgo    float64  `json:"rss_per_guild_vs_disgo"`           // RSS per cached guild (less caches off), Megane's compact cache ÷ disgo's default
	Targets               []target `json:"targets,omitempty"`                // issue 12's targets, each met or missed in this run

	Paired     *pairedResult `json:"paired_headline,omitempty"`
	Paced      *pacedResult  `json:"paced,omitempty"`
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
	if r.Paced != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("paced: MESSAGE_CREATE only, sent by the fake's own process (discordtest's Emit every %s, "+
			"each shard total/%d per second, the shards staggered); each window is %g s after a %g s ramp; "+
			"CPU per event = the bot process's user + system CPU in the window ÷ the MESSAGE_CREATEs its handler counted in it",
			pacerTick, r.Paced.Shards, r.Paced.WindowS, r.Paced.RampS))
	}
	f := r.gather()
	r.MeganeCPUMicros, r.MeganeOverheadMicros, r.RSSStreamVsIdle = f.maxRate.v, f.overhead.v, f.rssStream.v
	hi, lo := pacedRates[0], pacedRates[1]
	r.MeganePacedMicros, r.MeganePacedMicros1k = f.paced[hi].v, f.paced[lo].v
	r.MeganeVsDisgoPaced, r.MeganeVsDisgoPaced1k = f.pacedRatio[hi].v, f.pacedRatio[lo].v
	r.MeganeOverheadPaced, r.MeganeOverheadPaced1k = f.pacedOverhead[hi].v, f.pacedOverhead[lo].v
	r.RSSStartPeakVsSettled, r.RSSPerGuildVsDisgo = f.startPeak.v, f.rssPerGuild.v
	r.Targets = issue12Targets(f)
	r.noteRSS()
	_ = md
}

// workingHandler describes the working handler's cost per event.
func (r *report) workingHandler() string {
	if r.Paired == nil || r.Paired.HandlerWorkUS == 0 {
		return "a handler that spins per message"
	}
	return fmt.Sprintf("a handler that spins %.1f µs per message", r.Paired.HandlerWorkUS)
}

// noteRSS notes the bots' stream RSS figures that are missing, or whose
// peak could not be reset (the memory section notes its own).
func (r *report) noteRSS() {
	var phases []rssPhase
	if r.Paired != nil {
		for _, s := range r.Paired.Series {
			if s.RSS != nil {
				phases = append(phases, *s.RSS)
			}
		}
	}
	for _, c := range r.Throughput {
		if c.Err == "" {
			phases = append(phases, c.RSS)
		}
	}
	for _, p := range phases {
		switch {
		case p.Err != "":
			r.Notes = appendOnce(r.Notes, "RSS: no stream figures: "+p.Err)
		case !p.PeakReset:
			r.Notes = appendOnce(r.Notes, noteNoPeakReset)
		}
	}
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
	fmt.Fprintf(out, "  memory_vs_disgo        %s (heap per guild, members cached, compact cache ÷ disgo's)\n", fmtRatio(r.MemoryVsDisgo))
	fmt.Fprintf(out, "  megane_vs_disgo_paced  %s at 10k/s, %s at 1k/s (disgo's CPU per event ÷ Megane's; Megane %s and %s CPU-µs/event)\n",
		fmtRatio(r.MeganeVsDisgoPaced), fmtRatio(r.MeganeVsDisgoPaced1k), fmtMicros(r.MeganePacedMicros), fmtMicros(r.MeganePacedMicros1k))
	fmt.Fprintf(out, "  megane_overhead_us     %s at full rate, %s at 10k/s, %s at 1k/s (Megane − the limit plus disgo's event dispatch)\n",
		fmtMicros(r.MeganeOverheadMicros), fmtMicros(r.MeganeOverheadPaced), fmtMicros(r.MeganeOverheadPaced1k))
	fmt.Fprintf(out, "  rss_stream_vs_idle     %s (VmHWM during the full-rate stream ÷ VmRSS idle before it)\n", fmtRatio(r.RSSStreamVsIdle))
	fmt.Fprintf(out, "  rss_start_peak_vs_settled %s, rss_per_guild_vs_disgo %s\n\n", fmtRatio(r.RSSStartPeakVsSettled), fmtRatio(r.RSSPerGuildVsDisgo))
	writeTargets(out, r.Targets)
	if r.Paced != nil {
		writePaced(out, r.Paced)
	}
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
		writeMemory(out, r.Memory)
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
	fmt.Fprintf(out, "Paired headline (%d shards, no compression, MESSAGE_CREATE, caches off; %d rounds, every party one repetition per round; medians;\n", headlineShards, p.Rounds)
	fmt.Fprintln(out, "  RSS: a bot's VmRSS idle before its full-rate stream, after startup and a GC, and its VmHWM during the stream):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "party\tclusters\tev/CPU-s\tCPU-µs/ev\tev/s\tRSS idle MiB\tRSS peak MiB\tpeak÷idle\t")
	for _, s := range p.Series {
		idle, peak, vs := "", "", ""
		if s.RSS != nil && s.RSS.Err == "" {
			idle, peak = fmt.Sprintf("%.1f", float64(s.RSS.BeforeKB)/1024), fmt.Sprintf("%.1f", float64(s.RSS.PeakKB)/1024)
			vs = fmtRatio(s.RSS.peakVsBefore())
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.0f\t%s\t%s\t%s\t\n", s.Label, fmtClusters(s.Clusters), s.Figure.EventsPerCPUS,
			s.Figure.CPUMicrosPerEv, s.Figure.EventsPerSec, idle, peak, vs)
	}
	tw.Flush()
	writeRoundStats(out, "ratio (events per CPU-second, or wall events/s for clusters; taken within each round)", p.Ratios, fmtRatio)
	writeRoundStats(out, "difference (CPU-µs per event, taken within each round)", p.Differences, fmtDiff)
	fmt.Fprintln(out)
}

func writePaced(out io.Writer, p *pacedResult) {
	fmt.Fprintf(out, "Paced (%d shards, MESSAGE_CREATE at a fixed total rate sent by the fake, caches off; %s, one %g s window per party and rate in each; medians):\n",
		p.Shards, plural(p.Rounds, "round"), p.WindowS)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "party\tclusters\tasked ev/s\tsent ev/s\treceived ev/s\tuser µs/ev\tsys µs/ev\tCPU-µs/ev\tfake cores\t")
	for _, s := range p.Series {
		f := s.Figure
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", s.Label, fmtClusters(s.Clusters), s.Rate, f.SentPerS, f.ReceivedPerS,
			f.UserMicros, f.SysMicros, f.TotalMicros, f.FakeCPUCores)
	}
	fmt.Fprintf(tw, "%s, full rate\t-\t\t\t\t\t\t%.2f\t\t\n", p.Reference.Label, p.Reference.Figure.CPUMicrosPerEv)
	tw.Flush()
	writeRoundStats(out, "ratio (disgo's CPU per event ÷ Megane's, taken within each round)", p.Ratios, fmtRatio)
	writeRoundStats(out, "difference (CPU-µs per event, Megane paced − the reference, within each round)", p.Differences, fmtDiff)
	fmt.Fprintln(out)
}

// writeRoundStats prints per-round figures: median, min and max.
func writeRoundStats(out io.Writer, title string, xs []roundStat, format func(float64) string) {
	if len(xs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tmedian\tmin\tmax\t\n", title)
	for _, x := range xs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", x.Name, format(x.Median), format(x.Min), format(x.Max))
	}
	tw.Flush()
}

// plural prints n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func fmtDiff(x float64) string { return fmt.Sprintf("%.2f", x) }

// fmtClusters prints a cluster count, or "-" for a party without any.
func fmtClusters(n int) string {
	if n > 0 {
		return fmt.Sprint(n)
	}
	return "-"
}

// writeMemory prints the cache-memory table: live heap and RSS.
func writeMemory(out io.Writer, cells []memCell) {
	fmt.Fprintln(out, "Cache memory (added per guild after all GUILD_CREATEs; 100 members, 50 channels, 20 roles each; medians):")
	fmt.Fprintln(out, "  heap = live heap after two GCs, less before Run; RSS = VmRSS after a GC and debug.FreeOSMemory, less VmRSS before Run;")
	fmt.Fprintln(out, "  RSS/cached guild = RSS/guild less the same party's caches-off row (the bot's fixed cost);")
	fmt.Fprintln(out, "  start peak = VmHWM from before Run until every guild arrived; settled = VmRSS after that, a GC and debug.FreeOSMemory")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "configuration\tguilds\theap KB/guild\treps\tRSS KB/guild\tRSS KB/cached guild\tstart peak MiB\tsettled MiB\tpeak÷settled\t")
	for _, c := range cells {
		if c.Err != "" {
			fmt.Fprintf(tw, "%s\t%d\terror: %s\t\t\t\t\t\t\t\n", c.Label, c.Guilds, c.Err)
			continue
		}
		cached := "-"
		if c.CachedRSSPerGuildKB != 0 {
			cached = fmt.Sprintf("%.1f", c.CachedRSSPerGuildKB)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%.1f\t%s\t%.1f\t%.1f\t%s\t\n", c.Label, c.Guilds, c.PerGuildKB, fmtFloats(c.RepsKB, "%.1f"),
			c.RSSPerGuildKB, cached, c.StartPeakKB/1024, c.SettledKB/1024, fmtRatio(c.PeakVsSettled))
	}
	tw.Flush()
	fmt.Fprintln(out)
}

// fmtMicros prints CPU-µs, or "n/a" for 0 (not measured).
func fmtMicros(x float64) string {
	if x == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f µs", x)
}

// metOrMissed names a target's outcome.
func metOrMissed(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}
