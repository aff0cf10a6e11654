package codec

import (
	"fmt"
	"testing"
)

// Sequence parameter sets emitted by x264 (ffmpeg -c:v libx264), NAL
// header byte included, emulation-prevention bytes (00 00 03) intact.
var (
	h264SPS640x480Baseline   = hx("6742c01eda0280f6c044000003000400000300f03c58ba80")
	h264SPS1280x720Baseline  = hx("6742c01fda014016ec0440000003004000000f03c60ca8")
	h264SPS1920x1080Baseline = hx("6742c028da01e0089f970110000003001000000303c0f1832a")
	h264SPS640x480High       = hx("6764001eacd940a03db0110000030001000003003c0f162d96")
	h264SPS1280x720High      = hx("6764001facd9405005bb0110000003001000000303c0f1831960")
	h264SPS1920x1080High     = hx("67640028acd940780227e5c044000003000400000300f03c60c658")
	// High 4:4:4 Predictive (profile_idc 244, chroma_format_idc 3):
	// crop units are single samples.
	h264SPS1920x1080High444 = hx("67f40028919b280f0044fc4e0220000003002000000781e30632c0")
	// High 4:2:2 (profile_idc 122) CIF.
	h264SPS352x288High422 = hx("677a000dbcd9416096c044000003000400000300f03c50a658")
	// Monochrome (chroma_format_idc 0).
	h264SPS1920x1080Gray = hx("67640028f36501e0089f89c05b20000003002000000781e30632c0")
	// Interlaced (frame_mbs_only_flag 0): height in field MB pairs.
	h264SPS1920x1080Interlaced = hx("67640028acd94078044fde0220000003002000000783e2c5b2c0")

	h264PPS         = hx("68ce0fc8")
	h264SEI         = hx("0605ffff50dc45e9")
	h264IDRSlice    = hx("6588843a26280009")   // first_mb_in_slice = 0
	h264IDRSlice2   = hx("65006e22210e898a")   // second slice of the same IDR picture
	h264NonIDRSlice = hx("419a20de427ffe73")   // P slice, first_mb_in_slice = 0
	h264NonIDR2     = hx("41001a20de427ffe73") // P slice, first_mb_in_slice > 0
)

// h264StapSPSPPSIDR is the STAP-A that starts a key frame in libwebrtc
// (RFC 6184 §5.7.1): SPS, PPS and the first IDR slice bytes.
func h264StapSPSPPSIDR() []byte {
	return cat(hx("78"),
		be16(len(h264SPS1280x720Baseline)), h264SPS1280x720Baseline,
		be16(len(h264PPS)), h264PPS,
		be16(len(h264IDRSlice)), h264IDRSlice)
}

func TestH264SPSSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		sps  []byte
		w, h int
	}{
		{"baseline 640x480", h264SPS640x480Baseline, 640, 480},
		{"baseline 1280x720", h264SPS1280x720Baseline, 1280, 720},
		{"baseline 1920x1080 (coded 1088, cropped)", h264SPS1920x1080Baseline, 1920, 1080},
		{"high 640x480", h264SPS640x480High, 640, 480},
		{"high 1280x720", h264SPS1280x720High, 1280, 720},
		{"high 1920x1080 (coded 1088, cropped)", h264SPS1920x1080High, 1920, 1080},
		{"high 4:4:4 1920x1080", h264SPS1920x1080High444, 1920, 1080},
		{"high 4:2:2 352x288", h264SPS352x288High422, 352, 288},
		{"monochrome 1920x1080", h264SPS1920x1080Gray, 1920, 1080},
		{"interlaced 1920x1080", h264SPS1920x1080Interlaced, 1920, 1080},
		{"truncated", h264SPS1920x1080High[:8], 0, 0},
		{"header only", h264SPS1920x1080High[:1], 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h := h264SPSSize(tc.sps[1:])
			if w != tc.w || h != tc.h {
				t.Errorf("h264SPSSize = %dx%d, want %dx%d", w, h, tc.w, tc.h)
			}
		})
	}
}

// spsParams drives buildSPS, covering syntax the x264 samples do not use.
type spsParams struct {
	profile          uint64
	chroma           uint64 // chroma_format_idc, for high profiles
	separatePlanes   bool
	scaling          bool
	pocType          uint64
	widthMbs         uint64
	heightMapUnits   uint64
	frameMbsOnly     bool
	crop             [4]uint64 // left, right, top, bottom
	cropping         bool
	largeRefCycle    bool
	levelAndConstr   uint64
	spsID            uint64
	log2MaxFrameNum4 uint64
}

// buildSPS writes seq_parameter_set_data() per H.264 §7.3.2.1.1 and
// returns it with emulation prevention applied, NAL header excluded.
func buildSPS(p spsParams) []byte {
	w := &bitWriter{}
	w.u(p.profile, 8).u(p.levelAndConstr, 16).ue(p.spsID)
	switch p.profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		w.ue(p.chroma)
		if p.chroma == 3 {
			w.flag(p.separatePlanes)
		}
		w.ue(2).ue(2).u(0, 1) // bit depths 10, transform bypass
		w.flag(p.scaling)
		if p.scaling {
			lists := 8
			if p.chroma == 3 {
				lists = 12
			}
			for i := 0; i < lists; i++ {
				present := i%3 != 2
				w.flag(present)
				if !present {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				if i == 1 {
					// delta -8 makes next scale 0 at once: use the
					// default matrix, list ends after one delta.
					w.se(-8)
					continue
				}
				for j := 0; j < size; j++ {
					w.se(int64(j%5) - 2)
				}
			}
		}
	}
	w.ue(p.log2MaxFrameNum4)
	w.ue(p.pocType)
	switch p.pocType {
	case 0:
		w.ue(4)
	case 1:
		w.u(0, 1).se(-3).se(7)
		n := 3
		if p.largeRefCycle {
			n = 255
		}
		w.ue(uint64(n))
		for i := 0; i < n; i++ {
			w.se(int64(i) - 100)
		}
	}
	w.ue(4).u(0, 1) // max_num_ref_frames, gaps
	w.ue(p.widthMbs - 1).ue(p.heightMapUnits - 1)
	w.flag(p.frameMbsOnly)
	if !p.frameMbsOnly {
		w.u(1, 1)
	}
	w.u(1, 1) // direct_8x8_inference_flag
	w.flag(p.cropping)
	if p.cropping {
		for _, c := range p.crop {
			w.ue(c)
		}
	}
	w.u(0, 1) // vui_parameters_present_flag
	return addEPB(w.rbsp())
}

func TestH264SPSSizeSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    spsParams
		w, h int
	}{
		{"baseline poc type 2, no crop",
			spsParams{profile: 66, pocType: 2, widthMbs: 20, heightMapUnits: 15, frameMbsOnly: true}, 320, 240},
		{"main poc type 1",
			spsParams{profile: 77, pocType: 1, widthMbs: 80, heightMapUnits: 45, frameMbsOnly: true}, 1280, 720},
		{"main poc type 1 with 255 ref frames in cycle",
			spsParams{profile: 77, pocType: 1, largeRefCycle: true, widthMbs: 80, heightMapUnits: 45, frameMbsOnly: true}, 1280, 720},
		{"high with scaling lists and 4:2:0 crop",
			spsParams{profile: 100, chroma: 1, scaling: true, widthMbs: 120, heightMapUnits: 68, frameMbsOnly: true,
				cropping: true, crop: [4]uint64{0, 0, 0, 4}}, 1920, 1080},
		{"high 4:4:4 with 12 scaling lists",
			spsParams{profile: 244, chroma: 3, scaling: true, widthMbs: 40, heightMapUnits: 30, frameMbsOnly: true,
				cropping: true, crop: [4]uint64{1, 2, 3, 4}}, 637, 473},
		{"high 4:4:4 separate colour planes",
			spsParams{profile: 244, chroma: 3, separatePlanes: true, widthMbs: 40, heightMapUnits: 30, frameMbsOnly: true,
				cropping: true, crop: [4]uint64{1, 2, 3, 4}}, 637, 473},
		{"4:2:2 crop units 2x1",
			spsParams{profile: 122, chroma: 2, widthMbs: 40, heightMapUnits: 30, frameMbsOnly: true,
				cropping: true, crop: [4]uint64{1, 1, 1, 1}}, 636, 478},
		{"4:2:0 field coding crop units 2x4",
			spsParams{profile: 100, chroma: 1, widthMbs: 45, heightMapUnits: 18, cropping: true, crop: [4]uint64{0, 0, 0, 2}},
			720, 568},
		{"monochrome field coding",
			spsParams{profile: 100, chroma: 0, widthMbs: 45, heightMapUnits: 18, cropping: true, crop: [4]uint64{1, 0, 0, 1}},
			719, 574},
		{"zeros force emulation prevention",
			spsParams{profile: 0, pocType: 2, widthMbs: 1, heightMapUnits: 1, frameMbsOnly: true}, 16, 16},
		{"crop larger than picture",
			spsParams{profile: 66, pocType: 2, widthMbs: 1, heightMapUnits: 1, frameMbsOnly: true,
				cropping: true, crop: [4]uint64{8, 0, 0, 0}}, 0, 0},
		{"absurd width",
			spsParams{profile: 66, pocType: 2, widthMbs: 1 << 20, heightMapUnits: 1, frameMbsOnly: true}, 0, 0},
		{"chroma_format_idc out of range",
			spsParams{profile: 100, chroma: 4, widthMbs: 20, heightMapUnits: 15, frameMbsOnly: true}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sps := buildSPS(tc.p)
			w, h := h264SPSSize(sps)
			if w != tc.w || h != tc.h {
				t.Errorf("h264SPSSize(% x) = %dx%d, want %dx%d", sps, w, h, tc.w, tc.h)
			}
		})
	}
	if sps := buildSPS(spsParams{profile: 0, pocType: 2, widthMbs: 1, heightMapUnits: 1, frameMbsOnly: true}); !hasEPB(sps) {
		t.Errorf("test SPS % x has no emulation-prevention byte", sps)
	}
}

func hasEPB(b []byte) bool {
	for i := 2; i < len(b); i++ {
		if b[i-2] == 0 && b[i-1] == 0 && b[i] == 3 {
			return true
		}
	}
	return false
}

func TestH264POCCycleTooLong(t *testing.T) {
	w := &bitWriter{}
	w.u(66, 8).u(0, 16).ue(0).ue(0).ue(1).u(0, 1).se(0).se(0).ue(256)
	if w, h := h264SPSSize(w.rbsp()); w != 0 || h != 0 {
		t.Errorf("size = %dx%d, want 0x0", w, h)
	}
}

func TestBitReaderEPB(t *testing.T) {
	// 00 00 03 01 is 00 00 01 in the RBSP; the 03 after it is data
	// because the zero run restarted.
	r := bitReader{buf: hx("00 00 03 00 00 03 03 ff"), epb: true}
	var got []byte
	for {
		b := byte(r.u(8))
		if r.bad {
			break
		}
		got = append(got, b)
	}
	if want := "00 00 00 00 03 ff"; fmt.Sprintf("% x", got) != want {
		t.Errorf("RBSP = % x, want %s", got, want)
	}
}

func TestInspectH264(t *testing.T) {
	key := func(w, h int) FrameInfo { return FrameInfo{FrameStart: true, Keyframe: true, Width: w, Height: h} }
	start := FrameInfo{FrameStart: true}
	stap := func(nals ...[]byte) []byte {
		out := []byte{0x78} // F=0 NRI=3 type 24
		for _, n := range nals {
			out = cat(out, be16(len(n)), n)
		}
		return out
	}
	// fu builds an FU-A (RFC 6184 §5.8) from a NAL unit: indicator keeps
	// F and NRI with type 28, the header holds S, E and the NAL type.
	fu := func(nal []byte, s, e bool, body []byte) []byte {
		hdr := nal[0] & 0x1f
		if s {
			hdr |= 0x80
		}
		if e {
			hdr |= 0x40
		}
		return cat([]byte{nal[0]&0xe0 | 28, hdr}, body)
	}
	runInspect(t, H264, []inspectCase{
		{"single SPS 1280x720", h264SPS1280x720Baseline, key(1280, 720), nil},
		{"single SPS 1920x1080 cropped", h264SPS1920x1080High, key(1920, 1080), nil},
		{"single PPS", h264PPS, start, nil},
		{"single SEI", h264SEI, start, nil},
		{"single AUD", hx("09 f0"), start, nil},
		{"single IDR slice", h264IDRSlice, key(0, 0), nil},
		{"single IDR second slice", h264IDRSlice2, FrameInfo{}, nil},
		{"single non-IDR slice (type 1)", h264NonIDRSlice, start, nil},
		{"single non-IDR second slice", h264NonIDR2, FrameInfo{}, nil},
		{"data partition A first slice", hx("42 9a20"), start, nil},
		{"data partition B", hx("43 9a20"), FrameInfo{}, nil},
		{"end of sequence NAL", hx("0a"), FrameInfo{}, nil},
		{"filler data NAL", hx("0c ffff80"), FrameInfo{}, nil},
		{"SPS extension (13)", hx("0d 80"), FrameInfo{}, nil},
		{"prefix NAL (14)", hx("0e 80"), start, nil},
		{"subset SPS (15)", hx("0f 80"), start, nil},
		{"coded slice extension (20)", hx("14 80"), FrameInfo{}, nil},

		{"STAP-A SPS PPS IDR", h264StapSPSPPSIDR(), key(1280, 720), nil},
		{"STAP-A SPS PPS", stap(h264SPS640x480High, h264PPS), key(640, 480), nil},
		{"STAP-A SEI + P slice", stap(h264SEI, h264NonIDRSlice), start, nil},
		{"STAP-A PPS + IDR", stap(h264PPS, h264IDRSlice), key(0, 0), nil},
		{"STAP-A of later IDR slices", stap(h264IDRSlice2, h264IDRSlice2), FrameInfo{}, nil},
		{"STAP-A two SPS: first size wins", stap(h264SPS640x480High, h264SPS1920x1080High), key(640, 480), nil},

		{"FU-A start IDR", fu(h264IDRSlice, true, false, h264IDRSlice[1:]), key(0, 0), nil},
		{"FU-A middle IDR", fu(h264IDRSlice, false, false, h264IDRSlice[3:]), FrameInfo{}, nil},
		{"FU-A end IDR", fu(h264IDRSlice, false, true, h264IDRSlice[3:]), FrameInfo{}, nil},
		{"FU-A start IDR second slice", fu(h264IDRSlice2, true, false, h264IDRSlice2[1:]), FrameInfo{}, nil},
		{"FU-A start non-IDR", fu(h264NonIDRSlice, true, false, h264NonIDRSlice[1:]), start, nil},
		{"FU-A middle non-IDR", fu(h264NonIDRSlice, false, false, h264NonIDRSlice[2:]), FrameInfo{}, nil},
		{"FU-A end non-IDR", fu(h264NonIDRSlice, false, true, h264NonIDRSlice[2:]), FrameInfo{}, nil},
		{"FU-A start and end both set", fu(h264IDRSlice, true, true, h264IDRSlice[1:]), key(0, 0), nil},
		{"FU-A start of SPS", fu(h264SPS1920x1080Baseline, true, false, h264SPS1920x1080Baseline[1:]), key(1920, 1080), nil},
		{"FU-A start of SPS, cut", fu(h264SPS1920x1080Baseline, true, false, h264SPS1920x1080Baseline[1:6]), key(0, 0), nil},

		{"STAP-B is ignored", hx("19 0001 0004 6588843a"), FrameInfo{}, nil},
		{"MTAP16 is ignored", hx("1a 0001 0004 6588843a"), FrameInfo{}, nil},
		{"MTAP24 is ignored", hx("1b 0001 0004 6588843a"), FrameInfo{}, nil},
		{"FU-B is ignored", hx("1d 85 0001 88843a"), FrameInfo{}, nil},
		{"type 0 is ignored", hx("00 88"), FrameInfo{}, nil},
		{"type 30 is ignored", hx("1e 88"), FrameInfo{}, nil},
		{"type 31 is ignored", hx("1f 88"), FrameInfo{}, nil},

		{"empty", nil, FrameInfo{}, ErrTruncated},
		{"slice NAL header only", hx("65"), FrameInfo{}, ErrTruncated},
		{"STAP-A header only", hx("78"), FrameInfo{}, ErrTruncated},
		{"STAP-A size overruns", hx("78 0005 6588"), FrameInfo{}, ErrMalformed},
		{"STAP-A zero size", hx("78 0000 0002 6788"), FrameInfo{}, ErrMalformed},
		{"STAP-A trailing byte", cat(stap(h264PPS), hx("00")), FrameInfo{}, ErrMalformed},
		{"STAP-A slice header cut", stap(hx("65")), FrameInfo{}, ErrTruncated},
		{"FU-A indicator only", hx("7c"), FrameInfo{}, ErrTruncated},
		{"FU-A start without body", hx("7c 85"), FrameInfo{}, ErrTruncated},
	})
}

func TestH264ProfileLevelID(t *testing.T) {
	for _, tc := range []struct {
		fmtp          string
		idc, iop, lvl byte
		ok            bool
	}{
		{"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", 0x42, 0xe0, 0x1f, true},
		{"profile-level-id=640C34", 0x64, 0x0c, 0x34, true},
		{" Profile-Level-Id = 4d001f ; packetization-mode=0", 0x4d, 0x00, 0x1f, true},
		{"packetization-mode=1", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"profile-level-id=42e01", 0, 0, 0, false},
		{"profile-level-id=42e01f0", 0, 0, 0, false},
		{"profile-level-id=zz001f", 0, 0, 0, false},
		{"profile-level-id", 0, 0, 0, false},
	} {
		idc, iop, lvl, ok := H264ProfileLevelID(tc.fmtp)
		if idc != tc.idc || iop != tc.iop || lvl != tc.lvl || ok != tc.ok {
			t.Errorf("H264ProfileLevelID(%q) = %#x %#x %#x %v, want %#x %#x %#x %v",
				tc.fmtp, idc, iop, lvl, ok, tc.idc, tc.iop, tc.lvl, tc.ok)
		}
	}
}

func TestH264PacketizationMode(t *testing.T) {
	for _, tc := range []struct {
		fmtp string
		want int
	}{
		{"", 0},
		{"profile-level-id=42e01f", 0},
		{"packetization-mode=1", 1},
		{"profile-level-id=42e01f; packetization-mode=1", 1},
		{"PACKETIZATION-MODE=2", 2},
		{"packetization-mode=0;profile-level-id=42e01f", 0},
		{"packetization-mode=x", 0},
	} {
		if got := H264PacketizationMode(tc.fmtp); got != tc.want {
			t.Errorf("H264PacketizationMode(%q) = %d, want %d", tc.fmtp, got, tc.want)
		}
	}
}

func TestH264CompatibleFmtp(t *testing.T) {
	const (
		cb31  = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
		cb31m = "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"
	)
	for _, tc := range []struct {
		name       string
		send, recv string
		want       bool
	}{
		{"identical constrained baseline", cb31, cb31, true},
		{"constrained baseline, other level", cb31, "packetization-mode=1;profile-level-id=42e034", true},
		{"constrained baseline via constraint_set0+1", cb31, "packetization-mode=1;profile-level-id=42c01f", true},
		{"main with constraint_set0 is constrained baseline", cb31, "packetization-mode=1;profile-level-id=4de01f", true},
		{"extended with constraint_set0+1 is constrained baseline", cb31, "packetization-mode=1;profile-level-id=58c01f", true},
		{"packetization-mode differs", cb31, cb31m, false},
		{"packetization-mode absent means 0", cb31m, "profile-level-id=42e01f", true},
		{"constrained baseline vs baseline", cb31, "packetization-mode=1;profile-level-id=42001f", false},
		{"baseline vs baseline", "packetization-mode=1;profile-level-id=42001f", "packetization-mode=1;profile-level-id=42801f", true},
		{"extended with only constraint_set0 is baseline", "packetization-mode=1;profile-level-id=58801f", "packetization-mode=1;profile-level-id=42001f", true},
		{"extended without constraint_set0 is unknown", "packetization-mode=1;profile-level-id=58001f", "packetization-mode=1;profile-level-id=58001f", false},
		{"constrained baseline vs main", cb31, "packetization-mode=1;profile-level-id=4d001f", false},
		{"main vs main with constraint_set1", "packetization-mode=1;profile-level-id=4d001f", "packetization-mode=1;profile-level-id=4d401f", true},
		{"main with constraint_set2 is unknown", "packetization-mode=1;profile-level-id=4d201f", "packetization-mode=1;profile-level-id=4d201f", false},
		{"high vs high", "packetization-mode=1;profile-level-id=64001f", "packetization-mode=1;profile-level-id=640032", true},
		{"high vs constrained high", "packetization-mode=1;profile-level-id=64001f", "packetization-mode=1;profile-level-id=640c1f", false},
		{"constrained high vs constrained high", "packetization-mode=1;profile-level-id=640c1f", "packetization-mode=1;profile-level-id=640c34", true},
		{"high with constraint_set1 is unknown", "packetization-mode=1;profile-level-id=64401f", "packetization-mode=1;profile-level-id=64401f", false},
		{"predictive high 4:4:4", "packetization-mode=1;profile-level-id=f4001f", "packetization-mode=1;profile-level-id=f40033", true},
		{"baseline with reserved constraint bits is unknown", "profile-level-id=42e11f", "profile-level-id=42e11f", false},
		{"missing profile-level-id means constrained baseline", "packetization-mode=1", cb31, true},
		{"both missing", "", "", true},
		{"missing vs high", "", "profile-level-id=64001f", false},
		{"malformed profile-level-id", "profile-level-id=42e0", "profile-level-id=42e0", false},
		{"unknown profile (High 10)", "profile-level-id=6e001f", "profile-level-id=6e001f", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := H264CompatibleFmtp(tc.send, tc.recv); got != tc.want {
				t.Errorf("H264CompatibleFmtp(%q, %q) = %v, want %v", tc.send, tc.recv, got, tc.want)
			}
		})
	}
}

func TestBitReader(t *testing.T) {
	r := bitReader{buf: hx("a5 0f f0 12 34 56 78 9a")}
	for _, step := range []struct {
		n    int
		skip bool
		want uint32
	}{
		{n: 3, want: 0b101},
		{n: 2, skip: true},
		{n: 1, want: 1},
		{n: 6, want: 0b01_0000},
		{n: 12, want: 0xff0},
		{n: 32, want: 0x12345678},
		{n: 4, want: 0x9},
		{n: 4, skip: true},
	} {
		if step.skip {
			r.skip(step.n)
			continue
		}
		if got := r.u(step.n); got != step.want {
			t.Fatalf("u(%d) = %#x, want %#x", step.n, got, step.want)
		}
	}
	if r.bad {
		t.Fatal("reader went bad inside the buffer")
	}
	if got := r.u(1); got != 0 || !r.bad {
		t.Fatalf("read past end = %d, bad=%v; want 0, true", got, r.bad)
	}
	// Exp-Golomb (H.264 Table 9-2): 1 -> 0, 010 -> 1, 011 -> 2,
	// 00100 -> 3; se: 010 -> +1, 011 -> -1.
	r = bitReader{buf: hx("a6 44 c0")} // 1 010 011 00100 010 011
	for _, want := range []uint32{0, 1, 2, 3} {
		if got := r.ue(); got != want {
			t.Fatalf("ue() = %d, want %d", got, want)
		}
	}
	if got := r.se(); got != 1 {
		t.Fatalf("se() = %d, want 1", got)
	}
	if got := r.se(); got != -1 {
		t.Fatalf("se() = %d, want -1", got)
	}
	r = bitReader{buf: hx("00000000 ff")} // 32 leading zeros: too long
	if r.ue(); !r.bad {
		t.Fatal("ue() with 32 leading zeros did not fail")
	}
}
