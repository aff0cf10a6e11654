package codec

import "strings"

// Codec identifies a media codec by its RTP mime subtype.
type Codec int

// Codecs known to this package. The zero value is Unknown so that an
// unset Codec never matches a real one.
const (
	Unknown Codec = iota
	VP8
	VP9
	AV1
	H264
	Opus
)

// String returns the RTP encoding name as registered with IANA and as it
// appears in an SDP rtpmap line (RFC 7741 §6.1, RFC 9628 §6, AV1 RTP §7.1,
// RFC 6184 §8.1, RFC 7587 §6.1). Opus is the only lower-case one.
func (c Codec) String() string {
	switch c {
	case VP8:
		return "VP8"
	case VP9:
		return "VP9"
	case AV1:
		return "AV1"
	case H264:
		return "H264"
	case Opus:
		return "opus"
	default:
		return "unknown"
	}
}

// MimeType returns the "type/subtype" form used by WebRTC APIs
// (for example pion's RTPCodecCapability.MimeType), or "" for Unknown.
func (c Codec) MimeType() string {
	switch c {
	case VP8:
		return "video/VP8"
	case VP9:
		return "video/VP9"
	case AV1:
		return "video/AV1"
	case H264:
		return "video/H264"
	case Opus:
		return "audio/opus"
	default:
		return ""
	}
}

// IsVideo reports whether c is a video codec.
func (c Codec) IsVideo() bool {
	switch c {
	case VP8, VP9, AV1, H264:
		return true
	default:
		return false
	}
}

// mediaType is the top-level media type of c's mime type.
func (c Codec) mediaType() string {
	if c.IsVideo() {
		return "video"
	}
	if c == Opus {
		return "audio"
	}
	return ""
}

// FromMime returns the codec named by mime. Media types and encoding
// names are case-insensitive (RFC 6838 §4.2, RFC 4566 §6 rtpmap), so
// "video/VP8", "video/vp8", "VP8" and "audio/opus" are all accepted, as is
// the rtpmap form "encoding/clock-rate[/channels]" ("opus/48000/2").
// A media type that contradicts the codec ("audio/VP8") yields Unknown.
func FromMime(mime string) Codec {
	mime = strings.TrimSpace(mime)
	name := mime
	typ := ""
	if before, after, ok := strings.Cut(mime, "/"); ok {
		if strings.EqualFold(before, "video") || strings.EqualFold(before, "audio") {
			typ, name = before, after
		} else {
			// rtpmap form: the encoding name comes first.
			name = before
		}
	}
	for c := VP8; c <= Opus; c++ {
		if strings.EqualFold(name, c.String()) {
			if typ != "" && !strings.EqualFold(typ, c.mediaType()) {
				return Unknown
			}
			return c
		}
	}
	return Unknown
}

// Error is the type of the errors returned by this package. They are
// constants, so comparing with errors.Is or == works and returning them
// never allocates.
type Error string

func (e Error) Error() string { return string(e) }

const (
	// ErrTruncated means the payload ended before a field its own header
	// announced.
	ErrTruncated Error = "codec: payload truncated"
	// ErrMalformed means the payload's structure is inconsistent, for
	// example aggregation lengths that overrun the packet.
	ErrMalformed Error = "codec: payload malformed"
	// ErrUnknownCodec is returned by Inspect for Unknown or out-of-range
	// codecs.
	ErrUnknownCodec Error = "codec: unknown codec"
)

// FrameInfo is what one RTP payload tells about the frame it belongs to.
type FrameInfo struct {
	// FrameStart is set when this packet carries the first byte of a
	// frame (for layered VP9/AV1: of a layer frame; for H.264: of an
	// access unit, which may be reported on each of its leading
	// parameter-set/SEI packets and on its first slice).
	FrameStart bool
	// Keyframe is set when this packet starts a frame that a decoder
	// can start from without any earlier packet. It implies FrameStart.
	Keyframe bool
	// Width and Height are the coded picture size when this payload
	// carries it (VP8 key frame header, VP9 key or intra-only frame
	// header or scalability structure, AV1 sequence header, H.264 SPS),
	// 0 otherwise.
	Width, Height int
}

// Inspect parses the RTP payload of one packet of codec c. It looks only
// at the payload descriptor and the first bytes of the codec bitstream,
// never allocates and never panics. The error is non-nil only when the
// payload is too short or too inconsistent to parse; see the package
// documentation.
//
// Every Opus packet is a complete, independently decodable frame
// (RFC 7587 §4.2 puts exactly one Opus packet in each RTP packet), so
// Opus reports FrameStart and Keyframe for any non-empty payload.
func Inspect(c Codec, payload []byte) (FrameInfo, error) {
	switch c {
	case VP8:
		return inspectVP8(payload)
	case VP9:
		return inspectVP9(payload)
	case AV1:
		return inspectAV1(payload)
	case H264:
		return inspectH264(payload)
	case Opus:
		if len(payload) == 0 {
			return FrameInfo{}, ErrTruncated
		}
		return FrameInfo{FrameStart: true, Keyframe: true}, nil
	default:
		return FrameInfo{}, ErrUnknownCodec
	}
}
