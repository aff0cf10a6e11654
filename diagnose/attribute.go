package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Attribution. Every ingest-leg anomaly is the streamer's side: the server
// received it that way. A viewer-leg anomaly is the viewer side's unless
// the ingest leg already shows it, which is decided, in this order:
//   - never, for classes local to the viewer leg (its own negotiation, or
//     bytes the hop rewrote);
//   - packet by packet where the legs are aligned: the viewer position is
//     mapped onto the ingest stream, and the same anomaly there (a packet
//     missing there too, the same frame-boundary error, the same arrival
//     gap) makes it inherited;
//   - class by class otherwise, by counts of the same class and media kind.

// attribution is the viewer leg's events after attribution.
type attribution struct {
	events    []event            // viewer-side (and uninherited info)
	inherited map[eventKey]int64 // per class and viewer stream
	reduce    map[eventKey]int64 // counts explained class by class
	lossBoth  map[*stream]int64  // lost packets the ingest leg lacks too
}

// ingestIndex finds ingest events by class and stream.
type ingestIndex map[eventKey][]*event

func indexEvents(l *leg) ingestIndex {
	ix := ingestIndex{}
	for i := range l.events {
		e := &l.events[i]
		ix[eventKey{e.class, e.s}] = append(ix[eventKey{e.class, e.s}], e)
	}
	return ix
}

// overlaps reports an ingest event of the class on s overlapping [lo, hi].
func (ix ingestIndex) overlaps(class string, s *stream, lo, hi int64) bool {
	for _, e := range ix[eventKey{class, s}] {
		if e.positional() && e.lo <= hi && e.hi >= lo {
			return true
		}
	}
	return false
}

func attribute(in, vw *leg, al *alignment) *attribution {
	ix := indexEvents(in)
	at := &attribution{inherited: map[eventKey]int64{}, reduce: map[eventKey]int64{}, lossBoth: map[*stream]int64{}}
	var pool []*event
	for i := range vw.events {
		e := &vw.events[i]
		switch {
		case classes[e.class].local:
			at.keep(*e)
		case e.class == "loss" && al != nil && al.aligned(e.s):
			pool = append(pool, at.splitLoss(e, al)...)
		case e.class == "nack-storm" && len(e.nacked) > 0 && al != nil && al.aligned(e.s):
			at.nackStorm(e, al)
		case e.positional() && al != nil:
			s, lo, ok1 := al.ingestPos(e.s, e.lo)
			_, hi, ok2 := al.ingestPos(e.s, e.hi)
			if !ok1 || !ok2 || hi < lo {
				pool = append(pool, e)
				continue
			}
			if inheritedAt(ix, e, s, lo, hi) {
				at.inherited[eventKey{e.class, e.s}] += e.n
				continue
			}
			at.keep(*e)
		default:
			pool = append(pool, e)
		}
	}
	at.byClass(in, pool)
	return at
}

func (at *attribution) keep(e event) {
	if e.levelOf() != Info {
		e.side = ViewerSide
	}
	at.events = append(at.events, e)
}

// inheritedAt decides whether the ingest stream s shows event e of the
// viewer leg at the mapped positions lo..hi.
func inheritedAt(ix ingestIndex, e *event, s *stream, lo, hi int64) bool {
	switch e.class {
	case "freeze":
		// The same two packets arrived far apart at the server too.
		a, okA := s.find(lo)
		b, okB := s.find(hi)
		if okA && okB {
			return time.Duration(s.pkts[b].at-s.pkts[a].at) >= time.Duration(e.to-e.from)/2
		}
		return ix.overlaps(e.class, s, lo-1, hi+1)
	case "frozen-after-loss":
		if _, ok := s.find(lo); !ok {
			return true // the loss that froze it is upstream
		}
	case "no-keyframe":
		// The streamer sent none over the same stretch either (a
		// capture shorter than the keyframe interval).
		return !s.keyframeWithin(lo-1, hi+1)
	case "keyframe-interval":
		return !s.keyframeWithin(lo, hi)
	case "reordering":
		// The server got it late too (reordered, or repaired by RTX)
		// and forwarded it as it came.
		if i, ok := s.find(lo); ok && s.pkts[i].has(fLate) {
			return true
		}
	}
	return ix.overlaps(e.class, s, lo-1, hi+1)
}

// splitLoss divides a viewer loss burst into the packets the ingest leg
// has (lost on the way to the viewer: kept, with evidence in both
// numberings) and those it lacks too (inherited). Positions the alignment
// cannot map go to the class-by-class pool.
func (at *attribution) splitLoss(e *event, al *alignment) []*event {
	var pool []*event
	type run struct {
		vlo, vhi, ilo, ihi int64
		present, mapped    bool
	}
	var runs []run
	for ext := e.lo; ext <= e.hi; ext++ {
		s, iext, ok := al.ingestPos(e.s, ext)
		present := false
		if ok {
			_, present = s.find(iext)
		}
		if n := len(runs); n > 0 && runs[n-1].mapped == ok && runs[n-1].present == present && (!ok || runs[n-1].ihi+1 == iext) {
			runs[n-1].vhi, runs[n-1].ihi = ext, iext
			continue
		}
		runs = append(runs, run{ext, ext, iext, iext, present, ok})
	}
	for _, r := range runs {
		n := r.vhi - r.vlo + 1
		switch {
		case !r.mapped:
			sub := *e
			sub.lo, sub.hi, sub.n = r.vlo, r.vhi, n
			sub.detail = seqRange(r.vlo, r.vhi)
			pool = append(pool, &sub)
		case r.present:
			sub := *e
			sub.lo, sub.hi, sub.n = r.vlo, r.vhi, n
			sub.detail = fmt.Sprintf("%s present in ingest, absent in viewer (viewer %s)", seqRange(r.ilo, r.ihi), seqRange(r.vlo, r.vhi))
			sub.in, sub.inLo, sub.inHi = true, r.ilo, r.ihi
			at.keep(sub)
		default:
			at.lossBoth[e.s] += n
		}
	}
	return pool
}

// nackStorm keeps a viewer leg's NACK storm unless every packet it asked
// for was missing on the ingest leg already: requests for packets the
// server never had are the upstream loss's echo.
func (at *attribution) nackStorm(e *event, al *alignment) {
	var had, lacked int
	for _, ext := range e.nacked {
		if s, iext, ok := al.ingestPos(e.s, ext); ok {
			if _, present := s.find(iext); present {
				had++
			} else {
				lacked++
			}
		}
	}
	if had == 0 && lacked > 0 {
		at.inherited[eventKey{e.class, e.s}] += e.n
		return
	}
	kept := *e
	if lacked > 0 {
		kept.detail += fmt.Sprintf("; %d of the NACKed packets were missing on the ingest leg already", lacked)
	}
	at.keep(kept)
}

// byClass attributes the events the alignment could not place: the
// viewer side gets what exceeds the ingest leg's count of the same class
// and media kind.
func (at *attribution) byClass(in *leg, pool []*event) {
	type key struct{ class, kind string }
	ingest := map[key]int64{}
	for i := range in.events {
		e := &in.events[i]
		ingest[key{e.class, kindOf(e)}] += e.n
	}
	viewer := map[key]int64{}
	for _, e := range pool {
		viewer[key{e.class, kindOf(e)}] += e.n
	}
	for _, e := range pool {
		k := key{e.class, kindOf(e)}
		if ingest[k] >= viewer[k] {
			at.inherited[eventKey{e.class, e.s}] += e.n
			continue
		}
		at.keep(*e)
	}
	// Partly inherited classes: the finding's count drops by the ingest's.
	for k, n := range viewer {
		if i := ingest[k]; i > 0 && i < n {
			for _, e := range pool {
				if kindOf(e) == k.kind && e.class == k.class {
					at.reduce[eventKey{e.class, e.s}] += i
					break
				}
			}
		}
	}
}

func kindOf(e *event) string {
	if e.s == nil {
		return ""
	}
	return e.s.kind
}

// extraRotations describes video-orientation values the viewer received
// that the streamer never sent, for viewer streams the alignment could not
// place: the "rotating video" incident by values alone.
func extraRotations(in *leg, v *stream) string {
	sent := map[int]bool{}
	for _, s := range in.streams {
		for i := range s.pkts {
			if s.pkts[i].has(fCVO) {
				sent[rotation(s.pkts[i].cvo)] = true
			}
		}
	}
	seen := map[int]int64{}
	for i := range v.pkts {
		p := &v.pkts[i]
		if r := rotation(p.cvo); p.has(fCVO) && !sent[r] {
			if _, ok := seen[r]; !ok {
				seen[r] = p.at
			}
		}
	}
	var extra []string
	for r, at := range seen {
		extra = append(extra, fmt.Sprintf("%d° (first at %s)", r, wall(at).Format("15:04:05.000")))
	}
	sort.Strings(extra)
	if len(extra) == 0 {
		return ""
	}
	return "viewer received video-orientation " + strings.Join(extra, ", ") + " that the streamer never sent"
}
