package codec

import "strings"

// SameFormat reports whether a receiver that negotiated (mimeB, fmtpB)
// can decode what a sender describes as (mimeA, fmtpA): same media
// subtype, and the fmtp parameters that change the bitstream agree —
// packetization mode and profile for H.264 (RFC 6184 §8.2.2), profile-id
// for VP9 and profile for AV1. Other parameters (levels, FEC, ptime) only
// describe preferences.
func SameFormat(mimeA, fmtpA, mimeB, fmtpB string) bool {
	if !strings.EqualFold(mimeA, mimeB) {
		return false
	}
	switch FromMime(mimeA) {
	case H264:
		return H264CompatibleFmtp(fmtpA, fmtpB)
	case VP9:
		return FmtpValue(fmtpA, "profile-id", "0") == FmtpValue(fmtpB, "profile-id", "0")
	case AV1:
		return FmtpValue(fmtpA, "profile", "0") == FmtpValue(fmtpB, "profile", "0")
	}
	return true
}

// FmtpValue returns key's value in an a=fmtp parameter list, or def when
// it is absent.
func FmtpValue(fmtp, key, def string) string {
	if v, ok := fmtpValue(fmtp, key); ok {
		return v
	}
	return def
}
