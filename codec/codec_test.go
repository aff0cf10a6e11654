package codec

import (
	"errors"
	"testing"
)

func TestFromMime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Codec
	}{
		{"video/VP8", VP8},
		{"video/vp8", VP8},
		{"VP8", VP8},
		{"vp8", VP8},
		{"video/VP9", VP9},
		{"Video/Vp9", VP9},
		{"video/AV1", AV1},
		{"av1", AV1},
		{"video/H264", H264},
		{"h264", H264},
		{"audio/opus", Opus},
		{"AUDIO/OPUS", Opus},
		{"opus", Opus},
		{" video/VP8 ", VP8},
		{"VP8/90000", VP8},     // rtpmap form
		{"opus/48000/2", Opus}, // rtpmap form with channels
		{"audio/VP8", Unknown}, // media type contradicts codec
		{"video/opus", Unknown},
		{"video/H265", Unknown},
		{"video/rtx", Unknown},
		{"video/", Unknown},
		{"", Unknown},
		{"unknown", Unknown},
	} {
		if got := FromMime(tc.in); got != tc.want {
			t.Errorf("FromMime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCodecNames(t *testing.T) {
	for _, tc := range []struct {
		c       Codec
		str     string
		mime    string
		isVideo bool
	}{
		{Unknown, "unknown", "", false},
		{VP8, "VP8", "video/VP8", true},
		{VP9, "VP9", "video/VP9", true},
		{AV1, "AV1", "video/AV1", true},
		{H264, "H264", "video/H264", true},
		{Opus, "opus", "audio/opus", false},
		{Codec(42), "unknown", "", false},
	} {
		if got := tc.c.String(); got != tc.str {
			t.Errorf("%d.String() = %q, want %q", int(tc.c), got, tc.str)
		}
		if got := tc.c.MimeType(); got != tc.mime {
			t.Errorf("%v.MimeType() = %q, want %q", tc.c, got, tc.mime)
		}
		if got := tc.c.IsVideo(); got != tc.isVideo {
			t.Errorf("%v.IsVideo() = %v, want %v", tc.c, got, tc.isVideo)
		}
		if tc.mime != "" && FromMime(tc.mime) != tc.c {
			t.Errorf("FromMime(%v.MimeType()) = %v", tc.c, FromMime(tc.mime))
		}
	}
}

// inspectCase is one row of the per-codec Inspect tables.
type inspectCase struct {
	name    string
	payload []byte
	want    FrameInfo
	err     error
}

func runInspect(t *testing.T, c Codec, cases []inspectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Inspect(c, tc.payload)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Inspect(%v, % x) error = %v, want %v", c, tc.payload, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("Inspect(%v, % x) = %+v, want %+v", c, tc.payload, got, tc.want)
			}
		})
	}
}

func TestInspectOpus(t *testing.T) {
	runInspect(t, Opus, []inspectCase{
		{"empty", nil, FrameInfo{}, ErrTruncated},
		{"toc only (DTX)", []byte{0xf8}, FrameInfo{FrameStart: true, Keyframe: true}, nil},
		{"20ms FB", hx("fc ff fe"), FrameInfo{FrameStart: true, Keyframe: true}, nil},
	})
}

func TestInspectUnknownCodec(t *testing.T) {
	for _, c := range []Codec{Unknown, Codec(-1), Codec(99)} {
		if _, err := Inspect(c, []byte{0x10, 0x00}); !errors.Is(err, ErrUnknownCodec) {
			t.Errorf("Inspect(%d) error = %v, want ErrUnknownCodec", int(c), err)
		}
	}
}

// TestInspectAllocs guards the per-packet contract: Inspect runs for every
// packet of every stream and must not allocate, errors included.
func TestInspectAllocs(t *testing.T) {
	for _, bc := range benchCases() {
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = Inspect(bc.codec, bc.payload)
		})
		if allocs != 0 {
			t.Errorf("Inspect %s: %v allocs per run, want 0", bc.name, allocs)
		}
	}
	for _, p := range [][]byte{nil, {0x80}, {0x7c}, hx("18 0005 67")} {
		for c := VP8; c <= Opus; c++ {
			if allocs := testing.AllocsPerRun(100, func() { _, _ = Inspect(c, p) }); allocs != 0 {
				t.Errorf("Inspect(%v, % x): %v allocs per run, want 0", c, p, allocs)
			}
		}
	}
}

func TestErrorConstants(t *testing.T) {
	var err error = ErrTruncated
	if !errors.Is(err, ErrTruncated) || errors.Is(err, ErrMalformed) {
		t.Fatal("errors.Is does not distinguish the constant errors")
	}
	if ErrTruncated.Error() != "codec: payload truncated" {
		t.Errorf("ErrTruncated.Error() = %q", ErrTruncated.Error())
	}
}
