// Package dump records the RTP and RTCP the server exchanges with each peer
// as pcapng files that Wireshark and tshark open as they are, and reads such
// files (and other tools' pcap and pcapng) back for `bcast dump info` and
// `bcast replay`.
//
// Why: in real incidents the only evidence of what a streamer actually sent
// — and the only way to recover audio that a recording missed — was a dump
// of the raw RTP. So the dump runs continuously, and it must never cost the
// media path more than a copy: Writer.WriteRTP copies the packet into a
// pooled buffer and does a non-blocking send to a bounded queue; a goroutine
// per writer does the disk work, and a full queue or a failing disk drops
// (and counts) packets rather than waiting.
//
// # Files
//
// Root/<stream>/<prefix><UTC start>-<n>.pcapng, e.g.
// dumps/live/20261121T061500Z-0001.pcapng for the streamer (Leg.Name
// "ingest") and dumps/live/viewer-7-20261121T061500Z-0001.pcapng for a
// viewer. n counts the writer's segments; a name is never reused or
// overwritten. A segment rotates at Options.SegmentBytes or
// Options.SegmentAge, and each one is self-contained (pcapng,
// draft-ietf-opsawg-pcapng):
//
//   - Section Header Block: application "bcast dump", a comment naming
//     stream, leg, addresses and segment number.
//   - Interface Description Block: link type LINKTYPE_RAW (101), if_name =
//     the leg name, if_description = the negotiated SDP (codecs, payload
//     types and extmap IDs for replay; a=ice-pwd redacted), if_tsresol = 9
//     (nanoseconds).
//   - One Enhanced Packet Block per packet: the RTP or RTCP bytes as the
//     server saw them — after SRTP decryption, so the dump holds the
//     media in clear — behind a synthetic IPv4 (or IPv6) and UDP header
//     carrying the leg's 5-tuple: peer → server for FromPeer, server →
//     peer for ToPeer. RTP and RTCP share the 5-tuple as with rtcp-mux
//     (RFC 5761). IPv4 headers carry a valid checksum and UDP checksum 0
//     (none, RFC 768); if either end is IPv6 the header is IPv6, an IPv4
//     end written IPv4-mapped, with the UDP checksum IPv6 requires.
//     Unknown addresses are 192.0.2.1:9 (peer) and 192.0.2.2:9 (server),
//     TEST-NET-1 (RFC 5737).
//   - On rotation or close, an Interface Statistics Block: isb_ifrecv =
//     packets offered, isb_ifdrop = those of them not in any file (see
//     Writer for the exact accounting across write errors).
//
// Wireshark decodes RTCP on its own; for RTP, enable the heuristic:
//
//	tshark -r FILE -o rtp.heuristic_rtp:TRUE -q -z rtp,streams
//
// or Decode As RTP on the UDP port (tshark -d udp.port==PORT,rtp).
//
// Blocks are written through a bufio.Writer flushed at least every
// Options.FlushInterval, without fsync: a crash loses at most that much,
// and leaves a file whose last block may be torn, which Reader (and
// Wireshark) read up to the last complete packet.
//
// # Retention
//
// The Store deletes closed segments, oldest first across all streams, while
// the files under Root exceed Options.RetainBytes, and any closed segment
// older than Options.RetainAge; it runs after every rotation, after a write
// error (freeing space may be what recovers it) and once a minute. Open
// segments are never deleted.
package dump
