package replay

import (
	"time"

	"github.com/bcastdev/bcast/codec"
)

// packet is one RTP packet of a stream as the reorder buffer and the frame
// assembler see it.
type packet struct {
	seq    uint16
	ts     uint32
	marker bool
	// payload is the codec payload (RTX and RED unwrapped, padding
	// removed). It is empty for a packet that occupies a sequence number
	// but carries no media: padding-only packets (bandwidth probes) and
	// FEC sent in the media stream. Such packets are not losses.
	payload []byte
	arrival time.Time
	rtx     bool // unwrapped from a retransmission (RFC 4588)
	// ext is the extended sequence number (RFC 3550 A.1), set by the
	// reorderer.
	ext uint64
}

// Reorder window defaults: a retransmission answers a NACK within a round
// trip, and a receiver's jitter buffer gives up on a packet after a
// similar time; 2 s and 500 packets (about 2 s of a 3 Mbit/s video) are
// generous for both and keep memory bounded.
const (
	defaultWindowPackets = 500
	defaultWindowDelay   = 2 * time.Second
	ringSize             = 1024 // > 2 × the largest window, a power of two
)

// reorderer puts one stream's packets back in sequence-number order. It
// extends sequence numbers (RFC 3550 A.1) relative to the highest one seen,
// drops duplicates (a retransmission of a packet that arrived, a packet
// captured twice) and releases packets in order; a missing packet is given
// up on once window packets have arrived after it or delay of capture time
// has passed since the first packet behind it arrived, and reported as
// lost to the packet that follows the hole.
type reorderer struct {
	window int
	delay  time.Duration
	out    func(p *packet, lost uint64)

	ring      [ringSize]packet
	full      [ringSize]bool
	seen      [ringSize]uint64 // extended numbers released, to tell duplicates from late packets
	count     int
	started   bool
	released  bool   // next is final: lower numbers are late
	next      uint64 // extended sequence number to release next
	highest   uint64
	newest    time.Time // latest arrival seen (of any stream, see advance)
	holeSince time.Time // when the hole at next was first waited on
	lost      uint64    // lost packets not yet reported

	duplicates, late, lostTotal, gaps uint64
}

func newReorderer(window int, delay time.Duration, out func(p *packet, lost uint64)) *reorderer {
	if window <= 0 || window > ringSize/2 {
		window = defaultWindowPackets
	}
	if delay <= 0 {
		delay = defaultWindowDelay
	}
	return &reorderer{window: window, delay: delay, out: out}
}

// extend returns the extended sequence number of seq: the one closest to
// the highest seen (RFC 3550 A.1). The first packet starts at 2^32 so that
// packets from before it stay positive.
func (r *reorderer) extend(seq uint16) uint64 {
	if !r.started {
		return 1<<32 | uint64(seq)
	}
	d := int64(int16(seq - uint16(r.highest)))
	return uint64(int64(r.highest) + d)
}

// push adds a packet (the reorderer copies nothing: p.payload must stay
// valid until released).
func (r *reorderer) push(p packet) {
	ext := r.extend(p.seq)
	p.ext = ext
	if !r.started {
		r.started, r.next, r.highest = true, ext, ext
	}
	if ext < r.next {
		if r.released || r.next-ext >= uint64(r.window) {
			// Released already (a duplicate) or given up on (late).
			if i := ext % ringSize; r.next-ext < ringSize && r.seen[i] == ext {
				r.duplicates++
			} else {
				r.late++
			}
			return
		}
		// Nothing released yet: the stream starts earlier than its
		// first packet said.
		r.next = ext
	}
	for ext-r.next >= uint64(r.window) {
		r.skip(ext)
	}
	i := ext % ringSize
	if r.full[i] {
		r.duplicates++
		return
	}
	r.ring[i], r.full[i] = p, true
	r.count++
	if ext > r.highest {
		r.highest = ext
	}
	if p.arrival.After(r.newest) {
		r.newest = p.arrival
	}
	r.release()
}

// advance tells the reorderer that the capture has reached now, so that a
// stream that falls silent after a hole still releases what it holds.
func (r *reorderer) advance(now time.Time) {
	if now.After(r.newest) {
		r.newest = now
		r.release()
	}
}

// flush releases everything, reporting the holes as lost.
func (r *reorderer) flush() {
	for r.count > 0 {
		r.skip(r.highest + 1)
	}
}

func (r *reorderer) release() {
	for r.count > 0 {
		if r.full[r.next%ringSize] {
			r.emit()
			continue
		}
		if r.holeSince.IsZero() {
			r.holeSince = r.newest
		}
		if r.highest-r.next < uint64(r.window) && r.newest.Sub(r.holeSince) < r.delay {
			return
		}
		r.skip(r.highest + 1)
	}
}

// skip releases the packet at next, or gives up on the hole at next: up to
// the lowest buffered packet, or when nothing is buffered, far enough for
// ext to fit the window.
func (r *reorderer) skip(ext uint64) {
	if r.full[r.next%ringSize] {
		r.emit()
		return
	}
	to := ext - uint64(r.window) + 1
	if r.count > 0 {
		to = r.next + 1
		for !r.full[to%ringSize] {
			to++
		}
	}
	r.lost += to - r.next
	r.lostTotal += to - r.next
	r.gaps++
	r.next = to
	r.holeSince = time.Time{}
}

func (r *reorderer) emit() {
	i := r.next % ringSize
	p := r.ring[i]
	r.ring[i], r.full[i] = packet{}, false
	r.seen[i] = p.ext
	r.count--
	r.next++
	r.released = true
	r.holeSince = time.Time{}
	lost := r.lost
	r.lost = 0
	r.out(&p, lost)
}

// frame is one video frame (all packets of one RTP timestamp, RFC 7741
// §4.1, RFC 6184 §5.1, AV1 RTP §4.1) or one audio packet.
type frame struct {
	ts                uint32
	firstExt, lastExt uint64
	arrival           time.Time // of its first packet
	// payloads are the media payloads in sequence order; nil unless
	// complete.
	payloads [][]byte
	// complete: the packets are contiguous from a frame-start packet
	// (codec.Inspect) to the one with the marker bit. Only complete
	// frames are ever depacketized.
	complete bool
	keyframe bool
	// width and height come from a packet that carries them (key frame
	// headers, sequence headers, SPS), 0 otherwise.
	width, height int
	// afterLoss: packets were lost since the previous frame, so this
	// frame may reference a picture the decoder never got.
	afterLoss bool
}

// assembler groups in-order packets into frames. For audio (Opus, RFC 7587
// §4.2: one Opus packet per RTP packet) every packet is a frame.
type assembler struct {
	codec  codec.Codec
	out    func(*frame)
	cur    *frame
	start  bool // cur's first packet starts a frame
	broken bool // packets of cur were lost
	loss   bool // packets were lost since the last frame began
}

func newAssembler(c codec.Codec, out func(*frame)) *assembler {
	return &assembler{codec: c, out: out}
}

// push takes the next packet in sequence order; lost is the number of
// packets missing right before it.
func (a *assembler) push(p *packet, lost uint64) {
	if lost > 0 {
		a.loss = true
		if a.cur != nil {
			a.broken = true
		}
	}
	if len(p.payload) == 0 {
		return // padding or FEC: present, so not a hole, but no media
	}
	if !a.codec.IsVideo() {
		a.out(&frame{
			ts: p.ts, firstExt: p.ext, lastExt: p.ext, arrival: p.arrival,
			payloads: [][]byte{p.payload}, complete: true, keyframe: true, afterLoss: a.loss,
		})
		a.loss = false
		return
	}
	if a.cur != nil && p.ts != a.cur.ts {
		a.finish(false) // a new timestamp before the marker: the tail is missing
	}
	info, err := codec.Inspect(a.codec, p.payload)
	if a.cur == nil {
		a.cur = &frame{ts: p.ts, firstExt: p.ext, arrival: p.arrival, afterLoss: a.loss}
		a.start = err == nil && info.FrameStart
		a.broken = false
		a.loss = false
	}
	f := a.cur
	f.lastExt = p.ext
	f.payloads = append(f.payloads, p.payload)
	if err == nil {
		f.keyframe = f.keyframe || info.Keyframe
		if f.width == 0 && info.Width > 0 && info.Height > 0 {
			f.width, f.height = info.Width, info.Height
		}
	}
	if p.marker {
		a.finish(true)
	}
}

// flush ends the frame in progress: without its marker it is incomplete.
func (a *assembler) flush() {
	if a.cur != nil {
		a.finish(false)
	}
}

func (a *assembler) finish(marker bool) {
	f := a.cur
	a.cur = nil
	f.complete = marker && a.start && !a.broken
	if !f.complete {
		f.payloads = nil
	}
	a.out(f)
}
