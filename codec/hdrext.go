package codec

import "time"

// RTP header extension URIs negotiated with a=extmap (RFC 8285 §5).
const (
	// ExtMid carries the media identification of RFC 8843 §15.
	ExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid"
	// ExtRID carries the RTP stream ID of RFC 8852 §3.1 (simulcast).
	ExtRID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
	// ExtRepairedRID names the stream an RTX/FEC stream repairs
	// (RFC 8852 §3.2).
	ExtRepairedRID = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
	// ExtAbsSendTime is the sender's 6.18 fixed-point send time used by
	// REMB bandwidth estimation.
	ExtAbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
	// ExtTransportCC is the transport-wide sequence number of
	// draft-holmer-rmcat-transport-wide-cc-extensions-01.
	ExtTransportCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	// ExtVideoOrientation is the coordination of video orientation
	// (CVO) byte of 3GPP TS 26.114 §7.4.5.
	ExtVideoOrientation = "urn:3gpp:video-orientation"
	// ExtAudioLevel is the client-to-mixer audio level of RFC 6464.
	ExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
	// ExtPlayoutDelay is the sender's requested min/max playout delay.
	ExtPlayoutDelay = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
	// ExtAbsCaptureTime is the NTP capture time of the media.
	ExtAbsCaptureTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
	// ExtColorSpace describes the color space of the video frame.
	ExtColorSpace = "http://www.webrtc.org/experiments/rtp-hdrext/color-space"
	// ExtVideoContentType flags screen-share versus camera content.
	ExtVideoContentType = "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type"
	// ExtVideoTiming carries encode/packetization timing of a frame.
	ExtVideoTiming = "http://www.webrtc.org/experiments/rtp-hdrext/video-timing"
	// ExtTOffset is the transmission time offset of RFC 5450.
	ExtTOffset = "urn:ietf:params:rtp-hdrext:toffset"
)

// EndToEnd reports whether an extension describes the media itself and
// so may be forwarded by an SFU to a viewer (under the viewer's own ID,
// since extension IDs are negotiated per session, RFC 8285 §5):
// video-orientation, audio-level, playout-delay, abs-capture-time,
// color-space, video-content-type and video-timing.
//
// Per-hop extensions (mid, rid, repaired-rid, abs-send-time,
// transport-cc, toffset) must not be forwarded: they describe one
// transport leg, and an SFU either rewrites them for the outgoing leg or
// drops them. Unknown URIs are reported false, the safe default.
func EndToEnd(uri string) bool {
	switch uri {
	case ExtVideoOrientation, ExtAudioLevel, ExtPlayoutDelay,
		ExtAbsCaptureTime, ExtColorSpace, ExtVideoContentType,
		ExtVideoTiming:
		return true
	default:
		return false
	}
}

// Orientation is a decoded CVO byte.
type Orientation struct {
	// Rotation is the clockwise rotation in degrees (0, 90, 180 or 270)
	// the receiver applies before rendering, compensating the
	// counter-clockwise rotation of the video as sent.
	Rotation int
	// BackCamera is set when the video comes from a back-facing camera.
	BackCamera bool
	// Flip is set when the receiver must flip the video horizontally.
	Flip bool
}

// ParseVideoOrientation decodes a CVO byte (3GPP TS 26.114 §7.4.5):
// rotation in degrees 0/90/180/270, camera (front/back) and horizontal
// flip. The extension element is exactly one byte |0|0|0|0|C|F|R1|R0|;
// the four high bits are reserved and ignored as the spec requires of
// receivers. b is the element data without the RFC 8285 ID/length.
func ParseVideoOrientation(b []byte) (Orientation, error) {
	if len(b) != 1 {
		if len(b) == 0 {
			return Orientation{}, ErrTruncated
		}
		return Orientation{}, ErrMalformed
	}
	v := b[0]
	return Orientation{
		Rotation:   int(v&0x03) * 90,
		BackCamera: v&0x08 != 0,
		Flip:       v&0x04 != 0,
	}, nil
}

// AbsSendTime encodes a time as the 24-bit 6.18 fixed-point abs-send-time
// value (3 bytes), for an SFU that re-stamps it per hop.
//
// The value is bits 14..37 of the 64-bit NTP timestamp (RFC 5905 §6,
// seconds since 1900 in the high 32 bits): 6 bits of seconds and 18 of
// fraction, wrapping every 64 s, big-endian on the wire.
func AbsSendTime(t time.Time) [3]byte {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	v := (secs<<32 | frac) >> 14
	return [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}
}
