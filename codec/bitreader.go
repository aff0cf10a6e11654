package codec

// bitReader reads MSB-first bit fields, the convention of every bitstream
// spec handled here (H.264 §7.2, VP9 §4.9, AV1 §4.10.2). It never panics:
// reading past the end sets the sticky bad flag and yields zeros, so a
// parser reads all fields and checks bad once at the end, like
// a bufio.Scanner's Err.
//
// When epb is set the reader drops H.264 emulation-prevention bytes on
// the fly (H.264 §7.4.1: in a NAL unit every 0x000003 sequence stands for
// 0x0000, the 0x03 being inserted so that no start code appears inside
// the payload). Doing it while reading avoids copying the NAL unit into a
// scratch RBSP buffer, which keeps SPS parsing allocation-free.
type bitReader struct {
	buf   []byte
	pos   int  // index of the next byte of buf to load
	cur   byte // byte being consumed
	left  uint // unread bits of cur
	zeros int  // consecutive zero bytes just loaded (epb mode)
	epb   bool
	bad   bool
}

func (r *bitReader) load() bool {
	if r.pos >= len(r.buf) {
		return false
	}
	b := r.buf[r.pos]
	if r.epb && r.zeros >= 2 && b == 0x03 {
		r.pos++
		r.zeros = 0
		if r.pos >= len(r.buf) {
			return false
		}
		b = r.buf[r.pos]
	}
	r.pos++
	if b == 0 {
		r.zeros++
	} else {
		r.zeros = 0
	}
	r.cur, r.left = b, 8
	return true
}

// bit reads one bit.
func (r *bitReader) bit() uint32 {
	if r.left == 0 && !r.load() {
		r.bad = true
		return 0
	}
	r.left--
	return uint32(r.cur>>r.left) & 1
}

// flag reads one bit as a boolean.
func (r *bitReader) flag() bool { return r.bit() == 1 }

// u reads an n-bit unsigned integer, n <= 32 (H.264 u(n), VP9/AV1 f(n)),
// taking as many bits from each byte as it can rather than one at a time.
func (r *bitReader) u(n int) uint32 {
	var v uint32
	for n > 0 {
		if r.left == 0 && !r.load() {
			r.bad = true
			return 0
		}
		take := min(uint(n), r.left)
		r.left -= take
		v = v<<take | uint32(r.cur>>r.left)&(1<<take-1)
		n -= int(take)
	}
	return v
}

// skip discards n bits.
func (r *bitReader) skip(n int) {
	for n > 0 {
		if r.left == 0 && !r.load() {
			r.bad = true
			return
		}
		take := min(uint(n), r.left)
		r.left -= take
		n -= int(take)
	}
}

// ue reads an unsigned Exp-Golomb code (H.264 §9.1). Codes with more than
// 31 leading zeros do not fit 32 bits and no conforming syntax element
// uses them, so they mark the stream bad.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 {
		if r.bad || zeros == 31 {
			r.bad = true
			return 0
		}
		zeros++
	}
	return (1<<zeros - 1) + r.u(zeros)
}

// se reads a signed Exp-Golomb code (H.264 §9.1.1).
func (r *bitReader) se() int64 {
	k := int64(r.ue())
	if k&1 == 1 {
		return (k + 1) / 2
	}
	return -k / 2
}
