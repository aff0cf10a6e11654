// Package forward is the fan-out at the heart of bcast: it takes the RTP
// packets of one ingest track and delivers them to every viewer with that
// viewer's own SSRC, payload type, sequence numbers, timestamps and RTP
// header-extension IDs.
//
// The rules it follows come from production failures of broadcast SFUs:
//
//   - Per-viewer rewriting (RFC 3550 §8.2, RFC 7667 §3.7 "media-switching
//     mixer"): viewers never see the streamer's SSRC or sequence space, so a
//     streamer reconnect (new SSRC, new random sequence and timestamp) shows up
//     as a continuous stream that resumes at the next keyframe.
//   - Header extensions are never forwarded as they arrive (RFC 8285 §5: IDs are
//     negotiated per session). Media-level extensions are translated to the ID
//     the viewer negotiated, per-hop ones are dropped or regenerated. A raw
//     copy makes a viewer read another extension's bytes as
//     urn:3gpp:video-orientation: the "rotating video" incident.
//   - One packet cache per ingest track answers every viewer's NACK (RFC 4585
//     §6.2.1); viewers' PLIs are coalesced before reaching the streamer so a
//     thousand viewers cannot make the encoder send a thousand keyframes.
//
// The package knows nothing of HTTP or signalling: the server wires pion
// PeerConnections to it.
package forward
