// Package codec inspects RTP payloads of the codecs a WebRTC broadcast
// server forwards: VP8, VP9, AV1, H.264 and Opus.
//
// Everything here is a pure function over byte slices: no network, no
// pion/webrtc types and no package-level mutable state, so the functions
// are safe to call concurrently from every track's read loop. The
// per-packet entry points ([Inspect], [OpusPacketDuration],
// [ParseVideoOrientation], [AbsSendTime]) do not allocate; an SFU calls
// them for every packet of every stream.
//
// [Inspect] answers the two questions a forwarding server asks about each
// video packet -- does it start a frame, and can a decoder start there --
// using only the RTP payload descriptor and the first bytes of the codec
// bitstream:
//
//   - VP8: RFC 7741 §4.2 payload descriptor, §4.3 payload header,
//     RFC 6386 §9.1 key frame header.
//   - VP9: RFC 9628 (draft-ietf-payload-vp9) §4.2 payload descriptor and
//     §4.2.1 scalability structure, VP9 bitstream spec §6.2 uncompressed
//     header.
//   - AV1: "RTP Payload Format For AV1" v1.0 §4.4 aggregation header,
//     AV1 bitstream spec §5.3 OBU header and §5.5 sequence header.
//   - H.264: RFC 6184 §5.6–§5.8 packetization, ITU-T H.264 §7.3.2.1.1
//     sequence parameter set.
//   - Opus: RFC 6716 §3.1 TOC byte and §3.2 frame packing.
//
// It also holds the H.264 fmtp rules used for codec negotiation
// (RFC 6184 §8.1) and the RTP header-extension URIs with a classifier
// telling which of them an SFU may forward end to end (RFC 8285).
//
// Inspect reports an error only when the RTP payload structure itself is
// truncated or inconsistent. A codec header that cannot be parsed (for
// example an SPS using a feature the parser does not support, or one
// split across fragments) merely leaves Width and Height at zero.
package codec
