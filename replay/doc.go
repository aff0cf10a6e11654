// Package replay turns a time range of an RTP capture back into a playable
// file: IVF (VP8, VP9, AV1), H.264 Annex B, Ogg Opus, or WebM with video
// and audio in sync. The capture is bcast's own dump (`bcast dump`), or any
// pcap/pcapng of plain RTP over UDP with a session description given
// separately.
//
// Why: during a real broadcast the only copy of the audio a recording
// missed was the dump of the raw RTP. Whatever a dump holds — loss,
// retransmissions, reordering, a cut at a crash — replay must make the most
// of it without ever writing a frame a decoder would choke on.
//
// # Pipeline
//
// Run reads the captures twice. The first pass (scan) lists the RTP
// streams (by source address and SSRC), maps their payload types with the
// SDP stored in each bcast segment's interface description or with
// Options.SDP, pairs RTX streams with the streams they repair, and keeps
// the first RTCP sender report of each SSRC. Streams are then chosen
// (Options.Stream, the output format) and placed on one timeline: with
// sender reports for all of them through their NTP ↔ RTP mapping (RFC 3550
// §6.4.1), which is lip sync as the sender meant it; otherwise by the
// arrival of their first packets.
//
// The second pass feeds each selected stream through:
//
//   - reorderer: extended sequence numbers (RFC 3550 A.1), a reorder
//     window of 500 packets or 2 s of capture time, duplicates dropped,
//     retransmissions (RFC 4588) put in the place of the packet they
//     repair, holes reported as loss;
//   - assembler: frames are the packets of one RTP timestamp, complete
//     when contiguous from a packet that starts a frame (codec.Inspect)
//     to the one with the marker bit;
//   - track: the range (--from/--to; video starts at a key frame), key
//     frame gating after loss (video resumes at the next key frame, a
//     frame with a hole is never written), depacketizing (pion's
//     VP8/VP9/H264/AV1 depacketizers), and for Opus concealment packets
//     for whatever is missing so the audio stays continuous;
//   - muxer: interleaves the tracks in time order and starts the output
//     timeline at the earliest selected media written;
//   - a writer per format: ivf.go, h264.go, ogg.go, webm.go on ebml.go.
//     Each writes front to back, so a replay killed half-way leaves a
//     file that plays; seekable files get their indexes and sizes
//     patched at the end.
package replay
