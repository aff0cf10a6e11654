package forward

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
)

// TrackInfo describes an ingest track as negotiated with the streamer.
type TrackInfo struct {
	Kind       webrtc.RTPCodecType
	Codec      webrtc.RTPCodecParameters
	Extensions []webrtc.RTPHeaderExtensionParameter // the streamer leg's extmap
}

// KeyframeInterval bounds how often viewers' keyframe requests reach the
// streamer. 300 ms keeps a burst of joins to about three keyframes a
// second, near libwebrtc's own floor between keyframes, while a viewer
// that joins just after a request waits at most that long plus one
// encode: the first frame within 500 ms (a single joining viewer gets its
// PLI sent at once).
const KeyframeInterval = 300 * time.Millisecond

// Track is one ingest track: the packets the streamer sends for one media
// kind, fanned out to every attached DownTrack. Its Write method is called
// from one goroutine (the ingest reader); attaching and detaching viewers may
// happen concurrently from any goroutine.
type Track struct {
	info      TrackInfo
	codec     codec.Codec
	clockRate uint32
	e2eExt    []extRef // forwardable extensions of the streamer leg
	cache     *Cache
	keyframes *KeyframeRequester
	obs       Observer // may be nil

	mu    sync.Mutex                   // serialises changes of downs
	downs atomic.Pointer[[]*DownTrack] // copy-on-write: Write reads it lock-free

	stats   trackStats
	sr      atomic.Pointer[senderReport]
	started time.Time

	// Video packets of one frame are held and then written viewer by
	// viewer (see Batcher). hold is decided at creation; while the
	// sockets stop coalescing, packets pass without being held.
	batch     Batcher
	hold      bool
	holdMu    sync.Mutex // held, heldN; taken by Write and the hold timer
	held      []heldPacket
	heldN     int
	flushes   uint64 // keyframes flushed: DownTrack.served marks (holdMu)
	holdTimer *time.Timer
}

// Batcher holds back the sockets' writes during one fan-out
// (udpbatch.Batcher). When it coalesces (UDP GSO), a video track holds the
// packets of a frame (up to maxHeld, at most maxHold) and writes them to one
// viewer after another, so each viewer's packets leave in one system call
// instead of one each: the send is most of the cost of a forwarded packet.
type Batcher interface {
	Cork()
	Uncork()
	Coalesces() bool
}

// Hold limits. A frame usually arrives in one burst (encoders and pacers
// send a frame's packets back to back), so holding until its last packet
// (RTP marker bit) costs well under a millisecond; maxHold bounds what a
// paced or lossy frame can add to viewers' latency, maxHeld what a
// keyframe can.
const (
	maxHeld = 16
	maxHold = 5 * time.Millisecond
)

// heldPacket is a copy of one ingest packet waiting for the rest of its frame.
type heldPacket struct {
	p    rtp.Packet
	info codec.FrameInfo
	buf  [1500]byte
}

// TrackOption configures a Track.
type TrackOption func(*Track)

// WithBatcher makes the track cork b around its fan-outs.
func WithBatcher(b Batcher) TrackOption {
	return func(t *Track) { t.batch = b }
}

// Observer receives a video track's latencies, the two halves of the
// wait a joining viewer sees before its picture starts.
type Observer interface {
	// KeyframeResponse: a keyframe request went to the streamer, and
	// this long after it the keyframe arrived (the encoder's answer to
	// PLI: one round trip and an encode when it answers at all).
	KeyframeResponse(time.Duration)
	// FirstKeyframe: a viewer attached, and this long after it the
	// keyframe that starts its picture was sent to it.
	FirstKeyframe(time.Duration)
}

// WithObserver reports the track's latencies to o.
func WithObserver(o Observer) TrackOption {
	return func(t *Track) { t.obs = o }
}

// extRef is one header extension negotiated on a leg.
type extRef struct {
	id  uint8
	uri string
}

// senderReport is the streamer's latest NTP↔RTP mapping (RFC 3550 §6.4.1),
// kept so that viewers' sender reports carry the streamer's lip-sync.
type senderReport struct {
	ntp      uint64
	rtpTime  uint32
	received time.Time
}

// NewTrack creates the fan-out for one ingest track. requestKeyframe sends a
// PLI to the streamer; the track coalesces calls to it.
func NewTrack(info TrackInfo, requestKeyframe func(), opts ...TrackOption) *Track {
	t := &Track{
		info:      info,
		codec:     codec.FromMime(info.Codec.MimeType),
		clockRate: info.Codec.ClockRate,
		cache:     NewCache(cacheSize(info.Kind)),
		started:   time.Now(),
	}
	if t.clockRate == 0 {
		t.clockRate = 90000
	}
	if requestKeyframe == nil {
		requestKeyframe = func() {}
	}
	t.keyframes = NewKeyframeRequester(KeyframeInterval, requestKeyframe)
	for _, e := range info.Extensions {
		if codec.EndToEnd(e.URI) && e.ID > 0 && e.ID < 256 {
			t.e2eExt = append(t.e2eExt, extRef{id: uint8(e.ID), uri: e.URI})
		}
	}
	t.downs.Store(&[]*DownTrack{})
	for _, o := range opts {
		o(t)
	}
	if t.batch != nil && info.Kind == webrtc.RTPCodecTypeVideo && t.batch.Coalesces() {
		t.hold = true
		t.held = make([]heldPacket, maxHeld)
		t.holdTimer = time.AfterFunc(time.Hour, func() {
			t.holdMu.Lock()
			defer t.holdMu.Unlock()
			t.flushHeld()
		})
		t.holdTimer.Stop()
	}
	return t
}

// cacheSize holds about two seconds of a 4 Mbps video stream (~400 pkt/s) so
// that a NACK for a packet one RTT of 1 s old is still answered.
func cacheSize(kind webrtc.RTPCodecType) int {
	if kind == webrtc.RTPCodecTypeAudio {
		return 256
	}
	return 1024
}

// Info returns what was negotiated with the streamer.
func (t *Track) Info() TrackInfo { return t.info }

// Codec is the track's codec.
func (t *Track) Codec() codec.Codec { return t.codec }

// Kind is audio or video.
func (t *Track) Kind() webrtc.RTPCodecType { return t.info.Kind }

// RequestKeyframe asks the streamer for a keyframe, coalesced with others.
func (t *Track) RequestKeyframe() { t.keyframes.Request() }

// Write fans one ingest packet out to all viewers. raw is the packet as
// received (header and payload) and is cached for retransmissions; p is its
// parsed form. Neither is retained after Write returns.
func (t *Track) Write(p *rtp.Packet, raw []byte) {
	now := time.Now()
	var info codec.FrameInfo
	if t.info.Kind == webrtc.RTPCodecTypeVideo && len(p.Payload) > 0 {
		info, _ = codec.Inspect(t.codec, p.Payload)
		if info.Keyframe && info.FrameStart {
			if wait, ok := t.keyframes.KeyframeArrived(); ok && t.obs != nil {
				t.obs.KeyframeResponse(wait)
			}
		}
	}
	t.stats.update(p, len(raw), info, now, t.clockRate)
	if len(p.Payload) == 0 {
		// Padding-only packets probe the streamer's own bandwidth (RFC 3550
		// §5.1 P bit); they mean nothing to viewers.
		return
	}
	t.cache.Put(p.SequenceNumber, raw)
	if !t.hold {
		t.fanout(p, info, now)
		return
	}
	t.holdMu.Lock()
	defer t.holdMu.Unlock()
	if !t.batch.Coalesces() {
		// GSO went away (the kernel refused it): holding would only
		// delay packets.
		t.flushHeld()
		t.fanout(p, info, now)
		return
	}
	if t.heldN > 0 && t.held[0].p.Timestamp != p.Timestamp {
		t.flushHeld() // the previous frame's last packet was lost
	}
	h := &t.held[t.heldN]
	if len(raw) > len(h.buf) || h.p.Unmarshal(h.buf[:copy(h.buf[:], raw)]) != nil {
		// Not a datagram we can copy (raw does not hold p): no holding.
		t.flushHeld()
		t.fanout(p, info, now)
		return
	}
	h.info = info
	t.heldN++
	if p.Marker || t.heldN == len(t.held) {
		t.flushHeld()
	} else if t.heldN == 1 {
		t.holdTimer.Reset(maxHold)
	}
}

// fanout writes one packet to every viewer. The sockets are corked
// around it so that the viewers' datagrams leave together, many
// destinations per system call (sendmmsg), instead of one call each.
func (t *Track) fanout(p *rtp.Packet, info codec.FrameInfo, now time.Time) {
	if t.batch != nil {
		t.batch.Cork()
		defer t.batch.Uncork()
	}
	for _, d := range *t.downs.Load() {
		d.write(t, p, info, now)
	}
}

// flushHeld writes the held packets to every viewer, one viewer after
// another; holdMu held.
func (t *Track) flushHeld() {
	if t.heldN == 0 {
		return
	}
	t.holdTimer.Stop()
	held := t.held[:t.heldN]
	now := time.Now()
	downs := *t.downs.Load()
	t.batch.Cork()
	if held[0].info.Keyframe && held[0].info.FrameStart {
		// A keyframe goes first to the viewers waiting for one — those
		// that just joined, whose screens are still black — and then to
		// everyone else: in a big fan-out the last viewer gets the frame
		// tens of milliseconds after the first.
		t.flushes++
		for _, d := range downs {
			if d.waiting.Load() {
				d.served.Store(t.flushes)
				d.writeFrame(t, held, now)
			}
		}
		for _, d := range downs {
			if d.served.Load() != t.flushes {
				d.writeFrame(t, held, now)
			}
		}
	} else {
		for _, d := range downs {
			d.writeFrame(t, held, now)
		}
	}
	t.batch.Uncork()
	t.heldN = 0
}

// HandleSenderReport records the streamer's NTP↔RTP mapping.
func (t *Track) HandleSenderReport(sr *rtcp.SenderReport) {
	t.sr.Store(&senderReport{ntp: sr.NTPTime, rtpTime: sr.RTPTime, received: time.Now()})
}

// attach adds d to the fan-out.
func (t *Track) attach(d *DownTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.downs.Load()
	for _, x := range old {
		if x == d {
			return
		}
	}
	next := make([]*DownTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	t.downs.Store(&next)
}

// detach removes d from the fan-out.
func (t *Track) detach(d *DownTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.downs.Load()
	next := make([]*DownTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	t.downs.Store(&next)
}

// Viewers returns how many down tracks are attached.
func (t *Track) Viewers() int { return len(*t.downs.Load()) }

// Close stops pending keyframe requests and detaches every viewer.
func (t *Track) Close() {
	t.keyframes.Stop()
	if t.hold {
		t.holdMu.Lock()
		t.holdTimer.Stop()
		t.heldN = 0
		t.holdMu.Unlock()
	}
	t.mu.Lock()
	t.downs.Store(&[]*DownTrack{})
	t.mu.Unlock()
}

// Stats is a snapshot of an ingest track's counters.
type Stats struct {
	Packets, Bytes        uint64
	Expected, Lost        int64 // RFC 3550 A.3
	Keyframes             uint64
	Frames                uint64
	Width, Height         int
	LastKeyframe          time.Time
	KeyframeInterval      time.Duration
	LastPacket            time.Time
	KeyframesRequested    uint64 // PLIs asked for by viewers
	KeyframesSentUpstream uint64 // PLIs that reached the streamer
	SSRC                  uint32
	// Jitter is the RFC 3550 §6.4.1 interarrival jitter estimate.
	Jitter time.Duration
}

// Stats returns the track's counters.
func (t *Track) Stats() Stats {
	s := t.stats.snapshot()
	s.KeyframesRequested, s.KeyframesSentUpstream = t.keyframes.Counts()
	return s
}

// trackStats is written by the ingest goroutine and read by status
// snapshots; a mutex keeps it simple and costs ~20 ns uncontended.
type trackStats struct {
	mu         sync.Mutex
	s          Stats
	baseSeq    uint32
	maxSeq     uint16
	cycles     uint32
	received   int64
	seqStarted bool
	start      time.Time
	transit    int64   // arrival minus RTP timestamp of the last packet, in clock units
	jitter     float64 // clock units
}

func (ts *trackStats) update(p *rtp.Packet, n int, info codec.FrameInfo, now time.Time, clockRate uint32) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	s := &ts.s
	s.Packets++
	s.Bytes += uint64(n)
	s.LastPacket = now
	s.SSRC = p.SSRC
	// Sequence tracking after RFC 3550 A.1, simplified: no probation, since
	// the streamer is authenticated and its SSRC known.
	seq := p.SequenceNumber
	switch {
	case !ts.seqStarted:
		ts.seqStarted = true
		ts.baseSeq = uint32(seq)
		ts.maxSeq = seq
	case seq-ts.maxSeq < 1<<15: // newer (wrapping difference)
		if seq < ts.maxSeq {
			ts.cycles += 1 << 16
		}
		ts.maxSeq = seq
	}
	ts.received++
	// Interarrival jitter, RFC 3550 A.8: packets of one frame share a
	// timestamp but leave the encoder together, so this measures network
	// variation (plus the pacer's spread of large frames).
	if ts.received == 1 {
		ts.start = now
	}
	transit := int64(now.Sub(ts.start).Seconds()*float64(clockRate)) - int64(p.Timestamp)
	if ts.received > 1 {
		d := transit - ts.transit
		// Timestamps wrap at 2^32: a difference that large is a wrap or a
		// source switch, not jitter.
		if d < 0 {
			d = -d
		}
		if d < 1<<31 {
			ts.jitter += (float64(d) - ts.jitter) / 16
		}
	}
	ts.transit = transit
	s.Jitter = time.Duration(ts.jitter / float64(clockRate) * float64(time.Second))
	s.Expected = int64(ts.cycles) + int64(ts.maxSeq) - int64(ts.baseSeq) + 1
	s.Lost = s.Expected - ts.received
	if s.Lost < 0 {
		s.Lost = 0 // duplicates
	}
	if info.FrameStart {
		s.Frames++
	}
	if info.Keyframe && info.FrameStart {
		s.Keyframes++
		if !s.LastKeyframe.IsZero() {
			s.KeyframeInterval = now.Sub(s.LastKeyframe)
		}
		s.LastKeyframe = now
	}
	if info.Width > 0 && info.Height > 0 {
		s.Width, s.Height = info.Width, info.Height
	}
}

func (ts *trackStats) snapshot() Stats {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.s
}

// randomStart picks the first sequence number and timestamp a viewer sees;
// RFC 3550 §5.1 asks for random initial values.
func randomStart() (uint16, uint32) {
	return uint16(rand.Uint32()), rand.Uint32()
}

// sameCodec reports whether a viewer's negotiated codec can carry what the
// streamer sends.
func sameCodec(src, dst webrtc.RTPCodecParameters) bool {
	return codec.SameFormat(src.MimeType, src.SDPFmtpLine, dst.MimeType, dst.SDPFmtpLine)
}
