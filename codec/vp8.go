package codec

// inspectVP8 parses the RFC 7741 §4.2 payload descriptor:
//
//	      0 1 2 3 4 5 6 7
//	     +-+-+-+-+-+-+-+-+
//	     |X|R|N|S|R| PID | (REQUIRED)
//	     +-+-+-+-+-+-+-+-+
//	X:   |I|L|T|K| RSV   | (OPTIONAL)
//	     +-+-+-+-+-+-+-+-+
//	I:   |M| PictureID   | (OPTIONAL, 7 or 15 bits)
//	     +-+-+-+-+-+-+-+-+
//	L:   |   TL0PICIDX   | (OPTIONAL)
//	     +-+-+-+-+-+-+-+-+
//	T/K: |TID|Y| KEYIDX  | (OPTIONAL)
//	     +-+-+-+-+-+-+-+-+
//
// A frame starts where S=1 and PID=0 (§4.2: S marks the start of a
// partition, PID the partition index). Only that packet carries the VP8
// payload header (§4.3), whose P bit is the inverse key frame flag.
func inspectVP8(p []byte) (FrameInfo, error) {
	if len(p) == 0 {
		return FrameInfo{}, ErrTruncated
	}
	b0 := p[0]
	i := 1
	if b0&0x80 != 0 { // X: extended control bits present
		if len(p) < 2 {
			return FrameInfo{}, ErrTruncated
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: PictureID present
			if i >= len(p) {
				return FrameInfo{}, ErrTruncated
			}
			if p[i]&0x80 != 0 { // M: 15-bit PictureID
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX present
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX byte present
			i++
		}
	}
	// The descriptor must be followed by at least one byte of VP8 data
	// (§4.1: the payload descriptor precedes the VP8 payload).
	if i >= len(p) {
		return FrameInfo{}, ErrTruncated
	}
	if b0&0x10 == 0 || b0&0x07 != 0 {
		return FrameInfo{}, nil
	}
	info := FrameInfo{FrameStart: true}
	vp8 := p[i:]
	// §4.3 / RFC 6386 §9.1: frame tag bit 0 is P, "inverse key frame":
	// 0 means key frame.
	if vp8[0]&0x01 != 0 {
		return info, nil
	}
	info.Keyframe = true
	info.Width, info.Height = vp8KeyframeSize(vp8)
	return info, nil
}

// vp8KeyframeSize reads the dimensions of an uncompressed key frame
// header (RFC 6386 §9.1, §19.1): a 3-byte frame tag, the start code
// 9d 01 2a, then 16-bit little-endian width and height whose top two bits
// are the upscaling mode and the low 14 bits the size in pixels.
func vp8KeyframeSize(b []byte) (w, h int) {
	if len(b) < 10 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		return 0, 0
	}
	w = int(b[6]) | int(b[7]&0x3f)<<8
	h = int(b[8]) | int(b[9]&0x3f)<<8
	if w == 0 || h == 0 {
		return 0, 0 // not a decodable picture size
	}
	return w, h
}
