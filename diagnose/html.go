package diagnose

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// WriteHTML writes a self-contained page (no scripts, no external assets)
// for a post-mortem: one timeline with a band per leg on a shared
// wall-clock axis — bitrate per stream, packets lost per second (on the
// viewer leg, those the ingest also lacked apart from those lost on the
// way), keyframes, PLI/FIR sent, and the findings as shaded spans whose
// tooltips carry the evidence — then the findings as a table.
func (r *Report) WriteHTML(w io.Writer) error {
	var start, end int64
	for _, l := range r.legs {
		if start == 0 || l.start < start {
			start = l.start
		}
		end = max(end, l.end)
	}
	span := float64(end-start) / 1e9
	if span < 1 {
		span = 1
	}
	const width, left, band = 1000.0, 70.0, 170.0
	x := func(at int64) float64 { return left + (width-left-10)*(float64(at-start)/1e9)/span }
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>bcast diagnose</title><style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.3em}svg{background:#fafafa;border:1px solid #ddd;display:block;margin:.5em 0 1.5em}
.verdict{font-weight:bold;padding:.2em .5em;border-radius:4px;background:#eee}.clean{background:#cfc}.streamer-side,.viewer-side,.both{background:#fcc}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}.info{color:#777}
.legend span{display:inline-block;margin-right:1.2em}.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}</style></head><body>`)
	fmt.Fprintf(&b, `<h1>bcast diagnose</h1><p>Verdict: <span class="verdict %s">%s</span> — %s to %s UTC</p>`,
		html.EscapeString(r.Verdict), html.EscapeString(r.Verdict), wall(start).Format("2006-01-02 15:04:05"), wall(end).Format("15:04:05"))
	b.WriteString(`<p class="legend"><span><i style="background:#1f77b4"></i>video kbit/s</span><span><i style="background:#2ca02c"></i>audio kbit/s</span>` +
		`<span><i style="background:#d62728"></i>loss burst (viewer leg: lost on the way)</span><span><i style="background:#ff9f40"></i>lost already on the ingest leg</span>` +
		`<span><i style="background:#000"></i>keyframe</span><span><i style="background:#9467bd"></i>PLI/FIR sent</span><span><i style="background:#f33;opacity:.25"></i>finding</span></p>`)
	height := band*float64(len(r.legs)) + 30
	fmt.Fprintf(&b, `<svg width="%.0f" height="%.0f" role="img" aria-label="timeline of both legs">`, width, height)
	for i, l := range r.legs {
		top := band * float64(i)
		r.band(&b, l, top, band-20, x)
	}
	// The shared time axis.
	axis := band * float64(len(r.legs))
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="#999"/>`, left, width-10, axis, axis)
	step := niceStep(span)
	for t := 0.0; t <= span; t += step {
		xx := left + (width-left-10)*t/span
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#999"/><text x="%.1f" y="%.0f" font-size="11" text-anchor="middle">%s s</text>`,
			xx, xx, axis, axis+4, xx, axis+16, trimFloat(t))
	}
	b.WriteString(`</svg><h2>Findings</h2><table><tr><th>class</th><th>level</th><th>side</th><th>leg</th><th>stream</th><th>time (s)</th><th>count</th><th>evidence</th></tr>`)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "<tr class=\"%s\"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.1f–%.1f</td><td>%d</td><td>%s</td></tr>",
			html.EscapeString(f.Level), html.EscapeString(f.Class), html.EscapeString(f.Level), html.EscapeString(f.Side), html.EscapeString(f.Leg),
			html.EscapeString(f.Stream), f.FromS, f.ToS, f.Count, html.EscapeString(f.Evidence))
	}
	if len(r.Findings) == 0 {
		b.WriteString(`<tr><td colspan="8">no anomalies found</td></tr>`)
	}
	b.WriteString("</table></body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// band draws one leg between top and top+h.
func (r *Report) band(b *strings.Builder, l *leg, top, h float64, x func(int64) float64) {
	bottom := top + h
	fmt.Fprintf(b, `<text x="4" y="%.0f" font-size="12" font-weight="bold">%s leg</text>`, top+14, html.EscapeString(l.name))
	// Findings first, so the lines stay visible over them.
	for _, f := range r.Findings {
		if f.Leg != l.name || f.Level == Info {
			continue
		}
		x0, x1 := x(f.From.UnixNano()), x(f.To.UnixNano())
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="#f33" opacity="0.18"><title>%s (%s, %s): %s</title></rect>`,
			x0, top+20, x1-x0, h-20, html.EscapeString(f.Class), html.EscapeString(f.Stream), html.EscapeString(f.Side), html.EscapeString(f.Evidence))
	}
	// Bitrate per stream in about a hundred steps of the leg's span.
	bucket := max(int64(l.end-l.start)/100, int64(100*time.Millisecond))
	maxKbps := 1.0
	rates := make([]map[int64]float64, len(l.streams))
	for i, s := range l.streams {
		rates[i] = map[int64]float64{}
		for _, k := range s.order {
			p := &s.pkts[k]
			rates[i][(p.at-l.start)/bucket] += float64(p.size) * 8 / 1000 / (float64(bucket) / 1e9)
		}
		for _, v := range rates[i] {
			maxKbps = max(maxKbps, v)
		}
	}
	plot := h - 50 // the bitrate area; loss marks and keyframes below it
	for i, s := range l.streams {
		color := "#2ca02c"
		if s.video() || strings.HasPrefix(s.kind, "pt") {
			color = "#1f77b4"
		}
		last := (s.pkts[len(s.pkts)-1].at - l.start) / bucket
		var pts []string
		for k := (s.pkts[0].at - l.start) / bucket; k <= last; k++ {
			at := l.start + k*bucket + bucket/2
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(at), top+20+plot-plot*rates[i][k]/maxKbps))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"><title>%s kbit/s</title></polyline>`,
			color, strings.Join(pts, " "), html.EscapeString(s.name()))
		if s.video() {
			lastTS, have := uint32(0), false
			for _, k := range s.order {
				p := &s.pkts[k]
				if p.has(fKey) && p.has(fStart) && (!have || p.ts != lastTS) {
					lastTS, have = p.ts, true
					fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#000" stroke-width="1.5"><title>keyframe, %s seq %d, %.2f s</title></line>`,
						x(p.at), x(p.at), bottom-8, bottom, html.EscapeString(s.name()), seq(p.ext), l.since(p.at))
				}
			}
		}
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="10" fill="#555">max %.0f kbit/s</text>`, 4.0, top+30, maxKbps)
	// Loss bursts: all of the leg's, and on the viewer leg over them
	// those lost on the way.
	r.lossBars(b, l, l.events, "#d62728", "#ff9f40", bottom-10, x)
	// PLI/FIR marks at the top of the band.
	for _, recs := range l.fb.by {
		for _, rec := range recs {
			if rec.kind != fbNACK {
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.0f" r="2" fill="#9467bd"/>`, x(rec.at), top+20)
			}
		}
	}
	fmt.Fprintf(b, `<line x1="0" x2="1000" y1="%.0f" y2="%.0f" stroke="#ddd"/>`, bottom+10, bottom+10)
}

// lossBars marks each loss burst at its time, as tall as its packet count
// (against the leg's largest). On the viewer leg a burst lost on the way is
// red and the part the ingest leg lacked too is orange.
func (r *Report) lossBars(b *strings.Builder, l *leg, evs []event, own, inherited string, base float64, x func(int64) float64) {
	type mark struct {
		at     int64
		n      int64
		detail string
	}
	var all, mine []mark
	for i := range evs {
		if e := &evs[i]; e.class == "loss" {
			all = append(all, mark{e.to, e.n, e.detail})
		}
	}
	if l.name == viewerLeg && r.att != nil {
		for i := range r.att.events {
			if e := &r.att.events[i]; e.class == "loss" {
				mine = append(mine, mark{e.to, e.n, e.detail})
			}
		}
	} else {
		mine, inherited = nil, own
	}
	var peak int64 = 1
	for _, m := range all {
		peak = max(peak, m.n)
	}
	draw := func(ms []mark, color, what string) {
		for _, m := range ms {
			hgt := 6 + 24*float64(m.n)/float64(peak)
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="3" height="%.1f" fill="%s"><title>%.2f s: %d packets lost%s (%s)</title></rect>`,
				x(m.at)-1.5, base-hgt, hgt, color, l.since(m.at), m.n, what, html.EscapeString(m.detail))
		}
	}
	what := ""
	if l.name == viewerLeg && r.att != nil {
		what = ", already on the ingest leg where not marked red"
	}
	draw(all, inherited, what)
	draw(mine, own, " on the way to the viewer")
}

// niceStep picks an axis step giving about ten labels.
func niceStep(span float64) float64 {
	for _, s := range []float64{0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600} {
		if span/s <= 12 {
			return s
		}
	}
	return 7200
}

func trimFloat(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}
