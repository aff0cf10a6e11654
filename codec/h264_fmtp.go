package codec

import (
	"strconv"
	"strings"
)

// fmtpValue returns the value of parameter key in an SDP a=fmtp parameter
// list "k1=v1;k2=v2" (RFC 6184 §8.2.1 uses this syntax). Parameter names
// are case-insensitive (RFC 4855 §3) and whitespace around the
// separators is tolerated, as browsers emit "; " in the wild.
func fmtpValue(fmtp, key string) (string, bool) {
	for fmtp != "" {
		var kv string
		kv, fmtp, _ = strings.Cut(fmtp, ";")
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// H264ProfileLevelID parses the profile-level-id fmtp parameter
// (RFC 6184 §8.1): three hex-encoded bytes profile_idc, profile-iop (the
// constraint_set flags of the SPS, §7.4.2.1.1 of H.264) and level_idc.
// ok is false when the parameter is absent or not six hex digits.
func H264ProfileLevelID(fmtp string) (profileIdc, profileIop, levelIdc byte, ok bool) {
	v, found := fmtpValue(fmtp, "profile-level-id")
	if !found || len(v) != 6 {
		return 0, 0, 0, false
	}
	var b [3]byte
	for i := range b {
		hi, ok1 := unhex(v[2*i])
		lo, ok2 := unhex(v[2*i+1])
		if !ok1 || !ok2 {
			return 0, 0, 0, false
		}
		b[i] = hi<<4 | lo
	}
	return b[0], b[1], b[2], true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// H264PacketizationMode returns the packetization-mode fmtp parameter
// (RFC 6184 §8.1), 0 when absent as that section prescribes, and also 0
// when it is not a number.
func H264PacketizationMode(fmtp string) int {
	v, ok := fmtpValue(fmtp, "packetization-mode")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// h264Profile is an H.264 profile as WebRTC negotiates it.
type h264Profile int

const (
	h264ProfileUnknown h264Profile = iota
	h264ProfileConstrainedBaseline
	h264ProfileBaseline
	h264ProfileMain
	h264ProfileConstrainedHigh
	h264ProfileHigh
	h264ProfilePredictiveHigh444
)

// h264ProfileOf classifies profile_idc and profile-iop the way libwebrtc
// does (api/video_codecs/h264_profile_level_id.cc), which is what browsers
// use to match offers and answers. Constraint flags promote a profile:
// Baseline with constraint_set1 (Main compatible) is Constrained
// Baseline, as is Main with constraint_set0 or Extended with sets 0 and 1
// (H.264 §A.2.1.1); High with constraint_set4 and 5 is Constrained High
// (§A.2.4.2). constraint_set3..5 beyond those are reserved and must be 0
// for a profile to be recognized.
func h264ProfileOf(idc, iop byte) h264Profile {
	const (
		cs0 = 0x80
		cs1 = 0x40
	)
	switch idc {
	case 0x42: // Baseline
		if iop&0x0f != 0 {
			return h264ProfileUnknown
		}
		if iop&cs1 != 0 {
			return h264ProfileConstrainedBaseline
		}
		return h264ProfileBaseline
	case 0x4d: // Main
		if iop&0x0f != 0 {
			return h264ProfileUnknown
		}
		if iop&cs0 != 0 {
			return h264ProfileConstrainedBaseline
		}
		if iop&0x20 == 0 { // pattern 0x0x0000: constraint_set2 clear
			return h264ProfileMain
		}
		return h264ProfileUnknown
	case 0x58: // Extended
		if iop&0x0f != 0 || iop&cs0 == 0 {
			return h264ProfileUnknown
		}
		if iop&cs1 != 0 {
			return h264ProfileConstrainedBaseline
		}
		return h264ProfileBaseline
	case 0x64: // High
		switch iop {
		case 0x00:
			return h264ProfileHigh
		case 0x0c:
			return h264ProfileConstrainedHigh
		}
	case 0xf4: // High 4:4:4 Predictive
		if iop == 0x00 {
			return h264ProfilePredictiveHigh444
		}
	}
	return h264ProfileUnknown
}

// h264FmtpProfile returns the profile an fmtp line describes. A missing
// profile-level-id means Constrained Baseline, as libwebrtc assumes for
// compatibility with old endpoints, although RFC 6184 §8.1 specifies
// Baseline level 1 (42000a); both decode Constrained Baseline streams.
func h264FmtpProfile(fmtp string) h264Profile {
	if _, found := fmtpValue(fmtp, "profile-level-id"); !found {
		return h264ProfileConstrainedBaseline
	}
	idc, iop, _, ok := H264ProfileLevelID(fmtp)
	if !ok {
		return h264ProfileUnknown
	}
	return h264ProfileOf(idc, iop)
}

// H264CompatibleFmtp reports whether a receiver that offered fmtp recv
// can decode a stream described by send: same packetization-mode
// (RFC 6184 §8.2.2: a different mode is a different payload format), and
// same profile (profile_idc + the constraint bits that define
// Constrained Baseline vs Baseline vs Main vs High, as browsers match
// them). Levels are not compared: WebRTC endpoints signal
// level-asymmetry-allowed=1 (RFC 6184 §8.1), and the level only bounds
// resolution and bitrate, which the sender adapts.
func H264CompatibleFmtp(send, recv string) bool {
	if H264PacketizationMode(send) != H264PacketizationMode(recv) {
		return false
	}
	ps := h264FmtpProfile(send)
	return ps != h264ProfileUnknown && ps == h264FmtpProfile(recv)
}
