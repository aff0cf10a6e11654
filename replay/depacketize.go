package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pion/rtp/codecs"

	"github.com/bcastdev/bcast/codec"
)

// depacketize turns the payloads of one complete frame into the codec's
// bitstream unit: a VP8 frame (RFC 7741 §4), a VP9 frame or superframe
// (RFC 9628 §4), an AV1 temporal unit in the low-overhead OBU format with
// obu_size fields (AV1 RTP §4.3; the temporal delimiter is not
// transmitted), an H.264 access unit in Annex B form (RFC 6184 §5.6-5.8),
// or an Opus packet as is (RFC 7587 §4.2).
func depacketize(c codec.Codec, payloads [][]byte) ([]byte, error) {
	switch c {
	case codec.VP8:
		var out []byte
		for _, p := range payloads {
			var pk codecs.VP8Packet
			b, err := pk.Unmarshal(p)
			if err != nil {
				return nil, fmt.Errorf("VP8 payload descriptor: %w", err)
			}
			out = append(out, b...)
		}
		return out, nil
	case codec.VP9:
		return depacketizeVP9(payloads)
	case codec.AV1:
		var (
			d   codecs.AV1Depacketizer
			out []byte
		)
		for _, p := range payloads {
			b, err := d.Unmarshal(p)
			if err != nil {
				return nil, fmt.Errorf("AV1 aggregation: %w", err)
			}
			out = append(out, b...)
		}
		if d.Y {
			return nil, errors.New("AV1 temporal unit ends inside an OBU fragment")
		}
		return out, nil
	case codec.H264:
		var (
			pk  codecs.H264Packet // IsAVC false: Annex B start codes
			out []byte
		)
		for _, p := range payloads {
			switch p[0] & 0x1f {
			case 0, 30, 31:
				continue // undefined types: receivers ignore them (RFC 6184 §5.4)
			}
			b, err := pk.Unmarshal(p)
			if err != nil {
				return nil, fmt.Errorf("H.264 payload: %w", err)
			}
			out = append(out, b...)
		}
		return out, nil
	case codec.Opus:
		if len(payloads) != 1 {
			return nil, errors.New("an Opus frame is one packet")
		}
		return bytes.Clone(payloads[0]), nil
	}
	return nil, fmt.Errorf("no depacketizer for %v", c)
}

// depacketizeVP9 joins the layer frames of one picture. With spatial
// layers a picture holds several VP9 frames, each starting at a packet
// with B set (RFC 9628 §4.2); a decoder takes them as one superframe whose
// index lists the frame sizes (VP9 bitstream specification Annex B).
func depacketizeVP9(payloads [][]byte) ([]byte, error) {
	var (
		out   []byte
		sizes []int
	)
	for _, p := range payloads {
		var pk codecs.VP9Packet
		b, err := pk.Unmarshal(p)
		if err != nil {
			return nil, fmt.Errorf("VP9 payload descriptor: %w", err)
		}
		if pk.B || len(sizes) == 0 {
			sizes = append(sizes, 0)
		}
		sizes[len(sizes)-1] += len(b)
		out = append(out, b...)
	}
	if len(sizes) <= 1 {
		return out, nil
	}
	if len(sizes) > 8 {
		return nil, fmt.Errorf("VP9 picture of %d layer frames: a superframe holds at most 8", len(sizes))
	}
	biggest := 0
	for _, s := range sizes {
		biggest = max(biggest, s)
	}
	mag := 1 // bytes per frame size
	for biggest >= 1<<(8*mag) {
		mag++
	}
	if mag > 4 {
		return nil, errors.New("VP9 layer frame too large for a superframe index")
	}
	marker := byte(0xc0 | (mag-1)<<3 | (len(sizes) - 1))
	out = append(out, marker)
	for _, s := range sizes {
		var le [4]byte
		binary.LittleEndian.PutUint32(le[:], uint32(s))
		out = append(out, le[:mag]...)
	}
	return append(out, marker), nil
}

// paramSets remembers the last H.264 SPS and PPS of a stream (RFC 6184:
// sent in band, usually in a STAP-A before each IDR picture), so that a file
// that starts at an IDR picture sent without them still decodes.
type paramSets struct {
	sps, pps []byte
}

// observe records the parameter sets a payload carries: a single NAL unit
// (§5.6) or the units of a STAP-A (§5.7.1). Fragmented ones are rare
// (parameter sets are small) and left out.
func (ps *paramSets) observe(p []byte) {
	if len(p) == 0 {
		return
	}
	switch p[0] & 0x1f {
	case 7, 8:
		ps.keep(p)
	case 24:
		for i := 1; i+2 <= len(p); {
			n := int(binary.BigEndian.Uint16(p[i:]))
			i += 2
			if n == 0 || n > len(p)-i {
				return
			}
			ps.keep(p[i : i+n])
			i += n
		}
	}
}

func (ps *paramSets) keep(nal []byte) {
	switch nal[0] & 0x1f {
	case 7:
		ps.sps = append(ps.sps[:0], nal...)
	case 8:
		ps.pps = append(ps.pps[:0], nal...)
	}
}

// complete prefixes an Annex B access unit that has no SPS or no PPS with
// the last ones received.
func (ps *paramSets) complete(au []byte) []byte {
	if ps.sps == nil || ps.pps == nil {
		return au
	}
	hasSPS, hasPPS := false, false
	annexBNALs(au, func(nal []byte) {
		switch nal[0] & 0x1f {
		case 7:
			hasSPS = true
		case 8:
			hasPPS = true
		}
	})
	if hasSPS && hasPPS {
		return au
	}
	sc := []byte{0, 0, 0, 1}
	out := make([]byte, 0, len(au)+len(ps.sps)+len(ps.pps)+8)
	out = append(append(append(out, sc...), ps.sps...), sc...)
	out = append(append(out, ps.pps...), au...)
	return out
}

// annexBNALs calls fn for each NAL unit of an Annex B byte stream (H.264
// Annex B: units after 00 00 01 start codes).
func annexBNALs(b []byte, fn func(nal []byte)) {
	sc := []byte{0, 0, 1}
	i := bytes.Index(b, sc)
	for i >= 0 {
		start := i + 3
		j := bytes.Index(b[start:], sc)
		end := len(b)
		if j >= 0 {
			end = start + j
			for end > start && b[end-1] == 0 {
				end-- // the leading zero of a 4-byte start code
			}
		}
		if end > start {
			fn(b[start:end])
		}
		if j < 0 {
			return
		}
		i = start + j
	}
}
