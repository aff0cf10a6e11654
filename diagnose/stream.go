package diagnose

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/bcastdev/bcast/codec"
)

// Packet flags.
const (
	fMarker    uint16 = 1 << iota
	fStart            // starts a frame by its codec's rules (codec.Inspect)
	fKey              // starts a keyframe
	fRTX              // recovered from an RTX packet (RFC 4588)
	fMalformed        // the payload does not parse (codec.Inspect error)
	fStray            // a sequence-number jump the next packet did not confirm
	fCVO              // carries a video-orientation byte (in cvo)
	fDup              // a later copy of a sequence number already received
	fLate             // first copy, but after a higher sequence number
)

// pkt is one RTP packet reduced to what the analyses use, so that hour-long
// captures fit in memory: the payload is kept as a hash (the SFU forwards
// payloads untouched, so equal hashes align the legs) and its first bytes
// (H.264 NAL and FU headers).
type pkt struct {
	at    int64  // arrival, Unix nanoseconds
	ext   int64  // extended sequence number (RFC 3550 A.1)
	hash  uint64 // of the payload, padding excluded
	ts    uint32
	ord   int32 // position in the leg's files, to read the bytes again
	size  int32 // payload bytes
	flags uint16
	cvo   uint8
	nal   [2]byte
}

func (p *pkt) has(f uint16) bool { return p.flags&f != 0 }

// Sequence-number extension (RFC 3550 A.1). MAX_MISORDER is larger than the
// RFC's 100: a retransmission answering a NACK arrives a round trip late,
// several hundred packets at video rates.
const (
	maxDropout  = 3000
	maxMisorder = 1000
	// segmentGap separates the extended numbers of two sequences of one
	// SSRC (a restart, A.1's "bad_seq" case): gaps that large are
	// discontinuities, never loss.
	segmentGap = 1 << 24
)

// discontinuity is a confirmed restart of the sequence inside one SSRC.
type discontinuity struct {
	idx  int32  // first packet of the new sequence
	from uint16 // the highest sequence number before it
}

// change is an info-level fact: a new resolution or parameter set.
type change struct {
	idx  int32
	what string
}

// extIssue counts packets with one header-extension problem.
type extIssue struct {
	n     int
	first int32
	size  int // element length seen (extension-malformed)
}

// stream is one RTP stream (SSRC) of one leg.
type stream struct {
	ssrc  uint32
	pt    uint8
	kind  string // "video", "audio" or "ptN" without an SDP
	codec codec.Codec
	clock uint32
	desc  *description
	pkts  []pkt // in arrival order

	maxExt   int64
	pending  int32
	discont  []discontinuity
	badExt   map[uint8]*extIssue // IDs the SDP does not map
	badSize  map[uint8]*extIssue // elements of the wrong length for their URI
	badList  *extIssue           // extension blocks that do not parse
	changes  []change
	problems map[int32]string // why a payload did not parse
	lastW    int
	lastH    int
	lastSPS  uint64
	lastPPS  uint64

	// Built by index: the first copy of each sequence number in order.
	order []int32
	exts  []int64

	lost     int64 // packets missing (set by analyse)
	repaired int   // late packets this leg's receiver had NACKed
}

func newStream(ssrc uint32, pt uint8, kind string, c codec.Codec, clock uint32, d *description) *stream {
	return &stream{ssrc: ssrc, pt: pt, kind: kind, codec: c, clock: clock, desc: d, pending: -1,
		badExt: map[uint8]*extIssue{}, badSize: map[uint8]*extIssue{}, problems: map[int32]string{}}
}

func (s *stream) name() string { return fmt.Sprintf("%s %#08x", s.kind, s.ssrc) }

func (s *stream) video() bool { return s.codec.IsVideo() }

// extend returns the extended sequence number of the next packet (A.1).
// A jump beyond the limits is a restart only when the following packet
// continues it; until then the packet is a stray.
func (s *stream) extend(seq uint16) (ext int64, stray bool) {
	if len(s.pkts) == 0 {
		s.maxExt = int64(seq)
		return s.maxExt, false
	}
	if s.pending >= 0 {
		p := &s.pkts[s.pending]
		if seq == uint16(p.ext)+1 {
			// The new sequence keeps its own low 16 bits (seq(ext) is
			// always the packet's sequence number).
			start := (s.maxExt+segmentGap)&^0xffff | int64(seq-1)
			s.discont = append(s.discont, discontinuity{idx: s.pending, from: uint16(s.maxExt)})
			p.ext = start
			p.flags &^= fStray
			s.pending = -1
			s.maxExt = start + 1
			return s.maxExt, false
		}
		s.pending = -1
	}
	d := int64(int16(seq - uint16(s.maxExt)))
	ext = s.maxExt + d
	switch {
	case d > 0 && d < maxDropout:
		s.maxExt = ext
	case d <= 0 && -d < maxMisorder:
	default:
		s.pending = int32(len(s.pkts))
		return ext, true
	}
	return ext, false
}

// near returns the extended number closest to the highest seen, for a
// sequence number carried inside a retransmission; it does not move the
// highest.
func (s *stream) near(seq uint16) (int64, bool) {
	d := int64(int16(seq - uint16(s.maxExt)))
	return s.maxExt + d, len(s.pkts) > 0 && d > -maxMisorder && d < maxDropout
}

// index orders the packets by sequence number and marks later copies of a
// sequence number (duplicates, unless they are retransmissions) and late
// arrivals (first copies after a higher sequence number).
func (s *stream) index() {
	s.order = s.order[:0]
	idx := make([]int32, 0, len(s.pkts))
	for i := range s.pkts {
		if !s.pkts[i].has(fStray) {
			idx = append(idx, int32(i))
		}
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(s.pkts[a].ext, s.pkts[b].ext); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	s.exts = s.exts[:0]
	for k := 0; k < len(idx); {
		j := k + 1
		for ; j < len(idx) && s.pkts[idx[j]].ext == s.pkts[idx[k]].ext; j++ {
			s.pkts[idx[j]].flags |= fDup
		}
		s.order = append(s.order, idx[k])
		s.exts = append(s.exts, s.pkts[idx[k]].ext)
		k = j
	}
	var hi int64
	started := false
	for i := range s.pkts {
		p := &s.pkts[i]
		if p.has(fStray | fDup) {
			continue
		}
		if started && p.ext < hi {
			p.flags |= fLate
		}
		if !started || p.ext > hi {
			hi, started = p.ext, true
		}
	}
}

// find returns the index in pkts of the first copy of extended number ext.
func (s *stream) find(ext int64) (int32, bool) {
	k, ok := slices.BinarySearch(s.exts, ext)
	if !ok {
		return -1, false
	}
	return s.order[k], true
}

// seq is the 16-bit sequence number of an extended one.
func seq(ext int64) uint16 { return uint16(ext) }
