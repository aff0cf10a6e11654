package replay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/dump"
)

// capture is what the first pass over the files learns: the RTP streams,
// their payload types, and the first sender report of each SSRC. The
// second pass (Run) reads only the files that hold the selected streams.
type capture struct {
	files    []string
	override map[uint8]payloadType // from --sdp
	streams  []*stream             // in order of their first packet
	byKey    map[streamKey]*stream
	srs      map[uint32]senderReport
	first    time.Time // arrival of the first packet of any kind
	warnings []string
}

// streamKey identifies an RTP stream the way a receiver does: by SSRC, and
// by source address so that two directions of a forwarded call, which may
// share an SSRC, stay apart.
type streamKey struct {
	src  netip.AddrPort
	ssrc uint32
}

// stream is one RTP stream of the capture.
type stream struct {
	key  streamKey
	pt   uint8       // payload type of its first packet
	role role        // of pt
	typ  payloadType // of pt; of the primary encoding for RED (RFC 2198)
	leg  string      // capture interface name: "ingest", "viewer-…" or a NIC
	// packets counts the RTP packets of the stream; first and last are
	// the arrival times of its first and last packet, firstTS the RTP
	// timestamp of the first.
	packets     uint64
	first, last time.Time
	firstTS     uint32
	files       []int     // indexes into capture.files, ascending
	repairs     *stream   // an RTX stream: the media stream it repairs
	rtx         []*stream // a media stream: its RTX streams
}

func (s *stream) codec() codec.Codec { return s.typ.Codec }

// kind is "video" or "audio" for a stream whose payload type is known,
// "" otherwise.
func (s *stream) kind() string {
	if s.role == roleRTX || s.role == roleUnknown {
		return ""
	}
	return s.typ.Kind
}

func (s *stream) String() string {
	return fmt.Sprintf("SSRC %d (0x%08x, payload type %d)", s.key.ssrc, s.key.ssrc, s.pt)
}

// senderReport is the NTP ↔ RTP timestamp pair of an RTCP sender report
// (RFC 3550 §6.4.1).
type senderReport struct {
	ntp     time.Time
	rtpTime uint32
	arrival time.Time
}

// scan is the first pass: it reads every file and lists the streams.
func scan(ctx context.Context, files []string, override map[uint8]payloadType) (*capture, error) {
	c := &capture{files: files, override: override, byKey: map[streamKey]*stream{}, srs: map[uint32]senderReport{}}
	tables := map[string]map[uint8]payloadType{}
	var h rtp.Header
	for i, path := range files {
		warn, err := readFile(ctx, path, override, tables, func(p dump.Packet, t ptTable, leg string) bool {
			if !p.Time.IsZero() && (c.first.IsZero() || p.Time.Before(c.first)) {
				c.first = p.Time
			}
			if p.RTCP {
				senderReports(p.Payload, func(ssrc uint32, ntp time.Time, rtpTime uint32) {
					if _, ok := c.srs[ssrc]; !ok {
						c.srs[ssrc] = senderReport{ntp: ntp, rtpTime: rtpTime, arrival: p.Time}
					}
				})
				return true
			}
			payload, ok := parseRTP(p.Payload, &h)
			if !ok {
				return true
			}
			k := streamKey{p.Src, h.SSRC}
			s := c.byKey[k]
			if s == nil {
				s = &stream{key: k, pt: h.PayloadType, leg: leg, first: p.Time, firstTS: h.Timestamp}
				s.typ, _ = t.lookup(h.PayloadType)
				s.role = s.typ.role()
				if s.role == roleRED {
					if inner, ok := redType(t, payload); ok {
						s.typ = inner
					}
				}
				c.byKey[k] = s
				c.streams = append(c.streams, s)
			}
			s.packets++
			s.last = p.Time
			if n := len(s.files); n == 0 || s.files[n-1] != i {
				s.files = append(s.files, i)
			}
			return true
		})
		if warn != "" {
			c.warnings = append(c.warnings, warn)
		}
		if err != nil {
			return nil, err
		}
	}
	c.associateRTX()
	return c, nil
}

// redType resolves the codec of a RED payload from its primary block.
func redType(t ptTable, payload []byte) (payloadType, bool) {
	pt, _, ok := redPrimary(payload)
	if !ok {
		return payloadType{}, false
	}
	inner, ok := t.lookup(pt)
	if !ok || inner.role() != roleMedia {
		return payloadType{}, false
	}
	return inner, true
}

// associateRTX pairs each RTX stream with the media stream it repairs.
// RFC 4588 §5 sends retransmissions in a separate SSRC that a receiver
// pairs by a=ssrc-group:FID or by the RTX packets' contents; the answer we
// store names no SSRCs, so the pairing is by associated payload type, then
// by source address, then by time overlap.
func (c *capture) associateRTX() {
	for _, r := range c.streams {
		if r.role != roleRTX {
			continue
		}
		var best *stream
		bestScore := -1
		for _, s := range c.streams {
			if s.role == roleRTX || int(s.pt) != r.typ.APT {
				continue
			}
			score := 0
			if s.key.src == r.key.src {
				score += 4
			} else if s.key.src.Addr() == r.key.src.Addr() {
				score += 2
			}
			if !r.first.After(s.last) && !s.first.After(r.last) {
				score++
			}
			if score > bestScore {
				best, bestScore = s, score
			}
		}
		if best != nil {
			r.repairs = best
			best.rtx = append(best.rtx, r)
		}
	}
}

// readFile calls fn for every UDP packet of one capture with the payload
// types of the packet's interface, until fn returns false. A damaged block ends the file with a
// warning rather than an error: what comes before it is still evidence.
func readFile(ctx context.Context, path string, override map[uint8]payloadType, cache map[string]map[uint8]payloadType,
	fn func(p dump.Packet, t ptTable, leg string) bool,
) (warning string, err error) {
	r, err := dump.Open(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	var (
		tables []ptTable
		legs   []string
	)
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return "", err
			}
		}
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		if err != nil {
			return fmt.Sprintf("%s: %v; read up to there", path, err), nil
		}
		if p.Interface >= len(tables) {
			for _, intf := range r.Interfaces()[len(tables):] {
				own, ok := cache[intf.Description]
				if !ok {
					own = payloadTypes(intf.Description)
					cache[intf.Description] = own
				}
				tables = append(tables, ptTable{own: own, override: override})
				legs = append(legs, intf.Name)
			}
			if p.Interface >= len(tables) {
				continue
			}
		}
		if !fn(p, tables[p.Interface], legs[p.Interface]) {
			return "", nil
		}
	}
}

// parseRTP parses an RTP packet (RFC 3550 §5.1) into h and returns its
// payload without padding (P bit: the last octet counts the padding
// octets, itself included). ok is false for anything that is not RTP
// version 2 or whose padding count overruns the payload.
func parseRTP(b []byte, h *rtp.Header) (payload []byte, ok bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil, false
	}
	n, err := h.Unmarshal(b)
	if err != nil || n > len(b) {
		return nil, false
	}
	end := len(b)
	if h.Padding {
		pad := int(b[end-1])
		if pad == 0 || pad > end-n {
			return nil, false
		}
		end -= pad
	}
	return b[n:end], true
}

// senderReports calls fn for each sender report of a compound RTCP packet
// (RFC 3550 §6.4.1: packet type 200; sender SSRC, 64-bit NTP timestamp and
// RTP timestamp of the same instant). It parses the headers itself so that
// one packet it does not understand (an unknown feedback type, a truncated
// tail) does not hide the reports around it.
func senderReports(b []byte, fn func(ssrc uint32, ntp time.Time, rtpTime uint32)) {
	for len(b) >= 4 && b[0]>>6 == 2 {
		n := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
		if n > len(b) {
			return
		}
		if b[1] == 200 && n >= 28 {
			if ntp := binary.BigEndian.Uint64(b[8:]); ntp != 0 {
				fn(binary.BigEndian.Uint32(b[4:]), ntpTime(ntp), binary.BigEndian.Uint32(b[16:]))
			}
		}
		b = b[n:]
	}
}

// ntpTime converts a 64-bit NTP timestamp (RFC 5905 §6: seconds since 1900
// and a 32-bit fraction). Seconds with the top bit clear are in NTP era 1,
// from February 2036 (RFC 4330 §3).
func ntpTime(ntp uint64) time.Time {
	const unixOffset = 2208988800 // 1900-01-01 to 1970-01-01
	sec := int64(ntp >> 32)
	if sec&0x80000000 == 0 {
		sec += 1 << 32
	}
	ns := (ntp & 0xffffffff) * 1e9 >> 32
	return time.Unix(sec-unixOffset, int64(ns))
}

// redPrimary returns the primary encoding of an RFC 2198 payload (§3):
// each redundant block has a 4-octet header (F=1, block payload type,
// 14-bit timestamp offset, 10-bit length), the primary a 1-octet one
// (F=0, payload type), and the primary's data follows the redundant data.
func redPrimary(b []byte) (pt uint8, data []byte, ok bool) {
	i, skip := 0, 0
	for {
		if i >= len(b) {
			return 0, nil, false
		}
		if b[i]&0x80 == 0 {
			pt = b[i] & 0x7f
			i++
			break
		}
		if i+4 > len(b) {
			return 0, nil, false
		}
		skip += int(binary.BigEndian.Uint16(b[i+2:]) & 0x3ff)
		i += 4
	}
	if skip > len(b)-i {
		return 0, nil, false
	}
	return pt, b[i+skip:], true
}
