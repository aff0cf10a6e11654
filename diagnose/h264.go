package diagnose

import (
	"fmt"
	"hash/maphash"

	"github.com/bcastdev/bcast/codec"
)

// H.264 NAL unit types (ITU-T H.264 Table 7-1) and the RFC 6184 §5.2
// payload structures WebRTC uses (packetization modes 0 and 1).
const (
	nalSPS   = 7
	nalPPS   = 8
	nalSTAPA = 24
	nalFUA   = 28
)

// parameterSets notes a new SPS or PPS (single NAL unit or inside a STAP-A,
// RFC 6184 §5.6, §5.7.1): an encoder reconfiguration, worth a line in a
// post-mortem. The first of each is not a change.
func (l *leg) parameterSets(s *stream, idx int32, b []byte) {
	note := func(nal []byte) {
		if len(nal) == 0 {
			return
		}
		last := &s.lastSPS
		what := "SPS"
		switch nal[0] & 0x1f {
		case nalSPS:
		case nalPPS:
			last, what = &s.lastPPS, "PPS"
		default:
			return
		}
		h := maphash.Bytes(l.seed, nal) | 1
		if *last != 0 && *last != h {
			s.changes = append(s.changes, change{idx, what})
		}
		*last = h
	}
	switch b[0] & 0x1f {
	case nalSPS, nalPPS:
		note(b)
	case nalSTAPA:
		for i := 1; i+2 <= len(b); {
			n := int(b[i])<<8 | int(b[i+1])
			i += 2
			if n == 0 || i+n > len(b) {
				return
			}
			note(b[i : i+n])
			i += n
		}
	}
}

// payloadProblem says why a payload did not parse, in terms an engineer can
// check in Wireshark.
func payloadProblem(c codec.Codec, b []byte, err error) string {
	if c == codec.H264 && len(b) > 0 && b[0]&0x1f == nalSTAPA {
		for i := 1; i < len(b); {
			if len(b)-i < 2 {
				return fmt.Sprintf("STAP-A cut inside a NALU size field at byte %d of %d (RFC 6184 §5.7.1)", i, len(b))
			}
			n := int(b[i])<<8 | int(b[i+1])
			if n == 0 || n > len(b)-i-2 {
				return fmt.Sprintf("STAP-A NALU of %d bytes at byte %d overruns the %d-byte payload (RFC 6184 §5.7.1)", n, i, len(b))
			}
			i += 2 + n
		}
	}
	return fmt.Sprintf("%s payload of %d bytes does not parse: %v", c, len(b), err)
}

// malformedEvents reports payloads that did not parse.
func (l *leg) malformedEvents(s *stream) {
	for i := range s.pkts {
		p := &s.pkts[i]
		if !p.has(fMalformed) || p.has(fDup) {
			continue
		}
		class := "malformed-payload"
		if s.codec == codec.H264 && p.nal[0]&0x1f == nalSTAPA {
			class = "h264-stap-a"
		}
		l.emit(event{class: class, s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
			detail: fmt.Sprintf("seq %d: %s", seq(p.ext), s.problems[int32(i)])})
	}
}

// h264 checks the fragmentation units of RFC 6184 §5.8 across packets that
// arrived contiguously: every FU-A fragmented NAL unit starts with S=1, ends
// with E=1 before anything else, keeps the NAL type and NRI of its start,
// and never sets S and E in one fragment. It also flags NAL units with
// forbidden_zero_bit set (§5.3: a syntax violation or bit error).
func (l *leg) h264(s *stream) {
	var (
		open     bool // a fragmented NAL unit started and has not ended
		orphan   bool // fragments whose start was lost
		startExt int64
		startHdr [2]byte
		prevExt  int64
	)
	fu := func(p *pkt, format string, args ...any) {
		l.emit(event{class: "h264-fu-a", s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
			detail: fmt.Sprintf("seq %d: ", seq(p.ext)) + fmt.Sprintf(format, args...) + " (RFC 6184 §5.8)"})
	}
	for k, i := range s.order {
		p := &s.pkts[i]
		contiguous := k > 0 && p.ext == prevExt+1
		prevExt = p.ext
		if !contiguous {
			open = false // what happened in the gap is the loss's doing
			orphan = p.size >= 2 && p.nal[0]&0x1f == nalFUA && p.nal[1]&0xc0 == 0
		}
		if p.size == 0 {
			continue
		}
		if p.nal[0]&0x80 != 0 {
			l.emit(event{class: "malformed-payload", s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
				detail: fmt.Sprintf("seq %d: forbidden_zero_bit set in NAL header %#02x (RFC 6184 §5.3)", seq(p.ext), p.nal[0])})
		}
		if p.nal[0]&0x1f != nalFUA {
			orphan = false
			if open {
				fu(p, "a %s interrupts the fragmented NAL unit begun at seq %d before its end fragment", nalName(p.nal[0]), seq(startExt))
				open = false
			}
			continue
		}
		if p.size < 2 {
			continue // codec.Inspect reported it truncated
		}
		hdr := p.nal[1]
		startBit, endBit := hdr&0x80 != 0, hdr&0x40 != 0
		if orphan && !startBit {
			orphan = !endBit
			continue
		}
		orphan = false
		switch {
		case startBit && endBit:
			fu(p, "start and end bits both set in one fragment")
			open = false
		case startBit:
			if open {
				fu(p, "a new fragmented NAL unit starts before the one begun at seq %d ended (end fragment missing)", seq(startExt))
			}
			open, startExt, startHdr = true, p.ext, p.nal
		case !open && contiguous:
			fu(p, "fragment without a start: the packet before (seq %d) does not begin or continue a fragmented NAL unit", seq(p.ext-1))
		case open:
			if hdr&0x1f != startHdr[1]&0x1f || p.nal[0]&0x60 != startHdr[0]&0x60 {
				fu(p, "fragment of NAL type %d, NRI %d continues one of type %d, NRI %d begun at seq %d",
					hdr&0x1f, p.nal[0]>>5&3, startHdr[1]&0x1f, startHdr[0]>>5&3, seq(startExt))
			}
			if endBit {
				open = false
			}
		}
	}
}

func nalName(b byte) string {
	switch t := b & 0x1f; t {
	case nalSTAPA:
		return "STAP-A"
	case nalFUA:
		return "FU-A"
	default:
		return fmt.Sprintf("NAL unit of type %d", t)
	}
}
