package diagnose

import "errors"

// errNotRTP is returned for datagrams that cannot be RTP (RFC 3550 §5.1).
var errNotRTP = errors.New("not an RTP packet")

// rtpHeader is what the analyses need from one RTP packet (RFC 3550 §5.1).
// Parsing is by hand and allocation-free: diagnose reads every packet of
// hours-long captures.
type rtpHeader struct {
	marker     bool
	pt         uint8
	seq        uint16
	ts         uint32
	ssrc       uint32
	payload    []byte // padding removed
	extProfile uint16 // 0xBEDE one-byte or 0x100x two-byte (RFC 8285 §4); 0 without extension
	ext        []byte // the extension data after its 4-byte header
}

// parseRTP fills h from b. The payload and extension alias b.
func parseRTP(b []byte, h *rtpHeader) error {
	if len(b) < 12 || b[0]>>6 != 2 {
		return errNotRTP
	}
	cc := int(b[0] & 0x0f)
	h.marker = b[1]&0x80 != 0
	h.pt = b[1] & 0x7f
	h.seq = uint16(b[2])<<8 | uint16(b[3])
	h.ts = uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	h.ssrc = uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	i := 12 + 4*cc
	if i > len(b) {
		return errNotRTP
	}
	h.extProfile, h.ext = 0, nil
	if b[0]&0x10 != 0 {
		// §5.3.1: profile, length in 32-bit words, then the data.
		if i+4 > len(b) {
			return errNotRTP
		}
		n := 4 * (int(b[i+2])<<8 | int(b[i+3]))
		if i+4+n > len(b) {
			return errNotRTP
		}
		h.extProfile = uint16(b[i])<<8 | uint16(b[i+1])
		h.ext = b[i+4 : i+4+n]
		i += 4 + n
	}
	end := len(b)
	if b[0]&0x20 != 0 {
		// §5.1: the last octet counts the padding octets, itself included.
		pad := int(b[end-1])
		if pad == 0 || end-pad < i {
			return errNotRTP
		}
		end -= pad
	}
	h.payload = b[i:end]
	return nil
}

// eachExtension calls fn for every element of an RFC 8285 header
// extension: the one-byte form (profile 0xBEDE, §4.2: ID 0 is padding, ID 15
// ends the list) and the two-byte form (profile 0x100 in the top 12 bits,
// §4.3: ID 0 is padding). A malformed element ends the walk; it reports
// whether the extension parsed to its end.
func (h *rtpHeader) eachExtension(fn func(id uint8, v []byte)) bool {
	b := h.ext
	switch {
	case h.extProfile == 0xBEDE:
		for len(b) > 0 {
			id, n := b[0]>>4, int(b[0]&0x0f)+1
			if id == 0 {
				b = b[1:]
				continue
			}
			if id == 15 {
				return true
			}
			if 1+n > len(b) {
				return false
			}
			fn(id, b[1:1+n])
			b = b[1+n:]
		}
	case h.extProfile&0xfff0 == 0x1000:
		for len(b) > 0 {
			if b[0] == 0 {
				b = b[1:]
				continue
			}
			if len(b) < 2 || 2+int(b[1]) > len(b) {
				return false
			}
			n := int(b[1])
			fn(b[0], b[2:2+n])
			b = b[2+n:]
		}
	}
	return true
}
