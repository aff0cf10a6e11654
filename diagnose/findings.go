package diagnose

import (
	"fmt"
	"strings"
)

// maxDetails is how many packet-level details a finding's evidence quotes.
const maxDetails = 3

// findings aggregates a leg's events, one finding per class, stream and
// level, in order of first appearance.
func (l *leg) findings(evs []event, att *attribution) []Finding {
	type key struct {
		class, level string
		s            *stream
	}
	var order []key
	groups := map[key][]*event{}
	for i := range evs {
		e := &evs[i]
		k := key{e.class, e.levelOf(), e.s}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		g := groups[k]
		f := Finding{Class: k.class, Level: k.level, Leg: l.name, Side: g[0].side, severity: classes[k.class].severity}
		if k.s != nil {
			f.Stream, f.Kind, f.SSRC = k.s.name(), k.s.kind, k.s.ssrc
		} else {
			f.Stream = "leg"
		}
		from, to := g[0].from, g[0].to
		for _, e := range g {
			f.Count += e.n
			from, to = min(from, e.from), max(to, e.to)
		}
		f.From, f.To = wall(from), wall(to)
		f.FromS, f.ToS = l.since(from), l.since(to)
		var details []string
		for _, e := range g {
			details = append(details, e.detail)
		}
		if k.class == "loss" {
			f.Evidence = lossSummary(l, k.s, g, lossRanges(g))
		} else {
			f.Evidence = listDetails(details, maxDetails)
		}
		if att != nil {
			ek := eventKey{k.class, k.s}
			if r := att.reduce[ek]; r > 0 && r < f.Count {
				f.Count -= r
				f.Evidence += fmt.Sprintf(" (the ingest leg shows %d of these; %d appeared on the way to the viewer)", r, f.Count)
			}
			inherited := att.inherited[ek]
			if k.class == "loss" {
				inherited += att.lossBoth[k.s]
			}
			if inherited > 0 {
				f.Evidence += fmt.Sprintf(" (%d more on this leg were already on the ingest leg)", inherited)
			}
		}
		out = append(out, f)
	}
	return out
}

// listDetails joins the first n details and says how many it left out.
func listDetails(d []string, n int) string {
	s := strings.Join(first(d, n), "; ")
	if len(d) > n {
		s += fmt.Sprintf("; and %d more", len(d)-n)
	}
	return s
}

// lossRanges lists the first missing ranges of a loss finding; where the
// ingest leg has those packets, in both numberings: "seq 1200–1230 present
// in ingest, absent in viewer (viewer seq 31200–31230)".
func lossRanges(g []*event) string {
	const n = 5
	var plain, in, vw []string
	for _, e := range first(g, n) {
		if e.in {
			in = append(in, strings.TrimPrefix(seqRange(e.inLo, e.inHi), "seq "))
			vw = append(vw, strings.TrimPrefix(seqRange(e.lo, e.hi), "seq "))
		} else {
			plain = append(plain, seqRange(e.lo, e.hi))
		}
	}
	var parts []string
	if len(plain) > 0 {
		parts = append(parts, strings.Join(plain, ", "))
	}
	if len(in) > 0 {
		parts = append(parts, fmt.Sprintf("seq %s present in ingest, absent in viewer (viewer seq %s)", strings.Join(in, ", "), strings.Join(vw, ", ")))
	}
	s := strings.Join(parts, "; ")
	if len(g) > n {
		s += fmt.Sprintf(" and %d more ranges", len(g)-n)
	}
	return s
}
