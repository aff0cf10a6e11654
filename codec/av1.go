package codec

// OBU types (AV1 bitstream spec §6.2.2).
const (
	obuSequenceHeader    = 1
	obuTemporalDelimiter = 2
	obuFrameHeader       = 3
	obuMetadata          = 5
	obuFrame             = 6
)

// inspectAV1 parses the aggregation header of the AV1 RTP payload format
// (AV1 RTP spec v1.0 §4.4) and the OBU elements that follow it (§4.3):
//
//	 0 1 2 3 4 5 6 7
//	+-+-+-+-+-+-+-+-+
//	|Z|Y| W |N|-|-|-|
//	+-+-+-+-+-+-+-+-+
//
// Z: the first OBU element continues an OBU fragment of the previous
// packet. Y: the last element continues in the next packet. W: number of
// OBU elements (0: every element carries a LEB128 length; 1–3: all but
// the last do). N: first packet of a coded video sequence.
//
// AV1 has no frame-begin flag like VP8's S or VP9's B. A packet starts a
// frame when its first element is a whole OBU (Z=0) that can only open a
// temporal unit or a frame: a temporal delimiter, sequence header,
// metadata, frame header or frame OBU (AV1 spec §7.5 orders OBUs so);
// a leading tile group or padding OBU continues a frame. A temporal unit
// may hold several frames (hidden frames, spatial layers), each reported
// as a frame start; the RTP marker bit ends temporal units (§4.1).
//
// Keyframe follows §4.4 and §7.5: N=1 marks the first packet of a coded
// video sequence, and a new sequence begins with a sequence header OBU
// followed by a key frame, so a packet with N=1 or with a sequence header
// is where a decoder can join.
func inspectAV1(p []byte) (FrameInfo, error) {
	if len(p) < 2 {
		return FrameInfo{}, ErrTruncated
	}
	agg := p[0]
	cont := agg&0x80 != 0
	w := int(agg>>4) & 0x03
	newSeq := agg&0x08 != 0

	var info FrameInfo
	seqHeader := false
	i := 1
	n := 0
	for ; i < len(p); n++ {
		var size int
		if w != 0 && n == w-1 {
			size = len(p) - i // last element: no length field
		} else {
			v, l := leb128(p[i:])
			if l == 0 {
				return FrameInfo{}, ErrMalformed
			}
			i += l
			if v > uint64(len(p)-i) {
				return FrameInfo{}, ErrMalformed
			}
			size = int(v)
		}
		if size == 0 {
			// An element carries at least an OBU header or one byte of
			// a fragment (§4.3).
			return FrameInfo{}, ErrMalformed
		}
		elem := p[i : i+size]
		i += size
		if n == 0 && cont {
			continue // tail of an OBU fragment: no OBU header
		}
		typ := (elem[0] >> 3) & 0x0f
		if n == 0 {
			switch typ {
			case obuSequenceHeader, obuTemporalDelimiter, obuMetadata, obuFrameHeader, obuFrame:
				info.FrameStart = true
			}
		}
		if typ == obuSequenceHeader {
			seqHeader = true
			if info.Width == 0 {
				info.Width, info.Height = av1SequenceHeaderSize(elem)
			}
		}
	}
	if w != 0 && n != w {
		return FrameInfo{}, ErrMalformed // fewer elements than W announced
	}
	if !cont && (newSeq || seqHeader) {
		info.Keyframe = true
		info.FrameStart = true
	}
	return info, nil
}

// leb128 decodes an unsigned LEB128 value (AV1 spec §4.10.5) and returns
// it with its encoded length, or length 0 when b ends inside the value or
// the value exceeds the 8 bytes / 2^32-1 the spec allows.
func leb128(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0
			}
			return v, i + 1
		}
	}
	return 0, 0
}

// av1SequenceHeaderSize parses a sequence header OBU (OBU header per AV1
// spec §5.3.1, payload per §5.5.1) and returns max_frame_width_minus_1+1
// and max_frame_height_minus_1+1. These bound every frame of the coded
// video sequence; real-time encoders set them to the coded size and send
// a new sequence header when the resolution changes.
func av1SequenceHeaderSize(obu []byte) (w, h int) {
	if len(obu) < 2 {
		return 0, 0
	}
	hdr := obu[0]
	i := 1
	if hdr&0x04 != 0 { // obu_extension_flag
		i++
	}
	end := len(obu)
	if hdr&0x02 != 0 { // obu_has_size_field
		if i >= len(obu) {
			return 0, 0
		}
		v, l := leb128(obu[i:])
		if l == 0 {
			return 0, 0
		}
		i += l
		if v < uint64(end-i) {
			end = i + int(v)
		}
	}
	if i >= end {
		return 0, 0
	}
	r := bitReader{buf: obu[i:end]}
	r.skip(4)     // seq_profile, still_picture
	if r.flag() { // reduced_still_picture_header
		r.skip(5) // seq_level_idx[0]
	} else {
		decoderModel := false
		bufferDelayLen := 0
		if r.flag() { // timing_info_present_flag
			// timing_info() §5.5.3
			r.skip(64)    // num_units_in_display_tick, time_scale
			if r.flag() { // equal_picture_interval
				av1SkipUVLC(&r) // num_ticks_per_picture_minus_1
			}
			decoderModel = r.flag()
			if decoderModel {
				// decoder_model_info() §5.5.4
				bufferDelayLen = int(r.u(5)) + 1
				r.skip(32 + 5 + 5)
			}
		}
		initialDisplayDelay := r.flag()
		ops := int(r.u(5)) + 1 // operating_points_cnt_minus_1
		for op := 0; op < ops && !r.bad; op++ {
			r.skip(12)      // operating_point_idc
			if r.u(5) > 7 { // seq_level_idx
				r.skip(1) // seq_tier
			}
			if decoderModel && r.flag() { // decoder_model_present_for_this_op
				// operating_parameters_info() §5.5.5
				r.skip(2*bufferDelayLen + 1)
			}
			if initialDisplayDelay && r.flag() {
				r.skip(4) // initial_display_delay_minus_1
			}
		}
	}
	wBits := int(r.u(4)) + 1
	hBits := int(r.u(4)) + 1
	w = int(r.u(wBits)) + 1
	h = int(r.u(hBits)) + 1
	if r.bad {
		return 0, 0
	}
	return w, h
}

// av1SkipUVLC skips a uvlc() value (AV1 spec §4.10.3).
func av1SkipUVLC(r *bitReader) {
	zeros := 0
	for r.bit() == 0 && !r.bad {
		zeros++
	}
	if zeros < 32 { // else the value is 2^32-1 and has no suffix bits
		r.skip(zeros)
	}
}
