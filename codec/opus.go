package codec

import "time"

// opusMaxFrameBytes is the largest Opus frame (RFC 6716 §3.2.1, R2).
const opusMaxFrameBytes = 1275

// opusMaxPacketDuration is the longest Opus packet (RFC 6716 §3.2.5, R5).
const opusMaxPacketDuration = 120 * time.Millisecond

// OpusPacketDuration returns the duration of an Opus packet from its TOC
// byte and frame count code (RFC 6716 §3.1, §3.2), 0/error on malformed
// input.
//
// The TOC byte is |config(5)|s|c(2)|: config selects mode, bandwidth and
// frame size (Table 2), c the number of frames (§3.2.2–§3.2.5). The frame
// lengths are checked against the §3.4 requirements R1–R7 so that a
// packet a decoder would reject is reported as malformed rather than
// counted, which matters to an SFU deriving timestamps or gaps from it.
func OpusPacketDuration(payload []byte) (time.Duration, error) {
	if len(payload) == 0 { // R1
		return 0, ErrTruncated
	}
	toc := payload[0]
	frame := opusFrameDuration(toc >> 3)
	rest := payload[1:]
	switch toc & 0x03 {
	case 0: // §3.2.2: one frame
		if len(rest) > opusMaxFrameBytes { // R2
			return 0, ErrMalformed
		}
		return frame, nil
	case 1: // §3.2.3: two frames of equal compressed size
		if len(rest)%2 != 0 || len(rest)/2 > opusMaxFrameBytes { // R3
			return 0, ErrMalformed
		}
		return 2 * frame, nil
	case 2: // §3.2.4: two frames, the first with an explicit length
		n1, l := opusFrameLength(rest)
		if l == 0 {
			return 0, ErrTruncated
		}
		rest = rest[l:]
		if n1 > len(rest) || len(rest)-n1 > opusMaxFrameBytes { // R4
			return 0, ErrMalformed
		}
		return 2 * frame, nil
	}
	// §3.2.5: code 3, an arbitrary number of frames:
	//
	//	|v|p|     M     |  frame count byte: VBR, padding, count
	if len(rest) == 0 {
		return 0, ErrTruncated
	}
	fc := rest[0]
	rest = rest[1:]
	m := int(fc & 0x3f)
	total := time.Duration(m) * frame
	if m == 0 || total > opusMaxPacketDuration { // R5
		return 0, ErrMalformed
	}
	if fc&0x40 != 0 {
		// Padding length: each 255 byte adds 254 and continues, any
		// other value ends it (§3.2.5). Padding sits at the packet end.
		pad := 0
		for {
			if len(rest) == 0 {
				return 0, ErrTruncated
			}
			b := int(rest[0])
			rest = rest[1:]
			if b != 255 {
				pad += b
				break
			}
			pad += 254
		}
		if pad > len(rest) {
			return 0, ErrMalformed
		}
		rest = rest[:len(rest)-pad]
	}
	if fc&0x80 == 0 { // CBR: R6
		if len(rest)%m != 0 || len(rest)/m > opusMaxFrameBytes {
			return 0, ErrMalformed
		}
		return total, nil
	}
	// VBR: M-1 explicit lengths, the last frame takes the rest (R7).
	sum := 0
	for k := 0; k < m-1; k++ {
		n, l := opusFrameLength(rest)
		if l == 0 {
			return 0, ErrTruncated
		}
		rest = rest[l:]
		sum += n
	}
	if sum > len(rest) || len(rest)-sum > opusMaxFrameBytes {
		return 0, ErrMalformed
	}
	return total, nil
}

// opusFrameDuration maps a TOC configuration number to its frame size
// (RFC 6716 §3.1, Table 2).
func opusFrameDuration(config byte) time.Duration {
	switch {
	case config < 12: // SILK-only NB/MB/WB: 10, 20, 40, 60 ms
		if config%4 == 3 {
			return 60 * time.Millisecond
		}
		return 10 * time.Millisecond << (config % 4)
	case config < 16: // Hybrid SWB/FB: 10, 20 ms
		return 10 * time.Millisecond << (config % 2)
	default: // CELT-only NB/WB/SWB/FB: 2.5, 5, 10, 20 ms
		return 2500 * time.Microsecond << (config % 4)
	}
}

// opusFrameLength decodes a frame length (RFC 6716 §3.2.1): one byte
// 0–251, or two bytes 252–255 + 4*second. It returns the length and the
// bytes it used, 0 when b is too short.
func opusFrameLength(b []byte) (n, used int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 252 {
		return int(b[0]), 1
	}
	if len(b) < 2 {
		return 0, 0
	}
	return int(b[0]) + 4*int(b[1]), 2
}
