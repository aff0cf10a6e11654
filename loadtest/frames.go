package loadtest

import (
	"sync/atomic"
	"time"

	"github.com/bcastdev/bcast/codec"
)

// Frame assembly limits. They mirror what a browser's receive pipeline
// tolerates, so that a frame this tracker calls incomplete is one a viewer
// would not have seen either.
const (
	// repairWindow is how long a missing packet may take to arrive, by
	// reordering or as a NACK retransmission, before its frame is given up.
	repairWindow = 300 * time.Millisecond
	// pliInterval spaces keyframe requests while waiting for a keyframe.
	pliInterval = 500 * time.Millisecond
	// freezeGap is the longest pause between rendered frames that is not
	// a freeze. The W3C stats (freezeCount) use a threshold relative to
	// the frame rate; a fixed one keeps runs of different streams comparable.
	freezeGap = 500 * time.Millisecond

	// ringSize is the number of sequence numbers the tracker remembers: a
	// 2-second keyframe at 8 Mbit/s is ~300 packets, and the repair window
	// at that rate adds ~250 more.
	ringSize = 1024
	ringMask = ringSize - 1
)

// counters are one viewer's running totals. The track readers write them;
// the progress line reads them concurrently, hence atomics.
type counters struct {
	packets      atomic.Uint64 // RTP packets, audio and video
	bytes        atomic.Uint64 // RTP bytes including headers
	audioPackets atomic.Uint64

	framesComplete    atomic.Uint64 // all packets from frame start to marker arrived
	framesIncomplete  atomic.Uint64 // given up: a gap not repaired in time, or the start missing
	framesUndecodable atomic.Uint64 // complete, but after a loss and before the next keyframe
	freezes           atomic.Uint64
	longestFreeze     atomic.Int64 // nanoseconds
	longestGap        atomic.Int64 // nanoseconds between two rendered frames, freezes or not

	// Moments in nanoseconds since the run started; 0 until they happen.
	firstPacket   atomic.Int64
	firstKeyframe atomic.Int64
}

// mark stores now (at least 1, so that 0 keeps meaning "never") in m if m
// is still unset.
func mark(m *atomic.Int64, now time.Duration) {
	m.CompareAndSwap(0, max(int64(now), 1))
}

// seqCounter extends 16-bit RTP sequence numbers and keeps what the loss
// estimate of RFC 3550 appendix A.3 needs: the lowest and highest extended
// sequence number and the number of packets received (duplicates included,
// as in the RFC).
type seqCounter struct {
	started   bool
	base, max int64
	received  uint64
}

// push returns the extended sequence number of seq.
func (c *seqCounter) push(seq uint16) int64 {
	c.received++
	if !c.started {
		c.started = true
		c.base, c.max = int64(seq), int64(seq)
		return c.max
	}
	ext := c.max + int64(int16(seq-uint16(c.max)))
	c.max = max(c.max, ext)
	c.base = min(c.base, ext)
	return ext
}

// expected is the number of packets the sender sent between the first and
// the last one seen.
func (c *seqCounter) expected() uint64 {
	if !c.started {
		return 0
	}
	return uint64(c.max - c.base + 1)
}

// lost is expected minus received, or 0 when duplicates outnumber losses.
func (c *seqCounter) lost() uint64 {
	if e := c.expected(); c.received < e {
		return e - c.received
	}
	return 0
}

// Slot flags.
const (
	flagPresent uint8 = 1 << iota
	flagStart
	flagKey
	flagMarker
	flagPadding
)

// slot is one sequence number in the ring. A slot whose ext matches but
// that is not present is a hole, noticed at since.
type slot struct {
	ext   int64
	since time.Duration
	ts    uint32
	flags uint8
}

// packet is what the tracker needs of one RTP packet.
type packet struct {
	ext     int64 // extended sequence number
	ts      uint32
	marker  bool
	padding bool // no payload: fills a sequence number, belongs to no frame
	info    codec.FrameInfo
}

// frameTracker assembles one video track's packets into frames the way a
// browser's jitter buffer does, without keeping the payloads: frames leave
// in sequence order, a frame is complete when every sequence number from
// its first packet through its marker packet has arrived, and a gap that is
// not repaired within repairWindow costs the frame. After such a loss the
// decoder has lost its reference, so the tracker waits for a keyframe, asks
// for one (PLI) and counts the frames until it as undecodable. Freezes are
// pauses between rendered (complete and decodable) frames, which is what a
// person watching sees.
//
// One goroutine (the track's reader) owns a tracker; only the counters are
// shared. The per-packet path does not allocate.
type frameTracker struct {
	stats *counters
	ring  [ringSize]slot

	started bool
	// fresh is set until the first frame is delivered or lost: the first
	// packet may be a reordered middle one, and its frame's start may still
	// come (within repairWindow of firstAt).
	fresh   bool
	firstAt time.Duration
	// next is the first sequence number of the frame being assembled, scan
	// the next one to look at; everything below scan is accounted for, and
	// everything in [next, scan) is present. highest is the highest seen.
	next, scan, highest int64

	inFrame  bool
	frameTS  uint32
	frameKey bool

	// resync is set after a loss: packets are skipped until a frame start
	// that does not belong to the lost frame (timestamp badTS, when known).
	resync   bool
	badTS    uint32
	hasBadTS bool

	waiting   bool // the decoder needs a keyframe
	keyWanted bool // and a loss or an undecodable frame says so: ask for one
	askedPLI  bool
	lastPLI   time.Duration

	rendered   bool
	lastRender time.Duration
}

func newFrameTracker(stats *counters) *frameTracker {
	// A decoder starts empty: until the first keyframe nothing is decodable.
	return &frameTracker{stats: stats, waiting: true}
}

func ringIndex(ext int64) int { return int(uint64(ext) & ringMask) }

// push records one packet that arrived at now and reports whether a PLI
// should be sent.
func (t *frameTracker) push(now time.Duration, p packet) (sendPLI bool) {
	if !t.started {
		t.started, t.fresh, t.firstAt = true, true, now
		t.next, t.scan, t.highest = p.ext, p.ext, p.ext-1
	}
	if p.ext < t.scan {
		if !t.fresh || t.inFrame || t.highest-p.ext >= ringSize {
			return false // already assembled or given up: a late repair or a duplicate
		}
		// Still looking for the first frame's start, and this came from
		// before what we have: wait for the packets in between too.
		for e := p.ext + 1; e < t.scan; e++ {
			if s := &t.ring[ringIndex(e)]; s.ext != e || s.flags&flagPresent == 0 {
				*s = slot{ext: e, since: now}
			}
		}
		t.next, t.scan = p.ext, p.ext
	}
	switch {
	case p.ext-t.highest >= ringSize:
		// A jump no retransmission will fill (NACK windows are smaller):
		// whatever was awaited is gone.
		t.skipTo(p.ext)
	case p.ext-t.scan >= ringSize:
		// The ring would overwrite what is still awaited.
		t.skipTo(p.ext - ringSize + 1)
	}
	s := &t.ring[ringIndex(p.ext)]
	if s.ext == p.ext && s.flags&flagPresent != 0 {
		return false // duplicate
	}
	if p.ext > t.highest {
		for e := max(t.highest+1, p.ext-ringSize+1); e < p.ext; e++ {
			t.ring[ringIndex(e)] = slot{ext: e, since: now}
		}
		t.highest = p.ext
	}
	flags := flagPresent
	switch {
	case p.padding:
		flags |= flagPadding
	case p.info.Keyframe:
		flags |= flagStart | flagKey
	case p.info.FrameStart:
		flags |= flagStart
	}
	if p.marker {
		flags |= flagMarker
	}
	*s = slot{ext: p.ext, ts: p.ts, flags: flags}
	t.advance(now)
	return t.pliDue(now)
}

// advance delivers every frame that can leave in order and gives up the
// gaps that have waited longer than repairWindow.
func (t *frameTracker) advance(now time.Duration) {
	for t.scan <= t.highest {
		s := &t.ring[ringIndex(t.scan)]
		if s.ext != t.scan || s.flags&flagPresent == 0 {
			if s.ext == t.scan && now-s.since < repairWindow {
				return // a hole that a retransmission may still fill
			}
			t.lose(t.frameTS, t.inFrame)
			t.scan++
			t.next = t.scan
			continue
		}
		switch {
		case s.flags&flagPadding != 0:
			t.scan++
			if !t.inFrame {
				t.next = t.scan
			}
		case !t.inFrame:
			if t.resync {
				if s.flags&flagStart == 0 || t.hasBadTS && s.ts == t.badTS {
					// The rest of the lost frame.
					if !t.hasBadTS {
						t.badTS, t.hasBadTS = s.ts, true
					}
					t.scan++
					t.next = t.scan
					continue
				}
				t.resync = false
			} else if s.flags&flagStart == 0 {
				if t.fresh && now-t.firstAt < repairWindow {
					return // the start may be on its way
				}
				// The frame's first packet never came (or came before we
				// joined): no decoder can use the rest.
				t.lose(s.ts, true)
				continue
			}
			t.inFrame, t.frameTS, t.frameKey = true, s.ts, s.flags&flagKey != 0
			t.scan++
			if s.flags&flagMarker != 0 {
				t.deliver(now)
			}
		case s.ts != t.frameTS:
			// A new timestamp before any marker: the sender did not set
			// it, and the frame ended with the previous packet.
			t.deliver(now)
		default:
			t.frameKey = t.frameKey || s.flags&flagKey != 0
			t.scan++
			if s.flags&flagMarker != 0 {
				t.deliver(now)
			}
		}
	}
}

// deliver hands the frame [next, scan) to the "decoder".
func (t *frameTracker) deliver(now time.Duration) {
	t.inFrame, t.fresh = false, false
	t.next = t.scan
	t.stats.framesComplete.Add(1)
	if t.frameKey {
		t.waiting, t.keyWanted = false, false
		mark(&t.stats.firstKeyframe, now)
	}
	if t.waiting {
		t.stats.framesUndecodable.Add(1)
		t.keyWanted = true
		return
	}
	if t.rendered {
		gap := now - t.lastRender
		if gap > freezeGap {
			t.freeze(gap)
		}
		storeMax(&t.stats.longestGap, int64(gap))
	}
	t.rendered, t.lastRender = true, now
}

// storeMax raises v to x.
func storeMax(v *atomic.Int64, x int64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}

// lose gives up the frame at scan (timestamp ts, if known). Gaps inside a
// frame already lost do not count again.
func (t *frameTracker) lose(ts uint32, known bool) {
	t.fresh = false
	if !t.resync {
		t.stats.framesIncomplete.Add(1)
		t.resync = true
		t.badTS, t.hasBadTS = ts, known
	} else if known {
		t.badTS, t.hasBadTS = ts, true
	}
	t.inFrame = false
	t.waiting, t.keyWanted = true, true
}

// skipTo gives up everything below ext.
func (t *frameTracker) skipTo(ext int64) {
	t.lose(t.frameTS, t.inFrame)
	t.next, t.scan = ext, ext
	t.highest = max(t.highest, ext-1)
}

func (t *frameTracker) pliDue(now time.Duration) bool {
	if !t.waiting || !t.keyWanted || t.askedPLI && now-t.lastPLI < pliInterval {
		return false
	}
	t.askedPLI, t.lastPLI = true, now
	return true
}

func (t *frameTracker) freeze(d time.Duration) {
	t.stats.freezes.Add(1)
	storeMax(&t.stats.longestFreeze, int64(d))
}

// finish ends the track at now: a picture that has not changed for longer
// than freezeGap at the end is a freeze too.
func (t *frameTracker) finish(now time.Duration) {
	if !t.rendered {
		return
	}
	if now-t.lastRender > freezeGap {
		t.freeze(now - t.lastRender)
	}
	storeMax(&t.stats.longestGap, int64(now-t.lastRender))
}
