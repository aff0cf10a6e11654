package codec

// inspectVP9 parses the RFC 9628 §4.2 payload descriptor (formerly
// draft-ietf-payload-vp9):
//
//	      0 1 2 3 4 5 6 7
//	     +-+-+-+-+-+-+-+-+
//	     |I|P|L|F|B|E|V|Z| (REQUIRED)
//	     +-+-+-+-+-+-+-+-+
//	I:   |M| PICTURE ID  | (REQUIRED if I, 7 or 15 bits)
//	     +-+-+-+-+-+-+-+-+
//	L:   |TID|U| SID |D| (REQUIRED if L)
//	     +-+-+-+-+-+-+-+-+
//	     |   TL0PICIDX   | (REQUIRED if L and F=0, non-flexible mode)
//	     +-+-+-+-+-+-+-+-+
//	P,F: | P_DIFF      |N| (REQUIRED if P and F, up to 3 times)
//	     +-+-+-+-+-+-+-+-+
//	V:   | SS            | (scalability structure, §4.2.1)
//	     +-+-+-+-+-+-+-+-+
//
// B marks the first packet of a (layer) frame. P=0 means the frame is not
// inter-picture predicted; on spatial layer 0 that makes it a point where
// a decoder can start (§4.2: "P: Inter-picture predicted frame").
// Layer frames with SID>0 and P=0 still depend on the lower layers, so
// they are not key frames. The frame header that follows B=1 is checked
// too and wins over P when they disagree.
func inspectVP9(p []byte) (FrameInfo, error) {
	if len(p) == 0 {
		return FrameInfo{}, ErrTruncated
	}
	b0 := p[0]
	hasPicID := b0&0x80 != 0
	interPred := b0&0x40 != 0
	hasLayer := b0&0x20 != 0
	flexible := b0&0x10 != 0
	begin := b0&0x08 != 0
	hasSS := b0&0x02 != 0

	i := 1
	if hasPicID {
		if i >= len(p) {
			return FrameInfo{}, ErrTruncated
		}
		if p[i]&0x80 != 0 { // M: 15-bit picture ID
			i += 2
		} else {
			i++
		}
	}
	sid := 0
	if hasLayer {
		if i >= len(p) {
			return FrameInfo{}, ErrTruncated
		}
		sid = int(p[i]>>1) & 0x07
		i++
		if !flexible {
			i++ // TL0PICIDX
		}
	}
	if flexible && interPred {
		// Up to three reference indices, each with N set when another
		// follows (§4.2: "up to 3 reference pictures").
		for n := 0; ; n++ {
			if i >= len(p) {
				return FrameInfo{}, ErrTruncated
			}
			more := p[i]&0x01 != 0
			i++
			if !more {
				break
			}
			if n == 2 {
				return FrameInfo{}, ErrMalformed
			}
		}
	}
	var ssW, ssH int
	if hasSS {
		var err error
		i, ssW, ssH, err = vp9SkipSS(p, i, sid)
		if err != nil {
			return FrameInfo{}, err
		}
	}
	if i >= len(p) {
		return FrameInfo{}, ErrTruncated
	}

	info := FrameInfo{FrameStart: begin}
	if begin {
		// The packet with B=1 begins with the frame's uncompressed
		// header. When it parses, it is authoritative: some packetizers
		// (ffmpeg's, for one) leave P=0 on every frame.
		intra := !interPred
		if hdr := parseVP9Header(p[i:]); hdr.ok {
			intra = hdr.key || hdr.intraOnly
			info.Width, info.Height = hdr.w, hdr.h
		}
		info.Keyframe = intra && sid == 0
	}
	if info.Width == 0 {
		info.Width, info.Height = ssW, ssH
	}
	return info, nil
}

// vp9SkipSS walks the scalability structure (RFC 9628 §4.2.1) starting at
// p[i] and returns the index after it, plus the resolution it announces
// for spatial layer sid when the Y bit is set:
//
//	     +-+-+-+-+-+-+-+-+
//	V:   | N_S |Y|G|-|-|-|
//	     +-+-+-+-+-+-+-+-+              -\
//	Y:   |     WIDTH     | (OPTIONAL)    .
//	     +               +               .
//	     |               | (OPTIONAL)    .
//	     +-+-+-+-+-+-+-+-+               . N_S + 1 times
//	     |     HEIGHT    | (OPTIONAL)    .
//	     +               +               .
//	     |               | (OPTIONAL)    .
//	     +-+-+-+-+-+-+-+-+              -/
//	G:   |      N_G      | (OPTIONAL)
//	     +-+-+-+-+-+-+-+-+                           -\
//	N_G: |  T  |U| R |-|-| (OPTIONAL)                 .
//	     +-+-+-+-+-+-+-+-+              -\            . N_G times
//	     |    P_DIFF     | (OPTIONAL)    . R times    .
//	     +-+-+-+-+-+-+-+-+              -/            -/
func vp9SkipSS(p []byte, i, sid int) (next, w, h int, err error) {
	if i >= len(p) {
		return 0, 0, 0, ErrTruncated
	}
	ns := int(p[i]>>5) + 1
	hasRes := p[i]&0x10 != 0
	hasGroups := p[i]&0x08 != 0
	i++
	if hasRes {
		if len(p)-i < 4*ns {
			return 0, 0, 0, ErrTruncated
		}
		if sid < ns {
			j := i + 4*sid
			w = int(p[j])<<8 | int(p[j+1])
			h = int(p[j+2])<<8 | int(p[j+3])
			if w == 0 || h == 0 {
				w, h = 0, 0 // not a picture size
			}
		}
		i += 4 * ns
	}
	if hasGroups {
		if i >= len(p) {
			return 0, 0, 0, ErrTruncated
		}
		ng := int(p[i])
		i++
		for g := 0; g < ng; g++ {
			if i >= len(p) {
				return 0, 0, 0, ErrTruncated
			}
			r := int(p[i]>>2) & 0x03
			i += 1 + r
			if i > len(p) {
				return 0, 0, 0, ErrTruncated
			}
		}
	}
	return i, w, h, nil
}

// vp9Header is what the start of a VP9 uncompressed header tells.
type vp9Header struct {
	ok        bool // the header parsed far enough to classify the frame
	key       bool // frame_type == KEY_FRAME
	intraOnly bool // a non-key frame coded without references
	w, h      int  // frame size, for key and intra-only frames
}

// parseVP9Header parses the start of a VP9 uncompressed header (VP9
// bitstream spec §6.2, semantics §7.2). Key frames and intra-only frames
// code their size explicitly (frame_size(), §6.2.5); inter frames may
// copy it from a reference, so their size is left at zero.
func parseVP9Header(b []byte) vp9Header {
	r := bitReader{buf: b}
	if r.u(2) != 2 { // frame_marker
		return vp9Header{}
	}
	profile := r.bit() // profile_low_bit
	profile |= r.bit() << 1
	if profile == 3 {
		r.skip(1) // reserved_zero
	}
	if r.flag() { // show_existing_frame: displays a decoded frame
		return vp9Header{ok: !r.bad}
	}
	key := !r.flag() // frame_type: 0 = KEY_FRAME
	showFrame := r.flag()
	errorResilient := r.flag()
	hdr := vp9Header{key: key}
	if !key {
		if !showFrame {
			hdr.intraOnly = r.flag()
		}
		if !errorResilient {
			r.skip(2) // reset_frame_context
		}
		if !hdr.intraOnly {
			hdr.ok = !r.bad
			return hdr
		}
	}
	if r.u(24) != 0x498342 { // frame_sync_code (§6.2.1)
		return vp9Header{}
	}
	if key || profile > 0 {
		// color_config() (§6.2.2); intra-only frames of profile 0
		// imply 8-bit 4:2:0 and omit it.
		if profile >= 2 {
			r.skip(1) // ten_or_twelve_bit
		}
		const csRGB = 7
		if r.u(3) != csRGB { // color_space
			r.skip(1) // color_range
			if profile == 1 || profile == 3 {
				r.skip(3) // subsampling_x, subsampling_y, reserved_zero
			}
		} else if profile == 1 || profile == 3 {
			r.skip(1) // reserved_zero
		}
	}
	if !key {
		r.skip(8) // refresh_frame_flags
	}
	// frame_size() (§6.2.5)
	w := int(r.u(16)) + 1
	h := int(r.u(16)) + 1
	if r.bad {
		return vp9Header{}
	}
	hdr.ok, hdr.w, hdr.h = true, w, h
	return hdr
}
