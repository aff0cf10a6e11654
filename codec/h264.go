package codec

// H.264 NAL unit types (ITU-T H.264 Table 7-1) and RFC 6184 §5.2 payload
// structure types.
const (
	naluSlice      = 1
	naluSliceDPA   = 2
	naluIDR        = 5
	naluSEI        = 6
	naluSPS        = 7
	naluPPS        = 8
	naluAUD        = 9
	naluPrefix     = 14
	naluSubsetSPS  = 15
	naluReserved18 = 18
	naluSTAPA      = 24
	naluFUA        = 28
)

// inspectH264 handles the payload structures of packetization modes 0
// and 1 (RFC 6184 §5.6 single NAL unit, §5.7.1 STAP-A, §5.8 FU-A), the
// only ones WebRTC uses. The interleaved-mode structures (STAP-B, MTAP16,
// MTAP24, FU-B) and the undefined types 0, 30 and 31 (§5.4: receivers
// ignore them) yield a zero FrameInfo without error.
//
// An H.264 access unit starts with the first of: access unit delimiter,
// SPS, PPS, SEI, NAL types 14–18, or the first VCL NAL unit of the
// primary coded picture (H.264 §7.4.1.2.3). Stateless per-packet
// inspection cannot tell which of these comes first, so each packet that
// begins such a NAL unit reports FrameStart; for slices, only the first
// slice of a picture (first_mb_in_slice == 0) does.
//
// A packet is a key frame when it starts an access unit and holds an
// SPS or an IDR slice (H.264 §3.69: an IDR picture resets decoding, so a
// decoder can start there given the parameter sets).
func inspectH264(p []byte) (FrameInfo, error) {
	if len(p) == 0 {
		return FrameInfo{}, ErrTruncated
	}
	var (
		info FrameInfo
		key  bool
	)
	switch typ := p[0] & 0x1f; {
	case typ >= 1 && typ <= 23:
		var err error
		info, key, err = h264NAL(typ, p[1:])
		if err != nil {
			return FrameInfo{}, err
		}
	case typ == naluSTAPA:
		// §5.7.1: a sequence of 16-bit big-endian NALU size + NAL unit,
		// all of the same timestamp, i.e. one access unit.
		i := 1
		if i >= len(p) {
			return FrameInfo{}, ErrTruncated
		}
		for i < len(p) {
			if len(p)-i < 2 {
				return FrameInfo{}, ErrMalformed
			}
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if size == 0 || size > len(p)-i {
				return FrameInfo{}, ErrMalformed
			}
			nal := p[i : i+size]
			i += size
			n, k, err := h264NAL(nal[0]&0x1f, nal[1:])
			if err != nil {
				return FrameInfo{}, err
			}
			info.FrameStart = info.FrameStart || n.FrameStart
			key = key || k
			if info.Width == 0 {
				info.Width, info.Height = n.Width, n.Height
			}
		}
	case typ == naluFUA:
		// §5.8: FU indicator, FU header |S|E|R|Type|, then a fragment of
		// the NAL unit payload (its header byte is not repeated). Only
		// the start fragment (S=1) shows the slice header. S and E both
		// set is forbidden but harmless, so it is treated as a start.
		if len(p) < 2 {
			return FrameInfo{}, ErrTruncated
		}
		if p[1]&0x80 == 0 {
			return FrameInfo{}, nil
		}
		var err error
		info, key, err = h264NAL(p[1]&0x1f, p[2:])
		if err != nil {
			return FrameInfo{}, err
		}
	default:
		return FrameInfo{}, nil
	}
	info.Keyframe = info.FrameStart && key
	return info, nil
}

// h264NAL classifies one NAL unit (or the start of one) given its type
// and the bytes after its header. key reports an IDR slice or SPS.
func h264NAL(typ byte, body []byte) (info FrameInfo, key bool, err error) {
	switch {
	case typ == naluSlice || typ == naluSliceDPA || typ == naluIDR:
		// slice_header() begins with first_mb_in_slice ue(v)
		// (H.264 §7.3.3); ue(v) codes 0 as a single 1 bit.
		if len(body) == 0 {
			return FrameInfo{}, false, ErrTruncated
		}
		info.FrameStart = body[0]&0x80 != 0
		key = typ == naluIDR
	case typ == naluSPS:
		info.FrameStart = true
		key = true
		info.Width, info.Height = h264SPSSize(body)
	case typ == naluSEI || typ == naluPPS || typ == naluAUD ||
		(typ >= naluPrefix && typ <= naluReserved18):
		info.FrameStart = true
	}
	return info, key, nil
}

// h264SPSSize parses seq_parameter_set_data() (H.264 §7.3.2.1.1) from the
// bytes after the NAL header, emulation-prevention bytes included, and
// returns the cropped picture size (§7.4.2.1.1, equations 7-19 to 7-22
// for frame cropping). It returns zeros when the SPS is truncated or
// holds out-of-range values.
func h264SPSSize(b []byte) (w, h int) {
	r := bitReader{buf: b, epb: true}
	profileIdc := r.u(8)
	r.skip(16) // constraint_set0..5_flag, reserved_zero_2bits, level_idc
	r.ue()     // seq_parameter_set_id

	chromaFormatIdc := uint32(1) // inferred 4:2:0 when absent
	separateColourPlane := false
	switch profileIdc {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chromaFormatIdc = r.ue()
		if chromaFormatIdc > 3 {
			return 0, 0
		}
		if chromaFormatIdc == 3 {
			separateColourPlane = r.flag()
		}
		r.ue()        // bit_depth_luma_minus8
		r.ue()        // bit_depth_chroma_minus8
		r.skip(1)     // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			lists := 8
			if chromaFormatIdc == 3 {
				lists = 12
			}
			for i := 0; i < lists && !r.bad; i++ {
				if r.flag() { // seq_scaling_list_present_flag[i]
					size := 16
					if i >= 6 {
						size = 64
					}
					h264SkipScalingList(&r, size)
				}
			}
		}
	}
	r.ue()          // log2_max_frame_num_minus4
	switch r.ue() { // pic_order_cnt_type
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.skip(1) // delta_pic_order_always_zero_flag
		r.se()    // offset_for_non_ref_pic
		r.se()    // offset_for_top_to_bottom_field
		n := r.ue()
		if n > 255 { // num_ref_frames_in_pic_order_cnt_cycle is 0..255
			return 0, 0
		}
		for i := uint32(0); i < n && !r.bad; i++ {
			r.se() // offset_for_ref_frame[i]
		}
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	widthMbs := int64(r.ue()) + 1
	heightMapUnits := int64(r.ue()) + 1
	frameMbsOnly := r.flag()
	if !frameMbsOnly {
		r.skip(1) // mb_adaptive_frame_field_flag
	}
	r.skip(1) // direct_8x8_inference_flag
	var cropLeft, cropRight, cropTop, cropBottom int64
	if r.flag() { // frame_cropping_flag
		cropLeft = int64(r.ue())
		cropRight = int64(r.ue())
		cropTop = int64(r.ue())
		cropBottom = int64(r.ue())
	}
	if r.bad {
		return 0, 0
	}

	// §7.4.2.1.1: ChromaArrayType is 0 for monochrome or separately
	// coded colour planes, in which case crop units are single samples;
	// otherwise they are chroma samples (SubWidthC x SubHeightC,
	// Table 6-1). Field-coded streams count height in field MB pairs.
	fieldMul := int64(2)
	if frameMbsOnly {
		fieldMul = 1
	}
	cropUnitX, cropUnitY := int64(1), fieldMul
	if !separateColourPlane && chromaFormatIdc != 0 {
		switch chromaFormatIdc {
		case 1: // 4:2:0
			cropUnitX, cropUnitY = 2, 2*fieldMul
		case 2: // 4:2:2
			cropUnitX, cropUnitY = 2, fieldMul
		}
	}
	// Level 6.2 allows at most 139264 macroblocks per frame (Table A-1);
	// anything wider than 1<<14 MBs on a side is garbage, and the bound
	// keeps the arithmetic far from overflow.
	if widthMbs > 1<<14 || heightMapUnits > 1<<14 {
		return 0, 0
	}
	width := widthMbs*16 - cropUnitX*(cropLeft+cropRight)
	height := fieldMul*heightMapUnits*16 - cropUnitY*(cropTop+cropBottom)
	if width <= 0 || height <= 0 {
		return 0, 0
	}
	return int(width), int(height)
}

// h264SkipScalingList consumes scaling_list() (H.264 §7.3.2.1.1.1).
// Only its length matters here, and that depends on the decoded values:
// a next scale of 0 ends the explicit deltas early.
func h264SkipScalingList(r *bitReader, size int) {
	last, next := int64(8), int64(8)
	for j := 0; j < size && !r.bad; j++ {
		if next != 0 {
			delta := r.se()
			next = ((last+delta)%256 + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}
