package codec

import "testing"

// First bytes of VP9 frames produced by libvpx-vp9: the uncompressed
// header (VP9 bitstream spec §6.2) starts with frame_marker, profile,
// show_existing_frame, frame_type, then for key frames the sync code
// 49 83 42, color_config and frame_size.
var (
	vp9KeyP0_1280x720   = hx("82498342004ff02cf60638241c184a18") // 4:2:0 8-bit
	vp9KeyP1_1280x720   = hx("a2498342e04ff02cf60438241c184a18") // 4:4:4 RGB
	vp9KeyP1_1920x1080  = hx("a2498342e077f043761038241c184a18")
	vp9KeyP1_640x480    = hx("a2498342e027f01df60638241c184a10")
	vp9KeyP2_640x360    = hx("924983420013f80b3b061c120e0c2c08") // 10-bit
	vp9Inter            = hx("86004092f0714006001160fa2fc9c23f")
	vp9ShowExistingHdr  = hx("88")
	vp9KeyBadSync       = hx("82498343004ff02cf6")
	vp9KeyTruncatedSize = hx("82498342004ff0")
)

// vp9IntraOnly builds the start of an intra-only frame header (VP9
// bitstream spec §6.2): a hidden non-key frame with intra_only=1, which
// codes its size like a key frame. Profile 3 also sets
// error_resilient_mode so that reset_frame_context is absent.
func vp9IntraOnly(profile uint64, w, h int) []byte {
	bw := &bitWriter{}
	bw.u(2, 2).u(profile&1, 1).u(profile>>1, 1)
	if profile == 3 {
		bw.u(0, 1)
	}
	bw.u(0, 1)            // show_existing_frame
	bw.u(1, 1).u(0, 1)    // frame_type NON_KEY, show_frame 0
	bw.flag(profile == 3) // error_resilient_mode
	bw.u(1, 1)            // intra_only
	if profile != 3 {
		bw.u(0, 2) // reset_frame_context
	}
	bw.u(0x498342, 24)
	if profile > 0 {
		if profile >= 2 {
			bw.u(1, 1)
		}
		bw.u(2, 3).u(0, 1) // color_space BT.709, color_range
		if profile == 1 || profile == 3 {
			bw.u(1, 1).u(0, 1).u(0, 1)
		}
	}
	bw.u(0x01, 8) // refresh_frame_flags
	bw.u(uint64(w-1), 16).u(uint64(h-1), 16)
	return bw.bytes()
}

func TestInspectVP9(t *testing.T) {
	key := func(w, h int) FrameInfo { return FrameInfo{FrameStart: true, Keyframe: true, Width: w, Height: h} }
	start := FrameInfo{FrameStart: true}
	runInspect(t, VP9, []inspectCase{
		{"non-flexible keyframe with SS (1 layer, Y, G)",
			// I=1 P=0 L=1 F=0 B=1 E=1 V=1; PictureID 5; TID0 SID0;
			// TL0PICIDX 0; SS: N_S=0 Y=1 G=1, 1280x720, N_G=1, T0 U0 R0.
			cat(hx("ae 05 00 00 18 0500 02d0 01 00"), vp9KeyP0_1280x720),
			key(1280, 720), nil},
		{"flexible keyframe, 15-bit PictureID, no layer info",
			cat(hx("9c 8001"), vp9KeyP1_1280x720), key(1280, 720), nil},
		{"minimal B E keyframe 1080p",
			cat(hx("0c"), vp9KeyP1_1920x1080), key(1920, 1080), nil},
		{"minimal keyframe 480p",
			cat(hx("0c"), vp9KeyP1_640x480), key(640, 480), nil},
		{"profile 2 (10-bit) keyframe",
			cat(hx("0c"), vp9KeyP2_640x360), key(640, 360), nil},
		{"flexible inter frame with two P_DIFFs",
			// I P F B E; PictureID 2; P_DIFF 1 N=1, P_DIFF 2 N=0.
			cat(hx("dc 02 03 04"), vp9Inter), start, nil},
		{"flexible inter frame with three P_DIFFs and layer",
			cat(hx("fc 02 00 03 05 06"), vp9Inter), start, nil},
		{"non-flexible inter frame TID=1",
			cat(hx("e8 06 20 01"), vp9Inter), start, nil},
		{"middle packet B=0",
			cat(hx("a0 06 00 01"), vp9Inter[4:]), FrameInfo{}, nil},
		{"end packet B=0 E=1",
			cat(hx("a4 06 00 01"), vp9Inter[4:]), FrameInfo{}, nil},
		{"spatial layer 1 P=0 is not a keyframe",
			// I L B; SID=1 D=1
			cat(hx("a8 07 03 00"), vp9Inter), start, nil},
		{"spatial layer 1 keyframe header: size but not keyframe",
			cat(hx("a8 07 02 00"), vp9KeyP0_1280x720),
			FrameInfo{FrameStart: true, Width: 1280, Height: 720}, nil},
		{"SS with two spatial layers gives layer 0 size",
			// L B V; SID0; TL0PICIDX; N_S=1 Y=1 G=0: 640x360, 1280x720;
			// frame header cut so the SS is the only size source.
			cat(hx("2a 00 00 30 0280 0168 0500 02d0"), vp9KeyP0_1280x720[:1]),
			key(640, 360), nil},
		{"SS layer size for SID 1",
			cat(hx("2a 02 00 38 0280 0168 0500 02d0 01 04 01"), vp9Inter),
			FrameInfo{FrameStart: true, Width: 1280, Height: 720}, nil},
		{"SS with zero height gives no size",
			cat(hx("2a 00 00 10 0280 0000"), vp9Inter), start, nil},
		{"SS for a layer it does not describe",
			cat(hx("2a 04 00 10 0280 0168"), vp9Inter), start, nil},
		{"SS with G and R=2 P_DIFFs",
			cat(hx("0e 08 02 08 01 02 24 01"), vp9KeyP1_640x480), key(640, 480), nil},
		{"show_existing_frame has no size",
			cat(hx("4c"), vp9ShowExistingHdr), start, nil},
		{"bad sync code",
			cat(hx("0c"), vp9KeyBadSync), key(0, 0), nil},
		{"truncated frame size",
			cat(hx("0c"), vp9KeyTruncatedSize), key(0, 0), nil},
		{"P=0 but the frame header says inter frame (ffmpeg packetizer)",
			cat(hx("0c"), vp9Inter), start, nil},
		{"P=1 but the frame header says key frame",
			cat(hx("4c"), vp9KeyP0_1280x720), key(1280, 720), nil},
		{"P=0 with unparseable header trusts P",
			cat(hx("0c"), hx("00")), key(0, 0), nil},
		{"intra-only frame, profile 0",
			cat(hx("0c"), vp9IntraOnly(0, 320, 180)), key(320, 180), nil},
		{"intra-only frame, profile 1",
			cat(hx("0c"), vp9IntraOnly(1, 1920, 1080)), key(1920, 1080), nil},
		{"intra-only frame, profile 3 error resilient",
			cat(hx("0c"), vp9IntraOnly(3, 4096, 2160)), key(4096, 2160), nil},
		{"intra-only header cut",
			cat(hx("0c"), vp9IntraOnly(0, 320, 180)[:6]), key(0, 0), nil},
		{"Z bit is ignored",
			cat(hx("0d"), vp9KeyP0_1280x720), key(1280, 720), nil},

		{"empty", nil, FrameInfo{}, ErrTruncated},
		{"I without PictureID", hx("88"), FrameInfo{}, ErrTruncated},
		{"15-bit PictureID cut", hx("88 80"), FrameInfo{}, ErrTruncated},
		{"L without layer byte", hx("28"), FrameInfo{}, ErrTruncated},
		{"non-flexible L without TL0PICIDX", hx("28 00"), FrameInfo{}, ErrTruncated},
		{"flexible P without P_DIFF", hx("58"), FrameInfo{}, ErrTruncated},
		{"P_DIFF N set with nothing after", hx("58 03"), FrameInfo{}, ErrTruncated},
		{"four P_DIFFs", cat(hx("58 03 03 03 02"), vp9Inter), FrameInfo{}, ErrMalformed},
		{"SS without N_S byte", hx("0a"), FrameInfo{}, ErrTruncated},
		{"SS resolutions cut", hx("0a 10 0500 02"), FrameInfo{}, ErrTruncated},
		{"SS without N_G", hx("0a 08"), FrameInfo{}, ErrTruncated},
		{"SS group cut", hx("0a 08 02 00"), FrameInfo{}, ErrTruncated},
		{"SS group P_DIFFs cut", hx("0a 08 01 08 01"), FrameInfo{}, ErrTruncated},
		{"descriptor only", hx("0c"), FrameInfo{}, ErrTruncated},
	})
}
