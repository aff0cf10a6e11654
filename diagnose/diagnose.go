// Package diagnose answers the on-call question after an incident: did the
// corruption arrive from the streamer (ingest leg) or appear between server
// and viewer (viewer leg)? It reads captures of either or both legs — the
// server's dumps, `bcast watch -o x.pcapng`, or any pcap of plain RTP with
// its SDP — finds anomalies per leg and attributes each to a side, with
// evidence an engineer can check in Wireshark.
//
// This first version compares the legs class by class (loss, duplicates,
// timestamp jumps, SSRC changes, freezes, keyframes, header extensions,
// payload types, video orientation). It does not yet align individual
// packets across the SFU's rewriting (SSRC, sequence and timestamp offsets),
// which payload-modification findings will need.
package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Verdicts, as CONTRACT.md names them.
const (
	Clean        = "clean"
	StreamerSide = "streamer-side"
	ViewerSide   = "viewer-side"
	Both         = "both"
)

// Finding is one anomaly with its evidence.
type Finding struct {
	Class    string    `json:"class"`
	Leg      string    `json:"leg"`  // "ingest" or "viewer"
	Side     string    `json:"side"` // streamer-side or viewer-side
	Stream   string    `json:"stream"`
	SSRC     uint32    `json:"ssrc,omitempty"`
	FromS    float64   `json:"from_s"` // seconds from the leg's first packet
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
}

// Options name the captures of each leg.
type Options struct {
	Ingest, Viewer []string // files; Viewer may be empty
	SDP, ViewerSDP string   // session descriptions for captures without one
}

// Run analyses the legs.
func Run(o Options) (*Report, error) {
	in, err := readLeg("ingest", o.Ingest, o.SDP)
	if err != nil {
		return nil, err
	}
	rep := &Report{Findings: []Finding{}, legs: []*leg{in}}
	inF := in.findings()
	for i := range inF {
		inF[i].Side = StreamerSide
	}
	rep.Findings = append(rep.Findings, inF...)
	if len(o.Viewer) > 0 {
		vw, err := readLeg("viewer", o.Viewer, o.ViewerSDP)
		if err != nil {
			return nil, err
		}
		rep.Findings = append(rep.Findings, attribute(inF, vw.findings(), in, vw)...)
		rep.legs = append(rep.legs, vw)
	}
	sides := map[string]bool{}
	for _, f := range rep.Findings {
		sides[f.Side] = true
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
	sort.SliceStable(rep.Findings, func(i, j int) bool { return rep.Findings[i].severity > rep.Findings[j].severity })
	return rep, nil
}

// attribute keeps the viewer-leg findings the ingest leg does not explain:
// an anomaly the streamer already sent is not the viewer side's doing.
func attribute(ingest, viewer []Finding, in, vw *leg) []Finding {
	var out []Finding
	for _, v := range viewer {
		var inherited int64
		for _, i := range ingest {
			if i.Class == v.Class && kindOf(i.Stream) == kindOf(v.Stream) {
				inherited += i.Count
			}
		}
		switch v.Class {
		case "rotation":
			// Compared by value below, not by count.
			inherited = 0
			if extra := extraRotations(in, vw, v.SSRC); extra == "" {
				continue
			} else {
				v.Evidence = extra
			}
		default:
			if inherited >= v.Count {
				continue
			}
			if inherited > 0 {
				v.Evidence += fmt.Sprintf(" (the ingest leg shows %d of these; %d appeared on the way to the viewer)", inherited, v.Count-inherited)
				v.Count -= inherited
			}
		}
		v.Side = ViewerSide
		out = append(out, v)
	}
	return out
}

// extraRotations describes video-orientation values the viewer received that
// the streamer never sent: the "rotating video" incident.
func extraRotations(in, vw *leg, ssrc uint32) string {
	sent := map[int]bool{}
	for _, s := range in.streams {
		for r := range s.rotations {
			sent[r] = true
		}
	}
	s := vw.streams[ssrc]
	var extra []string
	for r, at := range s.rotations {
		if !sent[r] {
			extra = append(extra, fmt.Sprintf("%d° (first at %s)", r, at.UTC().Format("15:04:05.000")))
		}
	}
	if len(extra) == 0 {
		return ""
	}
	sort.Strings(extra)
	return "viewer received video-orientation " + strings.Join(extra, ", ") + " that the streamer never sent"
}

func kindOf(stream string) string {
	k, _, _ := strings.Cut(stream, " ")
	return k
}

// findings lists the anomalies of one leg.
func (l *leg) findings() []Finding {
	var out []Finding
	add := func(f Finding) {
		f.Leg = l.name
		f.FromS, f.ToS = f.From.Sub(l.start).Seconds(), f.To.Sub(l.start).Seconds()
		out = append(out, f)
	}
	for pt, n := range l.badPT {
		add(Finding{Class: "unknown-payload-type", Stream: fmt.Sprintf("pt %d", pt), From: l.badPTAt, To: l.badPTAt, Count: int64(n),
			Evidence: fmt.Sprintf("%d packets with payload type %d, which the leg's SDP does not declare", n, pt), severity: 3})
	}
	for kind, ssrcs := range l.ssrcs {
		if len(ssrcs) > 1 && !strings.HasPrefix(kind, "pt") {
			s := l.streams[ssrcs[1]]
			add(Finding{Class: "ssrc-change", Stream: kind, From: s.first, To: s.first, Count: int64(len(ssrcs) - 1),
				Evidence: fmt.Sprintf("%s SSRCs %s: the sender restarted (new SSRC, sequence and timestamps)", kind, fmtSSRCs(ssrcs)), severity: 4})
		}
	}
	for _, ssrc := range l.order {
		s := l.streams[ssrc]
		name := fmt.Sprintf("%s %#08x", s.kind, s.ssrc)
		base := Finding{Stream: name, SSRC: s.ssrc, From: s.first, To: s.last}
		if ranges, lost, dups := s.missing(); lost > 0 || dups > 0 {
			if lost > 0 {
				f := base
				f.Class, f.Count, f.severity = "loss", lost, 8
				f.Evidence = fmt.Sprintf("%d of %d packets missing: %s", lost, int64(s.packets-dups)+lost, fmtRanges(ranges))
				add(f)
			}
			if dups > 0 {
				f := base
				f.Class, f.Count, f.severity = "duplicates", int64(dups), 2
				f.Evidence = fmt.Sprintf("%d packets received more than once", dups)
				add(f)
			}
		}
		if len(s.tsJumps) > 0 {
			f := base
			f.Class, f.Count, f.severity = "timestamp-jump", int64(len(s.tsJumps)), 5
			f.Evidence = strings.Join(first(s.tsJumps, 3), "; ")
			add(f)
		}
		if len(s.freezes) > 0 {
			longest := s.freezes[0]
			for _, g := range s.freezes {
				if g.to.Sub(g.from) > longest.to.Sub(longest.from) {
					longest = g
				}
			}
			f := base
			f.Class, f.Count, f.severity = "freeze", int64(len(s.freezes)), 7
			f.From, f.To = longest.from, longest.to
			f.Evidence = fmt.Sprintf("%d arrival gaps over %s; longest %s", len(s.freezes), freezeGap, longest.to.Sub(longest.from).Round(time.Millisecond))
			add(f)
		}
		if s.codec.IsVideo() {
			switch {
			case s.keyframes == 0:
				f := base
				f.Class, f.Count, f.severity = "no-keyframe", 1, 9
				f.Evidence = fmt.Sprintf("%d video packets and not one keyframe: nothing is decodable", s.packets)
				add(f)
			case s.maxKeyGap > maxKeyframeGap:
				f := base
				f.Class, f.Count, f.severity = "keyframe-interval", 1, 4
				f.From, f.To = s.keyGapAt, s.keyGapAt.Add(s.maxKeyGap)
				f.Evidence = fmt.Sprintf("%s between keyframes: joining viewers and lossy ones wait that long", s.maxKeyGap.Round(time.Millisecond))
				add(f)
			}
		}
		for id, n := range s.badExt {
			f := base
			f.Class, f.Count, f.severity = "extension-not-negotiated", int64(n), 6
			f.Evidence = fmt.Sprintf("%d packets carry header extension ID %d, which the leg's SDP does not map (RFC 8285)", n, id)
			add(f)
		}
		if len(s.rotations) > 1 || l.name == "viewer" && len(s.rotations) > 0 {
			var rs []string
			for r := range s.rotations {
				rs = append(rs, fmt.Sprintf("%d°", r))
			}
			sort.Strings(rs)
			f := base
			f.Class, f.Count, f.severity = "rotation", int64(len(rs)), 6
			f.Evidence = "video-orientation values " + strings.Join(rs, ", ")
			if l.name == "ingest" {
				f.severity = 1 // a streamer turning the phone is news, rarely a fault
			}
			add(f)
		}
	}
	return out
}

func fmtSSRCs(ssrcs []uint32) string {
	var s []string
	for _, x := range ssrcs {
		s = append(s, fmt.Sprintf("%#08x", x))
	}
	return strings.Join(s, " → ")
}

func fmtRanges(r [][2]int64) string {
	var s []string
	for _, x := range first(r, 5) {
		if x[0] == x[1] {
			s = append(s, fmt.Sprintf("seq %d", uint16(x[0])))
		} else {
			s = append(s, fmt.Sprintf("seq %d–%d", uint16(x[0]), uint16(x[1])))
		}
	}
	if len(r) > 5 {
		s = append(s, fmt.Sprintf("and %d more ranges", len(r)-5))
	}
	return strings.Join(s, ", ")
}

func first[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
