package diagnose

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"time"
)

// WriteHTML writes a self-contained page (no scripts, no external assets)
// with one timeline per leg — bitrate per stream, keyframes, findings — on a
// shared wall-clock axis, to attach to a post-mortem.
func (r *Report) WriteHTML(w io.Writer) error {
	var start, end time.Time
	for _, l := range r.legs {
		for _, s := range l.streams {
			if start.IsZero() || s.first.Before(start) {
				start = s.first
			}
			if s.last.After(end) {
				end = s.last
			}
		}
	}
	span := end.Sub(start).Seconds()
	if span < 1 {
		span = 1
	}
	const width, height, left = 1000.0, 140.0, 60.0
	x := func(t time.Time) float64 { return left + (width-left)*t.Sub(start).Seconds()/span }
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>bcast diagnose</title><style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.3em}svg{background:#fafafa;border:1px solid #ddd;display:block;margin:.5em 0 1.5em}
.verdict{font-weight:bold;padding:.2em .5em;border-radius:4px;background:#eee}.clean{background:#cfc}.streamer-side,.viewer-side,.both{background:#fcc}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}</style></head><body>`)
	fmt.Fprintf(&b, `<h1>bcast diagnose</h1><p>Verdict: <span class="verdict %s">%s</span> — %s to %s UTC</p>`,
		html.EscapeString(r.Verdict), html.EscapeString(r.Verdict), start.UTC().Format("2006-01-02 15:04:05"), end.UTC().Format("15:04:05"))
	colors := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"}
	for _, l := range r.legs {
		fmt.Fprintf(&b, `<h2>%s leg</h2><svg width="%.0f" height="%.0f" role="img" aria-label="%s leg timeline">`, html.EscapeString(l.name), width, height+20, html.EscapeString(l.name))
		for _, f := range r.Findings {
			if f.Leg != l.name {
				continue
			}
			x0, x1 := x(f.From), x(f.To)
			if x1-x0 < 2 {
				x1 = x0 + 2
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="0" width="%.1f" height="%.0f" fill="#f33" opacity="0.2"><title>%s: %s</title></rect>`,
				x0, x1-x0, height, html.EscapeString(f.Class), html.EscapeString(f.Evidence))
		}
		ssrcs := append([]uint32(nil), l.order...)
		sort.Slice(ssrcs, func(i, j int) bool { return ssrcs[i] < ssrcs[j] })
		maxKbps := 1.0
		for _, ssrc := range ssrcs {
			for _, n := range l.streams[ssrc].bytes {
				maxKbps = max(maxKbps, float64(n)*8/1000)
			}
		}
		for i, ssrc := range ssrcs {
			s := l.streams[ssrc]
			color := colors[i%len(colors)]
			secs := make([]int, 0, len(s.bytes))
			for sec := range s.bytes {
				secs = append(secs, sec)
			}
			sort.Ints(secs)
			var pts []string
			for _, sec := range secs {
				t := l.start.Add(time.Duration(sec) * time.Second)
				y := height - (height-10)*float64(s.bytes[sec])*8/1000/maxKbps
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"><title>%s %#08x kbit/s</title></polyline>`,
				color, strings.Join(pts, " "), html.EscapeString(s.kind), s.ssrc)
			for sec, n := range s.keys {
				t := l.start.Add(time.Duration(sec) * time.Second)
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="%s"><title>%d keyframe(s)</title></line>`,
					x(t), x(t), height, height+8, color, n)
			}
			fmt.Fprintf(&b, `<text x="4" y="%d" font-size="11" fill="%s">%s</text>`, 14+12*i, color, html.EscapeString(s.kind))
		}
		fmt.Fprintf(&b, `<text x="4" y="%.0f" font-size="11">0 s</text><text x="%.0f" y="%.0f" font-size="11" text-anchor="end">%.0f s (max %.0f kbit/s)</text></svg>`,
			height+18, width-4, height+18, span, maxKbps)
	}
	b.WriteString(`<h2>Findings</h2><table><tr><th>class</th><th>side</th><th>leg</th><th>stream</th><th>time (s)</th><th>count</th><th>evidence</th></tr>`)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.1f–%.1f</td><td>%d</td><td>%s</td></tr>",
			html.EscapeString(f.Class), html.EscapeString(f.Side), html.EscapeString(f.Leg), html.EscapeString(f.Stream), f.FromS, f.ToS, f.Count, html.EscapeString(f.Evidence))
	}
	b.WriteString("</table></body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
