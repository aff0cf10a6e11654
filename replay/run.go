package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/dump"
)

// run is the second pass: it feeds the selected streams' packets through
// reorderer → assembler → track (range, key frames, concealment) → muxer →
// sink.
type run struct {
	c        *capture
	from, to time.Time
	log      *slog.Logger
	tracks   []*track
	byKey    map[streamKey]*track // media and RTX streams
	mux      *muxer
	now      time.Time // latest arrival read
}

func newRun(c *capture, sk sink, from, to time.Time, log *slog.Logger) *run {
	return &run{c: c, from: from, to: to, log: log, byKey: map[streamKey]*track{}, mux: &muxer{sink: sk}}
}

func (r *run) addTrack(s *stream, clock *syncClock) {
	t := &track{
		s: s, codec: s.codec(), video: s.kind() == "video", clock: clock,
		from: r.from, to: r.to, mux: r.mux, idx: len(r.tracks), log: r.log,
		needKey: true, expected: s.packets,
		sum: &StreamSummary{SSRC: s.key.ssrc, PayloadType: s.pt, Codec: s.codec().String(), Kind: s.kind()},
	}
	t.asm = newAssembler(t.codec, t.onFrame)
	t.reorder = newReorderer(defaultWindowPackets, defaultWindowDelay, func(p *packet, lost uint64) {
		if p.rtx {
			t.sum.Repaired++
		}
		if t.codec == codec.H264 {
			t.params.observe(p.payload)
		}
		t.asm.push(p, lost)
	})
	r.byKey[s.key] = t
	for _, x := range s.rtx {
		r.byKey[x.key] = t
		t.expected += x.packets
	}
	r.tracks = append(r.tracks, t)
	r.mux.tracks = append(r.mux.tracks, t)
	r.mux.queues = append(r.mux.queues, nil)
}

func (r *run) run(ctx context.Context) error {
	// Only the files that hold a selected stream are read again.
	need := map[int]bool{}
	for key := range r.byKey {
		for _, i := range r.c.byKey[key].files {
			need[i] = true
		}
	}
	cache := map[string]map[uint8]payloadType{}
	var h rtp.Header
	for i, path := range r.c.files {
		if !need[i] || r.done() {
			continue
		}
		_, err := readFile(ctx, path, r.c.override, cache, func(p dump.Packet, t ptTable, _ string) bool {
			r.packet(p, t, &h)
			return r.mux.err == nil && !r.done()
		})
		if err != nil {
			return err
		}
		if r.mux.err != nil {
			return r.mux.err
		}
	}
	for _, t := range r.tracks {
		t.finish()
	}
	r.mux.drain(true)
	for _, t := range r.tracks {
		t.sum.Duplicates, t.sum.Late = t.reorder.duplicates, t.reorder.late
		t.sum.Lost, t.sum.Gaps = t.reorder.lostTotal, t.reorder.gaps
	}
	return r.mux.err
}

// done reports whether every track is past --to or finished.
func (r *run) done() bool {
	for _, t := range r.tracks {
		if !t.ended {
			return false
		}
	}
	return true
}

// packet routes one captured datagram.
func (r *run) packet(p dump.Packet, tab ptTable, h *rtp.Header) {
	if !p.Time.IsZero() && p.Time.After(r.now) {
		r.now = p.Time
	}
	if p.RTCP {
		return
	}
	payload, ok := parseRTP(p.Payload, h)
	if !ok {
		return
	}
	key := streamKey{p.Src, h.SSRC}
	t := r.byKey[key]
	if t == nil || t.ended {
		r.advance()
		return
	}
	t.seen++
	arrival := p.Time
	if arrival.IsZero() {
		arrival = r.now // a Simple Packet Block has no timestamp
	}
	pkt := packet{seq: h.SequenceNumber, ts: h.Timestamp, marker: h.Marker, arrival: arrival}
	pt := h.PayloadType
	if key != t.s.key {
		// RFC 4588 §4: an RTX payload is the original sequence number
		// followed by the original payload; header fields other than
		// SSRC, sequence number and payload type are the original's.
		// One without a payload is padding for bandwidth probing and
		// holds no place in the original's sequence.
		if len(payload) <= 2 {
			t.maybeFinish()
			r.advance()
			return
		}
		pkt.seq = binary.BigEndian.Uint16(payload)
		pkt.rtx = true
		payload = payload[2:]
		pt = uint8(r.c.byKey[key].typ.APT)
	} else {
		t.sum.Packets++
	}
	pkt.payload = t.media(tab, pt, payload)
	t.reorder.push(pkt)
	t.maybeFinish()
	r.advance()
}

// advance lets every track's reorderer see the capture clock move on.
func (r *run) advance() {
	for _, t := range r.tracks {
		if !t.ended {
			t.reorder.advance(r.now)
		}
	}
}

// track is one selected stream on its way to the output.
type track struct {
	s        *stream
	codec    codec.Codec
	video    bool
	clock    *syncClock
	from, to time.Time
	reorder  *reorderer
	asm      *assembler
	mux      *muxer
	idx      int
	log      *slog.Logger
	sum      *StreamSummary

	seen, expected uint64 // packets of the stream and its RTX streams
	ended          bool   // nothing more will come
	progress       time.Time
	end            time.Duration // output time where the track ends

	// video
	started  bool // a key frame at or after --from has been written
	needKey  bool // the next frame written must be a key frame
	lossWait bool // … because of a loss
	params   paramSets

	// audio
	audioStarted bool
	startAt      time.Time
	nextExt      int64 // RTP time where the next packet is expected
	written      int64 // samples written, concealment included
	debt         int64 // samples of gaps not yet concealed (under a frame)
	lastTOC      byte
	lastArrival  time.Time
}

// media returns the codec payload of a packet of payload type pt, or nil
// for a packet that holds a sequence number but no media of the track's
// codec (FEC, another codec, an RFC 2198 block of something else).
func (t *track) media(tab ptTable, pt uint8, payload []byte) []byte {
	typ, ok := tab.lookup(pt)
	if !ok {
		return nil
	}
	switch typ.role() {
	case roleMedia:
		if typ.Codec != t.codec {
			return nil
		}
	case roleRED:
		inner, data, ok := redPrimary(payload)
		if !ok {
			return nil
		}
		if it, ok := tab.lookup(inner); !ok || it.Codec != t.codec {
			return nil
		}
		payload = data
	default:
		return nil
	}
	if len(payload) == 0 {
		return nil
	}
	return bytes.Clone(payload) // the reader reuses its buffer
}

// maybeFinish ends the track once all its packets have been read.
func (t *track) maybeFinish() {
	if t.seen >= t.expected {
		t.finish()
	}
}

func (t *track) finish() {
	if t.ended {
		return
	}
	t.reorder.flush()
	t.asm.flush()
	t.ended = true
	t.progress = farFuture
	t.mux.drain(false)
}

// onFrame takes the assembler's frames in order.
func (t *track) onFrame(f *frame) {
	if t.ended {
		return
	}
	ext := t.clock.extend(f.ts)
	at := t.clock.at(ext)
	if !at.Before(t.to) {
		// Past --to: nothing more of this track.
		t.progress = farFuture
		t.ended = true
		t.mux.drain(false)
		return
	}
	if t.video {
		t.videoFrame(f, at)
	} else {
		t.audioFrame(f, ext, at)
	}
	if at.After(t.progress) {
		t.progress = at
	}
	t.mux.drain(false)
}

// videoFrame writes a complete frame that the decoder can decode: the
// first one is a key frame at or after --from, and after any loss (an
// incomplete frame, or packets missing between frames) the next one is a
// key frame again. A frame is never written with a hole in it.
func (t *track) videoFrame(f *frame, at time.Time) {
	counted := t.started
	if !f.complete {
		if counted {
			t.sum.FramesDropped++
		}
		t.needKey, t.lossWait = true, true
		return
	}
	if f.afterLoss {
		t.needKey, t.lossWait = true, true
	}
	if !t.started && (at.Before(t.from) || !f.keyframe) {
		return
	}
	if t.needKey && !f.keyframe {
		if counted && t.lossWait {
			t.sum.FramesSkipped++
		}
		return
	}
	data, err := depacketize(t.codec, f.payloads)
	if err != nil {
		t.log.Debug("undecodable frame", "ssrc", t.s.key.ssrc, "ts", f.ts, "error", err)
		if counted {
			t.sum.FramesDropped++
		}
		t.needKey, t.lossWait = true, true
		return
	}
	if t.codec == codec.H264 && t.needKey {
		data = t.params.complete(data)
	}
	t.needKey, t.lossWait, t.started = false, false, true
	t.mux.push(t.idx, &item{video: true, at: at, data: data, key: f.keyframe, width: f.width, height: f.height})
}

// maxTimestampJump is how far an audio timestamp may run ahead of the
// capture clock before it is taken for a discontinuity (a restarted
// encoder keeping its SSRC) rather than for missing packets.
const maxTimestampJump = 5 * time.Second

// audioFrame writes an Opus packet and conceals what is missing before it,
// so that the audio stays continuous and in sync: the gap between the
// RTP time where this packet was expected and its own timestamp (lost
// packets, or DTX silence, RFC 7587 §3.1.3) is filled with packets of the
// same configuration and frame size whose frame is empty. RFC 6716
// §3.2.1: a frame of length 0 means the frame is lost or DTX, and a decoder
// conceals it (libopus runs packet loss concealment, which fades out);
// RFC 7845 §4.1 repairs gaps in real-time streams the same way.
func (t *track) audioFrame(f *frame, ext int64, at time.Time) {
	if at.Before(t.from) {
		return
	}
	payload := f.payloads[0]
	dur, err := codec.OpusPacketDuration(payload)
	if err != nil || dur <= 0 {
		t.sum.FramesDropped++
		return
	}
	samples := int64(dur) * t.clock.rate / int64(time.Second)
	if !t.audioStarted {
		t.audioStarted = true
		t.startAt, t.nextExt = at, ext
	} else {
		gap := ext - t.nextExt
		if gap+samples <= 0 {
			t.sum.FramesDropped++ // all of it before what was written: a stale timestamp
			return
		}
		if seen := f.arrival.Sub(t.lastArrival); gap > 0 && t.clock.duration(gap) > seen+maxTimestampJump {
			gap = max(0, int64(seen)*t.clock.rate/int64(time.Second))
		}
		t.conceal(gap)
	}
	t.push(payload, dur, samples)
	t.nextExt, t.lastTOC, t.lastArrival = ext+samples, payload[0], f.arrival
	t.sum.FramesWritten++ // counted here: concealment packets are not frames
}

// conceal writes whole concealment packets for gap samples plus what
// earlier gaps left under one frame.
func (t *track) conceal(gap int64) {
	t.debt += gap
	toc := t.lastTOC &^ 0x03 // same config and stereo flag, code 0: one frame
	fd, err := codec.OpusPacketDuration([]byte{toc})
	if err != nil || fd <= 0 {
		return
	}
	fs := int64(fd) * t.clock.rate / int64(time.Second)
	if t.debt < fs {
		return
	}
	n := t.debt / fs
	t.debt -= n * fs
	t.sum.FillGaps++
	t.sum.Filled += time.Duration(n) * fd
	for range n {
		t.push([]byte{toc}, fd, fs)
	}
}

func (t *track) push(data []byte, dur time.Duration, samples int64) {
	at := t.startAt.Add(t.clock.duration(t.written))
	t.written += samples
	t.mux.push(t.idx, &item{at: at, data: data, key: true, dur: dur})
}

// maxQueued bounds the frames the muxer holds while it waits for a
// stream that has fallen silent; past it, it writes what it has.
const maxQueued = 256 << 20

// muxer interleaves the tracks' frames in time order. A frame is written
// once every other track has either a later frame queued, or has processed
// a frame at least as late (its progress), or has ended: each track
// produces frames in timestamp order, so nothing earlier can follow. The
// output timeline starts at the first frame written.
type muxer struct {
	sink    sink
	tracks  []*track
	queues  [][]*item
	bytes   int
	t0      time.Time
	started bool
	err     error
}

func (m *muxer) push(i int, it *item) {
	m.queues[i] = append(m.queues[i], it)
	m.bytes += len(it.data)
}

func (m *muxer) drain(all bool) {
	for m.err == nil {
		best := -1
		for i, q := range m.queues {
			if len(q) > 0 && (best < 0 || q[0].at.Before(m.queues[best][0].at)) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		head := m.queues[best][0]
		if !all && m.bytes <= maxQueued {
			for k, t := range m.tracks {
				if k != best && len(m.queues[k]) == 0 && t.progress.Before(head.at) {
					return
				}
			}
		}
		m.queues[best][0] = nil
		m.queues[best] = m.queues[best][1:]
		m.bytes -= len(head.data)
		if !m.started {
			m.t0, m.started = head.at, true
		}
		pts := max(head.at.Sub(m.t0), 0)
		if m.err = m.sink.write(pts, head); m.err != nil {
			return
		}
		t := m.tracks[best]
		end := pts + head.dur
		if head.video {
			t.sum.FramesWritten++
			if t.sum.FramesWritten > 1 {
				end += pts - t.sum.Last // a video frame lasts until the next
			}
		}
		if t.sum.FirstAt.IsZero() {
			t.sum.First, t.sum.FirstAt = pts, head.at
		}
		t.sum.Last, t.sum.LastAt = pts, head.at
		t.end = max(t.end, end)
	}
}
