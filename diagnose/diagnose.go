// Package diagnose answers the on-call question after an incident: did the
// corruption arrive from the streamer (ingest leg) or appear between server
// and viewer (viewer leg)? It reads captures of either or both legs — the
// server's dumps, `bcast watch -o x.pcapng`, or any pcap of plain RTP with
// its SDP — finds anomalies per leg, aligns the viewer leg with the ingest
// leg packet by packet, and attributes each anomaly to a side with evidence
// an engineer can check in Wireshark.
//
// The pipeline: read each leg (read.go) into per-SSRC packet records with a
// payload hash; analyse each leg on its own — sequence (loss.go), timing
// (timing.go), frames and keyframes (frames.go), H.264 fragmentation
// (h264.go), header extensions (ext.go), RTCP feedback (rtcp.go); align the
// viewer leg with the ingest leg by payload (align.go), which also finds
// what the hop changed; attribute the viewer leg's anomalies (attribute.go);
// aggregate findings (findings.go).
package diagnose

import (
	"fmt"
	"hash/maphash"
	"sort"
	"strings"
	"time"

	"github.com/bcastdev/bcast/codec"
)

// Verdicts, as CONTRACT.md names them.
const (
	Clean        = "clean"
	StreamerSide = "streamer-side"
	ViewerSide   = "viewer-side"
	Both         = "both"
)

// Finding is one anomaly class on one stream of one leg, with its evidence.
type Finding struct {
	Class string `json:"class"`
	// Level is "error", "warning" or "info"; info findings never decide
	// the verdict.
	Level string `json:"level"`
	Leg   string `json:"leg"` // "ingest" or "viewer"
	// Side is streamer-side or viewer-side; empty for info findings.
	Side   string `json:"side"`
	Stream string `json:"stream"` // "video 0x1234abcd"
	Kind   string `json:"kind,omitempty"`
	SSRC   uint32 `json:"ssrc,omitempty"`
	// FromS and ToS are seconds from the leg's first packet; From and To
	// the same times on the capture's clock.
	FromS    float64   `json:"from_s"`
	ToS      float64   `json:"to_s"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Count    int64     `json:"count"`
	Evidence string    `json:"evidence"`
	severity int
}

// Report is the result: a verdict and the findings, worst first.
type Report struct {
	Verdict  string    `json:"verdict"`
	Findings []Finding `json:"findings"`
	legs     []*leg    // for the HTML timeline
	att      *attribution
}

// Options name the captures of each leg.
type Options struct {
	Ingest, Viewer []string // files; Viewer may be empty
	SDP, ViewerSDP string   // session descriptions for captures without one
}

// Run analyses the legs.
func Run(o Options) (*Report, error) {
	seed := maphash.MakeSeed()
	in, err := readLeg(ingestLeg, o.Ingest, o.SDP, seed)
	if err != nil {
		return nil, err
	}
	in.analyse()
	rep := &Report{Findings: []Finding{}, legs: []*leg{in}}
	for i := range in.events {
		if e := &in.events[i]; e.levelOf() != Info {
			e.side = StreamerSide
		}
	}
	rep.Findings = append(rep.Findings, in.findings(in.events, nil)...)
	if len(o.Viewer) > 0 {
		vw, err := readLeg(viewerLeg, o.Viewer, o.ViewerSDP, seed)
		if err != nil {
			return nil, err
		}
		vw.analyse()
		al := align(in, vw)
		if err := al.evidence(in, vw); err != nil {
			return nil, err
		}
		for _, v := range vw.streams {
			if v.video() && !al.aligned(v) {
				if extra := extraRotations(in, v); extra != "" {
					vw.emit(event{class: "rotation", s: v, lo: 1, hi: 0, from: v.pkts[0].at, to: v.pkts[len(v.pkts)-1].at, n: 1, detail: extra})
				}
			}
		}
		rep.att = attribute(in, vw, al)
		rep.Findings = append(rep.Findings, vw.findings(rep.att.events, rep.att)...)
		rep.legs = append(rep.legs, vw)
	}
	sides := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Level != Info {
			sides[f.Side] = true
		}
	}
	switch {
	case sides[StreamerSide] && sides[ViewerSide]:
		rep.Verdict = Both
	case sides[StreamerSide]:
		rep.Verdict = StreamerSide
	case sides[ViewerSide]:
		rep.Verdict = ViewerSide
	default:
		rep.Verdict = Clean
	}
	rank := map[string]int{Error: 2, Warning: 1, Info: 0}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := &rep.Findings[i], &rep.Findings[j]
		if rank[a.Level] != rank[b.Level] {
			return rank[a.Level] > rank[b.Level]
		}
		if a.severity != b.severity {
			return a.severity > b.severity
		}
		return a.Count > b.Count
	})
	return rep, nil
}

// analyse finds the anomalies of one leg on its own.
func (l *leg) analyse() {
	for _, s := range l.streams {
		s.index()
	}
	pts := make([]int, 0, len(l.badPT))
	for pt := range l.badPT {
		pts = append(pts, int(pt))
	}
	sort.Ints(pts)
	for _, pt := range pts {
		b := l.badPT[uint8(pt)]
		l.emit(event{class: "unknown-payload-type", lo: 1, hi: 0, from: b.from, to: b.to, n: int64(b.n),
			detail: fmt.Sprintf("%d packets with payload type %d, which the leg's SDP does not declare (RFC 8866 §6.6)", b.n, pt)})
	}
	byKind := map[string][]*stream{}
	for _, s := range l.streams {
		if !strings.HasPrefix(s.kind, "pt") {
			byKind[s.kind] = append(byKind[s.kind], s)
		}
	}
	for _, kind := range []string{"video", "audio"} {
		if ss := byKind[kind]; len(ss) > 1 {
			var names []string
			for _, s := range ss {
				names = append(names, fmt.Sprintf("%#08x (from %.1f s)", s.ssrc, l.since(s.pkts[0].at)))
			}
			p := &ss[1].pkts[0]
			l.emit(event{class: "ssrc-change", s: ss[1], lo: 1, hi: 0, from: p.at, to: ss[len(ss)-1].pkts[0].at, n: int64(len(ss) - 1),
				detail: fmt.Sprintf("%s SSRCs %s: the sender restarted (new SSRC, sequence and timestamps)", kind, strings.Join(names, " → "))})
		}
	}
	for _, s := range l.streams {
		mark := len(l.events)
		l.sequence(s)
		var losses []event
		for _, e := range l.events[mark:] {
			if e.class == "loss" {
				s.lost += e.n
				losses = append(losses, e)
			}
		}
		l.timing(s)
		if s.video() {
			l.frames(s)
			l.keyframes(s, losses)
		}
		if s.codec == codec.H264 {
			l.h264(s)
		}
		l.malformedEvents(s)
		l.extensionEvents(s)
		l.changeEvents(s)
	}
	l.feedbackEvents()
}
