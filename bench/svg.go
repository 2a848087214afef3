package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"text/template"
)

// The chart: events per CPU-second on MESSAGE_CREATE (no compression,
// caches off) against the shard count, one line per party, and the
// decode-only limit as a dashed line. Hand-written SVG, no dependency.

const (
	svgW, svgH                 = 760, 440
	padL, padR, padT, padB     = 90, 190, 50, 60
	plotW, plotH               = svgW - padL - padR, svgH - padT - padB
	svgTitle                   = "MESSAGE_CREATE events per CPU-second of the bot (no compression, caches off)"
	svgSeriesMegane            = "megane"
	svgSeriesLimit             = "decode-only limit"
	svgTickCount               = 5
	svgMarkerRadius            = 4
	svgLegendRowHeight         = 20
	svgLegendSwatch            = 18
	svgFont                    = "font-family='sans-serif' font-size='12'"
	svgDash                    = "6,4"
	svgAxisColor, svgGridColor = "#333", "#ddd"
)

var svgColors = map[string]string{
	svgSeriesMegane:         "#d62728",
	"megane(encoding/json)": "#ff9896",
	"megane(jsonv2)":        "#ffbb78",
	"disgo":                 "#1f77b4",
	"disgo(jsonv2)":         "#17becf",
	svgSeriesLimit:          "#2ca02c",
}

type svgPoint struct{ X, Y float64 }

type svgSeries struct {
	Name, Color, Dash string
	Points            []svgPoint
	LegendY           float64
}

type svgTick struct {
	Pos   float64
	Label string
}

type svgData struct {
	W, H, PadL, PadT, Right, Bottom int
	Title, Font, Axis, Grid         string
	XTicks, YTicks                  []svgTick
	Series                          []svgSeries
	LegendX                         int
	Radius                          int
	Swatch                          int
}

var svgTemplate = template.Must(template.New("svg").Parse(`<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}">
<rect width="100%" height="100%" fill="white"/>
<text x="{{.PadL}}" y="24" {{.Font}} font-weight="bold">{{.Title}}</text>
{{- range .YTicks}}
<line x1="{{$.PadL}}" x2="{{$.Right}}" y1="{{.Pos}}" y2="{{.Pos}}" stroke="{{$.Grid}}"/>
<text x="{{$.PadL}}" dx="-6" y="{{.Pos}}" dy="4" text-anchor="end" {{$.Font}}>{{.Label}}</text>
{{- end}}
{{- range .XTicks}}
<text x="{{.Pos}}" y="{{$.Bottom}}" dy="18" text-anchor="middle" {{$.Font}}>{{.Label}}</text>
{{- end}}
<line x1="{{.PadL}}" x2="{{.Right}}" y1="{{.Bottom}}" y2="{{.Bottom}}" stroke="{{.Axis}}"/>
<line x1="{{.PadL}}" x2="{{.PadL}}" y1="{{.PadT}}" y2="{{.Bottom}}" stroke="{{.Axis}}"/>
<text x="{{.PadL}}" y="{{.Bottom}}" dy="40" {{.Font}}>shards (one fake gateway, all shards at full rate)</text>
{{- range .Series}}
<polyline fill="none" stroke="{{.Color}}" stroke-width="2"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}} points="{{range .Points}}{{.X}},{{.Y}} {{end}}"/>
{{- $c := .Color}}{{range .Points}}
<circle cx="{{.X}}" cy="{{.Y}}" r="{{$.Radius}}" fill="{{$c}}"/>
{{- end}}
<rect x="{{$.LegendX}}" y="{{.LegendY}}" width="{{$.Swatch}}" height="3" fill="{{.Color}}"/>
<text x="{{$.LegendX}}" dx="{{$.Swatch}}" y="{{.LegendY}}" dy="5" {{$.Font}}>&#160;{{.Name}}</text>
{{- end}}
</svg>
`))

// writeSVG draws the throughput chart of r.
func writeSVG(w io.Writer, r *report) error {
	var shards []int
	for _, c := range r.Throughput {
		if c.Compression == "none" && !containsInt(shards, c.Shards) {
			shards = append(shards, c.Shards)
		}
	}
	xOf := func(i int) float64 {
		if len(shards) == 1 {
			return padL + plotW/2
		}
		return padL + float64(i)*plotW/float64(len(shards)-1)
	}
	type raw struct {
		name string
		vals map[int]float64
	}
	var series []raw
	for _, party := range partiesInOrder(r) {
		s := raw{name: party, vals: map[int]float64{}}
		for _, n := range shards {
			cl := 0
			if party == svgSeriesMegane {
				cl = min(n, runtime.GOMAXPROCS(0))
			}
			if c := r.cell(party, n, cl, "none"); c != nil {
				s.vals[n] = c.Msg.EventsPerCPUS
			}
		}
		series = append(series, s)
	}
	if l := r.limit("none"); l != nil {
		s := raw{name: svgSeriesLimit, vals: map[int]float64{}}
		for _, n := range shards {
			s.vals[n] = l.FastMsg.EventsPerCPUS
		}
		series = append(series, s)
	}
	top := 0.0
	for _, s := range series {
		for _, v := range s.vals {
			top = math.Max(top, v)
		}
	}
	top = niceCeil(top * 1.05)
	yOf := func(v float64) float64 { return padT + plotH - v/top*plotH }
	d := svgData{
		W: svgW, H: svgH, PadL: padL, PadT: padT, Right: padL + plotW, Bottom: padT + plotH,
		Title: svgTitle, Font: svgFont, Axis: svgAxisColor, Grid: svgGridColor,
		LegendX: padL + plotW + 16, Radius: svgMarkerRadius, Swatch: svgLegendSwatch,
	}
	for i, n := range shards {
		d.XTicks = append(d.XTicks, svgTick{Pos: xOf(i), Label: fmt.Sprint(n)})
	}
	for i := 0; i <= svgTickCount; i++ {
		v := top * float64(i) / svgTickCount
		d.YTicks = append(d.YTicks, svgTick{Pos: yOf(v), Label: humanCount(v)})
	}
	for k, s := range series {
		out := svgSeries{Name: s.name, Color: svgColors[s.name], LegendY: float64(padT + 10 + k*svgLegendRowHeight)}
		if out.Color == "" {
			out.Color = "#7f7f7f"
		}
		if s.name == svgSeriesLimit {
			out.Dash = svgDash
		}
		for i, n := range shards {
			if v, ok := s.vals[n]; ok {
				out.Points = append(out.Points, svgPoint{X: xOf(i), Y: math.Round(yOf(v)*10) / 10})
			}
		}
		d.Series = append(d.Series, out)
	}
	return svgTemplate.Execute(w, d)
}

// niceCeil rounds x up to 1, 2 or 5 times a power of ten.
func niceCeil(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// humanCount prints 1500000 as "1.5M" and 25000 as "25k".
func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.4gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.4gk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
