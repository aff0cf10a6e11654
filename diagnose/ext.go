package diagnose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bcastdev/bcast/codec"
)

// extensions checks one packet's header extension against the leg's SDP
// (RFC 8285): every ID must be negotiated, and an element's length must fit
// the URI its ID is negotiated for. It also picks up the video-orientation
// byte (3GPP TS 26.114 §7.4.5).
func (l *leg) extensions(s *stream, p *pkt, h *rtpHeader, d *description) {
	idx := int32(len(s.pkts))
	count := func(m map[uint8]*extIssue, id uint8, size int) {
		e := m[id]
		if e == nil {
			e = &extIssue{first: idx, size: size}
			m[id] = e
		}
		e.n++
	}
	ok := h.eachExtension(func(id uint8, v []byte) {
		uri, mapped := d.ext[id]
		switch {
		case !mapped && d.known:
			count(s.badExt, id, len(v))
			return
		case extensionSize(uri) > 0 && len(v) != extensionSize(uri):
			count(s.badSize, id, len(v))
			return
		}
		if id == d.cvo && d.cvo != 0 {
			p.flags |= fCVO
			p.cvo = v[0]
		}
	})
	if !ok {
		if s.badList == nil {
			s.badList = &extIssue{first: idx}
		}
		s.badList.n++
	}
}

// rotation is the clockwise rotation a CVO byte asks for.
func rotation(b uint8) int {
	o, _ := codec.ParseVideoOrientation([]byte{b})
	return o.Rotation
}

// extensionEvents reports the header-extension problems of one stream, and
// on the ingest leg the orientations the streamer sent (news, rarely a
// fault: the phone turned).
func (l *leg) extensionEvents(s *stream) {
	ids := func(m map[uint8]*extIssue) []uint8 {
		var out []uint8
		for id := range m {
			out = append(out, id)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	for _, id := range ids(s.badExt) {
		e := s.badExt[id]
		p := &s.pkts[e.first]
		l.emit(event{class: "extension-not-negotiated", s: s, lo: p.ext, hi: p.ext, from: p.at, to: s.pkts[len(s.pkts)-1].at, n: int64(e.n),
			detail: fmt.Sprintf("%d packets carry header extension ID %d, which the leg's SDP does not map (RFC 8285 §5); first seq %d", e.n, id, seq(p.ext))})
	}
	for _, id := range ids(s.badSize) {
		e := s.badSize[id]
		p := &s.pkts[e.first]
		uri := s.desc.ext[id]
		l.emit(event{class: "extension-malformed", s: s, lo: p.ext, hi: p.ext, from: p.at, to: s.pkts[len(s.pkts)-1].at, n: int64(e.n),
			detail: fmt.Sprintf("%d packets carry a %d-byte element under ID %d, negotiated for %s which is %d bytes: sender and receiver disagree on the ID; first seq %d",
				e.n, e.size, id, uri, extensionSize(uri), seq(p.ext))})
	}
	if e := s.badList; e != nil {
		p := &s.pkts[e.first]
		l.emit(event{class: "extension-malformed", s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: int64(e.n),
			detail: fmt.Sprintf("%d packets with a header-extension block that does not parse (RFC 8285 §4); first seq %d", e.n, seq(p.ext))})
	}
	if l.name != ingestLeg || !s.video() {
		return
	}
	seen := map[int]int64{}
	for i := range s.pkts {
		if p := &s.pkts[i]; p.has(fCVO) {
			if _, ok := seen[rotation(p.cvo)]; !ok {
				seen[rotation(p.cvo)] = p.at
			}
		}
	}
	if len(seen) > 1 {
		var rs []string
		for r, at := range seen {
			rs = append(rs, fmt.Sprintf("%d° (from %.1f s)", r, l.since(at)))
		}
		sort.Strings(rs)
		l.emit(event{class: "rotation", s: s, lo: 1, hi: 0, from: s.pkts[0].at, to: s.pkts[len(s.pkts)-1].at, n: int64(len(seen)), level: Info,
			detail: "the streamer sent video-orientation " + strings.Join(rs, ", ")})
	}
}
