package codec

import "testing"

// OBUs from libaom (ffmpeg -c:v libaom-av1 -usage realtime) and SVT-AV1,
// with obu_has_size_field cleared as the AV1 RTP spec §4.3 recommends
// (the element length replaces it). The sequence header payloads are
// verbatim; frame OBUs are cut after their first bytes.
var (
	// OBU header 0x08: type 1 (sequence header), no extension, no size.
	av1SeqHdr1280x720 = hx("08 0000002d4cffb3cdaf9004")
	av1SeqHdr640x480  = hx("08 00000024c4ffdf3efe4010")
	// Same as emitted in a low-overhead bitstream: 0x0a has the size
	// field, 0x0b = 11 bytes.
	av1SeqHdr1280x720Sized = hx("0a 0b 0000002d4cffb3cdaf9004")
	// OBU header 0x30: type 6 (frame), no size field.
	av1KeyFrameOBU   = hx("30 b14f100085a0041041081450c1b4")
	av1InterFrameOBU = hx("30 ab0130038080fdf8069000165965")
)

// av1KeyframePacket is the first packet of a coded video sequence as
// libwebrtc sends it: N=1, W=2, the sequence header with a length, then
// the key frame OBU (or its first fragment) without one.
func av1KeyframePacket() []byte {
	return cat(hx("68"), []byte{byte(len(av1SeqHdr1280x720))}, av1SeqHdr1280x720, av1KeyFrameOBU)
}

func TestInspectAV1(t *testing.T) {
	key := func(w, h int) FrameInfo { return FrameInfo{FrameStart: true, Keyframe: true, Width: w, Height: h} }
	start := FrameInfo{FrameStart: true}
	runInspect(t, AV1, []inspectCase{
		{"N=1 W=2 Y=1: sequence header + key frame fragment",
			av1KeyframePacket(), key(1280, 720), nil},
		{"N=1 W=0: every element length-prefixed",
			cat(hx("08"), []byte{12}, av1SeqHdr1280x720, []byte{byte(len(av1KeyFrameOBU))}, av1KeyFrameOBU),
			key(1280, 720), nil},
		{"SVT-AV1 sequence header 640x480",
			cat(hx("28"), []byte{12}, av1SeqHdr640x480, av1KeyFrameOBU), key(640, 480), nil},
		{"sequence header with obu_has_size_field, W=1",
			cat(hx("18"), av1SeqHdr1280x720Sized), key(1280, 720), nil},
		{"sequence header size field shorter than element",
			cat(hx("18"), av1SeqHdr1280x720Sized, hx("ffff")), key(1280, 720), nil},
		{"sequence header without N is still a keyframe",
			cat(hx("20"), []byte{12}, av1SeqHdr1280x720, av1KeyFrameOBU), key(1280, 720), nil},
		{"N=1 without sequence header in this packet",
			cat(hx("18"), av1KeyFrameOBU), key(0, 0), nil},
		{"sequence header after a temporal delimiter",
			cat(hx("30 01 10 0c"), av1SeqHdr1280x720, av1KeyFrameOBU), key(1280, 720), nil},
		{"inter frame W=1",
			cat(hx("10"), av1InterFrameOBU), start, nil},
		{"inter frame start, continues in next packet (Y=1)",
			cat(hx("50"), av1InterFrameOBU), start, nil},
		{"frame header OBU first",
			cat(hx("10"), hx("18 10ab")), start, nil},
		{"metadata OBU first",
			cat(hx("20 03 28 0102"), av1InterFrameOBU), start, nil},
		{"frame OBU with extension header (spatial layer 1)",
			cat(hx("10"), hx("34 08 ab0130")), start, nil},
		{"continuation Z=1",
			cat(hx("90"), av1InterFrameOBU[1:]), FrameInfo{}, nil},
		{"middle fragment Z=1 Y=1",
			cat(hx("d0"), av1InterFrameOBU[1:]), FrameInfo{}, nil},
		{"Z=1 then a new frame OBU: packet does not start a frame",
			cat(hx("a0 03 aabbcc"), av1InterFrameOBU), FrameInfo{}, nil},
		{"Z=1 then a sequence header: not a keyframe start",
			cat(hx("a0 03 aabbcc"), av1SeqHdr1280x720), FrameInfo{Width: 1280, Height: 720}, nil},
		{"tile group OBU first is not a frame start",
			cat(hx("10"), hx("20 0102")), FrameInfo{}, nil},
		{"padding OBU first",
			cat(hx("10"), hx("78 00")), FrameInfo{}, nil},
		{"truncated sequence header gives no size",
			cat(hx("18"), av1SeqHdr1280x720[:6]), key(0, 0), nil},
		{"two-byte LEB128 element length",
			cat(hx("00 8001"), make([]byte, 128)), FrameInfo{}, nil},

		{"empty", nil, FrameInfo{}, ErrTruncated},
		{"aggregation header only", hx("18"), FrameInfo{}, ErrTruncated},
		{"element length overruns packet", hx("00 05 30aa"), FrameInfo{}, ErrMalformed},
		{"unterminated LEB128", hx("00 80"), FrameInfo{}, ErrMalformed},
		{"LEB128 over 8 bytes", hx("00 8080808080808080 00"), FrameInfo{}, ErrMalformed},
		{"LEB128 over 2^32-1", hx("00 8080808010"), FrameInfo{}, ErrMalformed},
		{"zero-length element", hx("00 00 30"), FrameInfo{}, ErrMalformed},
		{"fewer elements than W", hx("30 02 30aa"), FrameInfo{}, ErrMalformed},
	})
}

// TestAV1SequenceHeaderSize covers the optional sequence header fields
// real-time encoders leave out, with synthetic headers (AV1 spec §5.5).
func TestAV1SequenceHeaderSize(t *testing.T) {
	type opts struct {
		reduced, timing, equalInterval, decoderModel, displayDelay bool
		ops, level                                                 int
	}
	build := func(o opts, w, h int) []byte {
		bw := &bitWriter{}
		bw.u(0x08, 8)      // OBU header: sequence header
		bw.u(0, 3).u(0, 1) // seq_profile, still_picture
		bw.flag(o.reduced) // reduced_still_picture_header
		if o.reduced {
			bw.u(uint64(o.level), 5)
		} else {
			bw.flag(o.timing)
			if o.timing {
				bw.u(1001, 32).u(30000, 32)
				bw.flag(o.equalInterval)
				if o.equalInterval {
					bw.u(0, 4).u(1, 1).u(5, 4) // uvlc: 4 zeros, 1, 4-bit value
				}
				bw.flag(o.decoderModel)
				if o.decoderModel {
					bw.u(9, 5).u(90000, 32).u(7, 5).u(4, 5) // buffer_delay_length 10
				}
			}
			bw.flag(o.displayDelay)
			bw.u(uint64(o.ops-1), 5)
			for i := 0; i < o.ops; i++ {
				bw.u(0x101, 12).u(uint64(o.level), 5)
				if o.level > 7 {
					bw.u(1, 1)
				}
				if o.decoderModel {
					bw.u(1, 1).u(0x155, 10).u(0x2aa, 10).u(1, 1)
				}
				if o.displayDelay {
					bw.u(1, 1).u(9, 4)
				}
			}
		}
		bw.u(15, 4).u(15, 4) // 16-bit width and height fields
		bw.u(uint64(w-1), 16).u(uint64(h-1), 16)
		bw.u(0xff, 8) // later fields, not parsed
		return bw.bytes()
	}
	for _, tc := range []struct {
		name string
		o    opts
	}{
		{"reduced still picture", opts{reduced: true, level: 5}},
		{"plain", opts{ops: 1, level: 8}},
		{"timing info", opts{timing: true, ops: 1, level: 5}},
		{"equal picture interval", opts{timing: true, equalInterval: true, ops: 2, level: 9}},
		{"decoder model", opts{timing: true, decoderModel: true, ops: 3, level: 12}},
		{"everything", opts{timing: true, equalInterval: true, decoderModel: true, displayDelay: true, ops: 32, level: 13}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obu := build(tc.o, 3840, 2160)
			w, h := av1SequenceHeaderSize(obu)
			if w != 3840 || h != 2160 {
				t.Errorf("size = %dx%d, want 3840x2160", w, h)
			}
			if w, h := av1SequenceHeaderSize(obu[:len(obu)-6]); w != 0 || h != 0 {
				t.Errorf("truncated: size = %dx%d, want 0x0", w, h)
			}
		})
	}
}

func TestAV1SkipUVLC(t *testing.T) {
	// 32 leading zeros mean 2^32-1 with no value bits (AV1 spec §4.10.3).
	bw := &bitWriter{}
	bw.u(0, 32).u(1, 1).u(0x5, 3)
	r := bitReader{buf: bw.bytes()}
	av1SkipUVLC(&r)
	if got := r.u(3); got != 5 || r.bad {
		t.Errorf("after uvlc read %d (bad=%v), want 5", got, r.bad)
	}
}
