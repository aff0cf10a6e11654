package replay

import "errors"

// AV1 OBU types (AV1 bitstream specification §6.2.2).
const (
	obuSequenceHeader    = 1
	obuTemporalDelimiter = 2
)

// obus calls fn for each OBU of a temporal unit in the low-overhead
// bitstream format (AV1 spec §5.2: header, optional extension byte,
// obu_size in LEB128 when obu_has_size_field is set). It stops at the first
// OBU it cannot delimit.
func obus(b []byte, fn func(typ byte, obu []byte) bool) {
	for len(b) > 0 {
		h := b[0]
		typ := h >> 3 & 0x0f
		n := 1
		if h&0x04 != 0 { // obu_extension_flag
			n++
		}
		if n > len(b) {
			return
		}
		size := len(b) - n
		if h&0x02 != 0 { // obu_has_size_field
			v, l := leb128(b[n:])
			if l == 0 || v > uint64(len(b)-n-l) {
				return
			}
			n += l
			size = int(v)
		}
		if !fn(typ, b[:n+size]) {
			return
		}
		b = b[n+size:]
	}
}

// leb128 decodes an unsigned LEB128 value (AV1 spec §4.10.5) of at most 8
// bytes; l is 0 when b ends first.
func leb128(b []byte) (v uint64, l int) {
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

func hasTemporalDelimiter(tu []byte) bool {
	return len(tu) > 0 && tu[0]>>3&0x0f == obuTemporalDelimiter
}

// av1Config builds the AV1CodecConfigurationRecord (av1C, AV1 Codec
// ISO Media File Format Binding §2.3) that Matroska's V_AV1 codec mapping
// requires as CodecPrivate, from the sequence header OBU of a key frame's
// temporal unit: marker and version, profile, level and tier of operating
// point 0, bit depth, monochrome and chroma subsampling, and the sequence
// header itself as configOBUs.
func av1Config(tu []byte) ([]byte, error) {
	var seq []byte
	obus(tu, func(typ byte, obu []byte) bool {
		if typ == obuSequenceHeader {
			seq = obu
			return false
		}
		return true
	})
	if seq == nil {
		return nil, errors.New("AV1 key frame without a sequence header")
	}
	hdr := 1
	if seq[0]&0x04 != 0 {
		hdr++
	}
	if seq[0]&0x02 != 0 {
		_, l := leb128(seq[hdr:])
		hdr += l
	}
	sh, err := parseSequenceHeader(seq[hdr:])
	if err != nil {
		return nil, err
	}
	rec := []byte{
		0x81, // marker 1, version 1
		sh.profile<<5 | sh.level,
		sh.tier<<7 | b2u(sh.highBitdepth)<<6 | b2u(sh.twelveBit)<<5 | b2u(sh.mono)<<4 |
			sh.subX<<3 | sh.subY<<2 | sh.chromaPos,
		0, // no initial_presentation_delay
	}
	return append(rec, seq...), nil
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

type sequenceHeader struct {
	profile, level, tier    byte
	highBitdepth, twelveBit bool
	mono                    bool
	subX, subY, chromaPos   byte
}

// parseSequenceHeader reads sequence_header_obu() (AV1 spec §5.5) up to
// and including color_config() (§5.5.2).
func parseSequenceHeader(b []byte) (sequenceHeader, error) {
	r := bits{b: b}
	var sh sequenceHeader
	sh.profile = byte(r.u(3))
	r.u(1) // still_picture
	reduced := r.u(1) == 1
	if reduced {
		sh.level = byte(r.u(5))
	} else {
		decoderModel := false
		bufferDelayLen := 0
		if r.u(1) == 1 { // timing_info_present_flag
			r.u(32)          // num_units_in_display_tick
			r.u(32)          // time_scale
			if r.u(1) == 1 { // equal_picture_interval
				r.uvlc() // num_ticks_per_picture_minus_1
			}
			decoderModel = r.u(1) == 1
			if decoderModel {
				bufferDelayLen = int(r.u(5)) + 1
				r.u(32) // num_units_in_decoding_tick
				r.u(5)  // buffer_removal_time_length_minus_1
				r.u(5)  // frame_presentation_time_length_minus_1
			}
		}
		initialDelay := r.u(1) == 1
		n := int(r.u(5)) + 1 // operating_points_cnt_minus_1
		for i := 0; i < n && !r.bad; i++ {
			r.u(12) // operating_point_idc
			level := byte(r.u(5))
			tier := byte(0)
			if level > 7 {
				tier = byte(r.u(1))
			}
			if i == 0 {
				sh.level, sh.tier = level, tier
			}
			if decoderModel && r.u(1) == 1 {
				r.u(bufferDelayLen) // decoder_buffer_delay
				r.u(bufferDelayLen) // encoder_buffer_delay
				r.u(1)              // low_delay_mode_flag
			}
			if initialDelay && r.u(1) == 1 {
				r.u(4) // initial_display_delay_minus_1
			}
		}
	}
	wBits, hBits := int(r.u(4))+1, int(r.u(4))+1
	r.u(wBits)                   // max_frame_width_minus_1
	r.u(hBits)                   // max_frame_height_minus_1
	if !reduced && r.u(1) == 1 { // frame_id_numbers_present_flag
		r.u(4) // delta_frame_id_length_minus_2
		r.u(3) // additional_frame_id_length_minus_1
	}
	r.u(1) // use_128x128_superblock
	r.u(1) // enable_filter_intra
	r.u(1) // enable_intra_edge_filter
	if !reduced {
		r.u(4) // interintra, masked compound, warped motion, dual filter
		orderHint := r.u(1) == 1
		if orderHint {
			r.u(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		force := uint64(2) // SELECT_SCREEN_CONTENT_TOOLS
		if r.u(1) == 0 {   // seq_choose_screen_content_tools
			force = r.u(1) // seq_force_screen_content_tools
		}
		if force > 0 && r.u(1) == 0 { // seq_choose_integer_mv
			r.u(1) // seq_force_integer_mv
		}
		if orderHint {
			r.u(3) // order_hint_bits_minus_1
		}
	}
	r.u(3) // enable_superres, enable_cdef, enable_restoration
	// color_config()
	sh.highBitdepth = r.u(1) == 1
	bitDepth := 8
	if sh.profile == 2 && sh.highBitdepth {
		sh.twelveBit = r.u(1) == 1
		bitDepth = 10
		if sh.twelveBit {
			bitDepth = 12
		}
	} else if sh.highBitdepth {
		bitDepth = 10
	}
	if sh.profile != 1 {
		sh.mono = r.u(1) == 1
	}
	cp, tc, mc := uint64(2), uint64(2), uint64(2)
	if r.u(1) == 1 { // color_description_present_flag
		cp, tc, mc = r.u(8), r.u(8), r.u(8)
	}
	switch {
	case sh.mono:
		r.u(1) // color_range
		sh.subX, sh.subY = 1, 1
	case cp == 1 && tc == 13 && mc == 0: // BT.709, sRGB, identity: 4:4:4
	default:
		r.u(1) // color_range
		switch sh.profile {
		case 0:
			sh.subX, sh.subY = 1, 1
		case 1:
		default:
			if bitDepth == 12 {
				sh.subX = byte(r.u(1))
				if sh.subX == 1 {
					sh.subY = byte(r.u(1))
				}
			} else {
				sh.subX = 1
			}
		}
		if sh.subX == 1 && sh.subY == 1 {
			sh.chromaPos = byte(r.u(2))
		}
	}
	if r.bad {
		return sequenceHeader{}, errors.New("AV1 sequence header truncated")
	}
	return sh, nil
}

// bits reads big-endian bit fields (AV1 spec §4.10.2 f(n)).
type bits struct {
	b   []byte
	pos int
	bad bool
}

func (r *bits) u(n int) uint64 {
	var v uint64
	for range n {
		if r.pos >= 8*len(r.b) {
			r.bad = true
			return 0
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// uvlc reads a variable-length unsigned value (AV1 spec §4.10.3).
func (r *bits) uvlc() uint64 {
	zeros := 0
	for !r.bad && r.u(1) == 0 {
		zeros++
		if zeros >= 32 {
			return 1<<32 - 1
		}
	}
	return r.u(zeros) + (1 << zeros) - 1
}
