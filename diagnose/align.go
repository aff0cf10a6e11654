package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/bcastdev/bcast/codec"
)

// Aligning the legs. The SFU rewrites SSRC, payload type, sequence numbers,
// timestamps and extension IDs for each viewer, and re-bases sequence and
// timestamp when the publisher changes (forward.DownTrack), but it forwards
// payloads byte for byte. So a viewer packet is found in the ingest leg by
// its payload hash, among the ingest streams of the same kind and codec;
// each run of viewer packets that keeps one (ingest stream, sequence offset)
// is a segment. Within a segment a viewer packet whose payload differs from
// the ingest packet at the same position was modified on the way, and a
// sequence number missing on the viewer leg maps to one ingest packet that
// either arrived at the server (the loss is the viewer side's) or did not
// (inherited).

// segment is a run of viewer packets with one sequence offset to one
// ingest stream.
type segment struct {
	in       *stream
	off      int64 // viewer extended number - ingest extended number
	lo, hi   int64 // viewer extended numbers covered
	tsOff    uint32
	tsSet    bool
	matched  int
	modified int
	absent   int
}

// modification is a viewer packet whose payload differs from the ingest
// packet at its aligned position.
type modification struct {
	v, in  *stream
	vi, ii int32
}

// alignment maps viewer streams onto ingest streams.
type alignment struct {
	segs     map[*stream][]*segment
	modified []modification // the first few of each viewer stream, for byte-level evidence
	unmapped map[*stream]int
	cvo      map[*stream][]cvoMark // ingest orientation values, built when needed
}

type ref struct{ s, i int32 }

// refs holds up to four occurrences of one payload hash and how many there
// are: payloads repeated more often (silence, a looping test clip) cannot
// tell offsets apart.
type refs struct {
	n int32
	r [4]ref
}

const maxRefs = 4

type hypothesis struct {
	in    *stream
	off   int64
	votes int
}

// compatible reports whether a viewer stream may carry an ingest stream:
// same codec, or same kind when a codec is unknown (no SDP).
func compatible(v, in *stream) bool {
	if v.codec != codec.Unknown && in.codec != codec.Unknown {
		return v.codec == in.codec
	}
	if (v.kind == "video" || v.kind == "audio") && (in.kind == "video" || in.kind == "audio") {
		return v.kind == in.kind
	}
	return true
}

// align aligns the viewer leg with the ingest leg and records on the viewer
// leg what only the comparison shows: modified payloads, rewritten headers
// that do not keep the segment's offsets or marker bits, and orientations
// the streamer did not send.
func align(in, vw *leg) *alignment {
	a := &alignment{segs: map[*stream][]*segment{}, unmapped: map[*stream]int{}, cvo: map[*stream][]cvoMark{}}
	index := map[uint64]refs{}
	for si, s := range in.streams {
		for _, i := range s.order {
			h := s.pkts[i].hash
			r := index[h]
			if r.n < maxRefs {
				r.r[r.n] = ref{int32(si), i}
			}
			r.n++
			index[h] = r
		}
	}
	for _, v := range vw.streams {
		hyps := vote(in, v, index)
		a.walk(in, vw, v, hyps, index)
	}
	return a
}

// vote counts, for each (ingest stream, offset), the viewer packets whose
// payload occurs at that offset, using payloads rare enough to tell.
func vote(in *leg, v *stream, index map[uint64]refs) []hypothesis {
	type key struct {
		s   int32
		off int64
	}
	votes := map[key]int{}
	for _, i := range v.order {
		p := &v.pkts[i]
		r := index[p.hash]
		if r.n == 0 || r.n > maxRefs {
			continue
		}
		for _, x := range r.r[:r.n] {
			s := in.streams[x.s]
			if compatible(v, s) {
				votes[key{x.s, p.ext - s.pkts[x.i].ext}]++
			}
		}
	}
	var hyps []hypothesis
	for k, n := range votes {
		hyps = append(hyps, hypothesis{in.streams[k.s], k.off, n})
	}
	sort.Slice(hyps, func(i, j int) bool {
		if hyps[i].votes != hyps[j].votes {
			return hyps[i].votes > hyps[j].votes
		}
		return hyps[i].off < hyps[j].off
	})
	keep := hyps[:0]
	for i, h := range hyps {
		if h.votes >= 2 || i == 0 {
			keep = append(keep, h)
		}
	}
	return first(keep, 32)
}

// Outcomes of testing a viewer packet against a hypothesis.
const (
	absent = iota
	match
	mismatch
)

func test(p *pkt, h *hypothesis) (int, int32) {
	if h == nil {
		return absent, -1
	}
	ii, ok := h.in.find(p.ext - h.off)
	switch {
	case !ok:
		return absent, -1
	case h.in.pkts[ii].hash == p.hash:
		return match, ii
	default:
		return mismatch, ii
	}
}

// walk assigns the viewer stream's packets, in sequence order, to
// hypotheses: the current one while it explains them, another when it does
// not and the other does (a re-basing).
func (a *alignment) walk(in, vw *leg, v *stream, hyps []hypothesis, index map[uint64]refs) {
	var (
		cur  *hypothesis
		seg  *segment
		mods int
		vRot int // the viewer's current orientation
	)
	for _, i := range v.order {
		p := &v.pkts[i]
		if p.has(fCVO) {
			vRot = rotation(p.cvo)
		}
		st, ii := test(p, cur)
		// Switch only on clear evidence: the current hypothesis fails,
		// another matches, and (when the current one merely lacks the
		// packet) the payload is rare enough to tell offsets apart.
		if st != match && (st == mismatch || index[p.hash].n <= maxRefs) {
			for k := range hyps {
				h := &hyps[k]
				if h == cur {
					continue
				}
				if st2, ii2 := test(p, h); st2 == match {
					cur, st, ii = h, match, ii2
					seg = nil
					break
				}
			}
		}
		if cur == nil {
			a.unmapped[v]++
			continue
		}
		if seg == nil {
			seg = &segment{in: cur.in, off: cur.off, lo: p.ext}
			a.segs[v] = append(a.segs[v], seg)
		}
		seg.hi = p.ext
		switch st {
		case absent:
			seg.absent++
		case mismatch:
			seg.modified++
			if mods < 3 {
				a.modified = append(a.modified, modification{v, cur.in, i, ii})
			}
			mods++
			q := &cur.in.pkts[ii]
			vw.emit(event{class: "payload-modified", s: v, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
				detail: fmt.Sprintf("viewer seq %d (ingest seq %d): payload differs from the ingest's (%d bytes, ingest %d)", seq(p.ext), seq(q.ext), p.size, q.size)})
		case match:
			seg.matched++
			compareHeaders(vw, v, seg, p, &cur.in.pkts[ii])
			if v.video() && (v.desc.cvo != 0 || p.has(fCVO)) {
				a.compareRotation(vw, v, cur.in, p, &cur.in.pkts[ii], vRot)
			}
		}
	}
	for _, sg := range a.segs[v] {
		if sg.matched > 0 {
			return
		}
	}
	if len(v.order) > 0 {
		first, last := &v.pkts[v.order[0]], &v.pkts[v.order[len(v.order)-1]]
		vw.emit(event{class: "legs-not-aligned", s: v, lo: 1, hi: 0, from: first.at, to: last.at, n: int64(len(v.order)),
			detail: fmt.Sprintf("no payload of %s occurs in the ingest leg: another stream or time, or every payload changed; it is compared class by class only", v.name())})
	}
}

// compareHeaders checks what the SFU must keep of an aligned packet: the
// timestamp offset of the segment (RFC 3550 §5.1 timing) and the marker bit.
func compareHeaders(vw *leg, v *stream, seg *segment, p, q *pkt) {
	off := p.ts - q.ts
	if !seg.tsSet {
		seg.tsOff, seg.tsSet = off, true
	} else if off != seg.tsOff {
		vw.emit(event{class: "header-modified", s: v, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
			detail: fmt.Sprintf("viewer seq %d (ingest seq %d): RTP timestamp offset changed by %d without a re-basing of the sequence", seq(p.ext), seq(q.ext), int32(off-seg.tsOff))})
		seg.tsOff = off
	}
	if p.has(fMarker) != q.has(fMarker) {
		what := "cleared"
		if p.has(fMarker) {
			what = "set"
		}
		vw.emit(event{class: "header-modified", s: v, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
			detail: fmt.Sprintf("viewer seq %d (ingest seq %d): marker bit %s", seq(p.ext), seq(q.ext), what)})
	}
}

// compareRotation checks the orientation a viewer shows against the
// streamer's at the same packet. Video orientation is sticky (3GPP TS
// 26.114 §7.4.5: it holds until the next value; senders repeat it only on
// some packets), so both sides compare their last value, 0° before any.
func (a *alignment) compareRotation(vw *leg, v, in *stream, p, q *pkt, vRot int) {
	marks := a.cvo[in]
	if marks == nil {
		marks = []cvoMark{}
		for _, i := range in.order {
			if x := &in.pkts[i]; x.has(fCVO) {
				marks = append(marks, cvoMark{x.ext, rotation(x.cvo)})
			}
		}
		a.cvo[in] = marks
	}
	k, found := slices.BinarySearchFunc(marks, q.ext, func(m cvoMark, ext int64) int { return cmp.Compare(m.ext, ext) })
	if !found {
		k--
	}
	iRot := 0
	if k >= 0 {
		iRot = marks[k].rot
	}
	if vRot == iRot {
		return
	}
	since := "no orientation sent yet"
	if k >= 0 {
		since = fmt.Sprintf("sent at ingest seq %d", seq(marks[k].ext))
	}
	vw.emit(event{class: "rotation", s: v, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
		detail: fmt.Sprintf("viewer seq %d shows video-orientation %d° where the streamer's was %d° (%s; this packet is ingest seq %d)",
			seq(p.ext), vRot, iRot, since, seq(q.ext))})
}

// cvoMark is a video-orientation value a stream sent.
type cvoMark struct {
	ext int64
	rot int
}

// aligned reports whether the viewer stream has a segment with matches.
func (a *alignment) aligned(v *stream) bool {
	for _, sg := range a.segs[v] {
		if sg.matched > 0 {
			return true
		}
	}
	return false
}

// ingestPos maps a viewer extended sequence number to the ingest stream
// and extended number it carries, through the segment that covers it (or,
// between segments, the one before; a loss at a re-basing is ambiguous).
func (a *alignment) ingestPos(v *stream, ext int64) (*stream, int64, bool) {
	segs := a.segs[v]
	k := sort.Search(len(segs), func(i int) bool { return segs[i].lo > ext }) - 1
	if k < 0 || segs[k].matched == 0 || ext > segs[k].hi+maxDropout {
		return nil, 0, false
	}
	return segs[k].in, ext - segs[k].off, true
}

// evidence fills the details of the first payload modifications of each
// stream with which bytes differ, reading those packets again.
func (a *alignment) evidence(in, vw *leg) error {
	if len(a.modified) == 0 {
		return nil
	}
	wantV, wantI := map[int32]bool{}, map[int32]bool{}
	for _, m := range a.modified {
		wantV[m.v.pkts[m.vi].ord] = true
		wantI[m.in.pkts[m.ii].ord] = true
	}
	vb, err := vw.payloads(wantV)
	if err != nil {
		return err
	}
	ib, err := in.payloads(wantI)
	if err != nil {
		return err
	}
	details := map[*stream]map[int64]string{}
	for _, m := range a.modified {
		p, q := &m.v.pkts[m.vi], &m.in.pkts[m.ii]
		x, y := vb[p.ord], ib[q.ord]
		if q.has(fRTX) && len(y) >= 2 {
			y = y[2:]
		}
		if p.has(fRTX) && len(x) >= 2 {
			x = x[2:]
		}
		if x == nil || y == nil {
			continue
		}
		at, diff := -1, 0
		for i := range max(len(x), len(y)) {
			if i >= len(x) || i >= len(y) || x[i] != y[i] {
				diff++
				if at < 0 {
					at = i
				}
			}
		}
		if details[m.v] == nil {
			details[m.v] = map[int64]string{}
		}
		details[m.v][p.ext] = fmt.Sprintf("viewer seq %d (ingest seq %d): %d of %d bytes differ from the ingest's, the first at byte %d (ingest %#02x, viewer %#02x)",
			seq(p.ext), seq(q.ext), diff, max(len(x), len(y)), at, byteAt(y, at), byteAt(x, at))
	}
	for i := range vw.events {
		e := &vw.events[i]
		if e.class == "payload-modified" {
			if d, ok := details[e.s][e.lo]; ok {
				e.detail = d
			}
		}
	}
	return nil
}

func byteAt(b []byte, i int) int {
	if i < 0 || i >= len(b) {
		return -1
	}
	return int(b[i])
}
