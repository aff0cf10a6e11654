package codec

import "testing"

// First bytes of VP8 frames produced by libvpx (ffmpeg -c:v libvpx): the
// 3-byte frame tag, then for key frames the start code 9d 01 2a and the
// 14-bit little-endian width and height (RFC 6386 §9.1).
var (
	vp8Key640x480   = hx("b0ba00 9d012a 8002 e001 0007088585888584880202")
	vp8Key1280x720  = hx("907701 9d012a 0005 d002 0007088585888584880203")
	vp8Key1920x1080 = hx("f0d402 9d012a 8007 3804 0087088585888584880203")
	vp8Inter        = hx("b10e00 1311fc00180018582ff414844a")
)

func TestInspectVP8(t *testing.T) {
	key := func(w, h int) FrameInfo { return FrameInfo{FrameStart: true, Keyframe: true, Width: w, Height: h} }
	start := FrameInfo{FrameStart: true}
	runInspect(t, VP8, []inspectCase{
		{"S=1 PID=0 keyframe, no extension",
			cat([]byte{0x10}, vp8Key1280x720), key(1280, 720), nil},
		{"X I 7-bit PictureID keyframe",
			cat(hx("90 80 05"), vp8Key640x480), key(640, 480), nil},
		{"X I(M=1 15-bit) L T K keyframe",
			cat(hx("90 f0 8123 07 e5"), vp8Key1920x1080), key(1920, 1080), nil},
		{"X L only",
			cat(hx("90 40 07"), vp8Key640x480), key(640, 480), nil},
		{"X K only (TID/Y/KEYIDX byte)",
			cat(hx("90 10 05"), vp8Key640x480), key(640, 480), nil},
		{"X with no optional fields",
			cat(hx("90 00"), vp8Key640x480), key(640, 480), nil},
		{"inter frame start, 15-bit PictureID",
			cat(hx("90 80 8555"), vp8Inter), start, nil},
		{"inter frame start, non-reference N=1",
			cat([]byte{0x30}, vp8Inter), start, nil},
		{"continuation S=0",
			cat(hx("80 80 05"), vp8Key640x480[:5]), FrameInfo{}, nil},
		{"start of partition 1 (PID=1) is not a frame start",
			cat([]byte{0x11}, vp8Key640x480), FrameInfo{}, nil},
		{"S=0 PID=0 middle packet",
			cat([]byte{0x00}, vp8Inter), FrameInfo{}, nil},
		{"keyframe with bad start code: no size",
			cat([]byte{0x10}, hx("b0ba00 9d012b 8002 e001")), key(0, 0), nil},
		{"keyframe truncated before size",
			cat([]byte{0x10}, vp8Key640x480[:8]), key(0, 0), nil},
		{"keyframe with zero height: no size",
			cat([]byte{0x10}, hx("b0ba00 9d012a 8002 0000")), key(0, 0), nil},
		{"keyframe with scaling bits set",
			cat([]byte{0x10}, hx("b0ba00 9d012a 80c2 e041")), key(640, 480), nil},

		{"empty", nil, FrameInfo{}, ErrTruncated},
		{"X without extension byte", hx("90"), FrameInfo{}, ErrTruncated},
		{"I without PictureID", hx("90 80"), FrameInfo{}, ErrTruncated},
		{"15-bit PictureID cut", hx("90 80 81"), FrameInfo{}, ErrTruncated},
		{"descriptor only", hx("10"), FrameInfo{}, ErrTruncated},
		{"L T K descriptor only", hx("90 70 01 02"), FrameInfo{}, ErrTruncated},
	})
}
