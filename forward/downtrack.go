package forward

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
)

// DownTrack is one viewer's copy of one media kind. It implements
// webrtc.TrackLocal so pion binds it to the viewer's transceiver; packets
// reach it from the attached ingest Track and leave rewritten for this viewer.
type DownTrack struct {
	kind     webrtc.RTPCodecType
	id       string
	streamID string

	mu      sync.Mutex
	bound   bool
	codecs  []webrtc.RTPCodecParameters
	exts    []webrtc.RTPHeaderExtensionParameter
	ssrc    uint32
	writer  webrtc.TrackLocalWriter
	src     *Track
	ready   bool   // bound, source set and codec compatible
	problem string // why a source could not be forwarded (codec mismatch)
	pt      uint8
	extMap  []extMapping
	astID   uint8 // abs-send-time: re-stamped per hop
	clock   uint32
	started bool // a packet was sent: sequence/timestamp continue from last*
	resync  bool // next packet re-computes offsets
	waitKey bool // video: hold until a keyframe starts
	// waiting mirrors waitKey for the fan-out, which serves waiting
	// viewers first; served is the fan-out's mark.
	waiting  atomic.Bool
	served   atomic.Uint64
	waitFrom time.Time // attached (video): the first keyframe's wait starts
	askedKey time.Time

	seqOffset uint16
	tsOffset  uint32
	baseSeq   uint16 // first viewer sequence number of the current source
	lastSeq   uint16
	lastTS    uint32
	lastAt    time.Time

	hdr     rtp.Header // reused for every packet: WriteRTP copies it out
	ast     [3]byte
	nackBuf []byte
	nackPkt rtp.Packet
	tap     atomic.Pointer[Tap]
	tapBuf  []byte // allocated by the first tapped packet: most viewers are never captured

	stats DownStats
}

// extMapping translates one streamer-leg extension ID to the viewer's ID.
type extMapping struct{ in, out uint8 }

// DownStats are a viewer track's counters.
type DownStats struct {
	Packets, Bytes     uint64
	Retransmits        uint64
	WriteErrors        uint64 // packets the transport refused (connection closing, socket error)
	NACKs, NACKMisses  uint64 // sequence numbers asked for / not in cache
	PLIs               uint64
	FractionLost       uint8 // last receiver report (RFC 3550 §6.4.1), /256
	CumulativeLost     uint32
	Jitter             uint32 // in RTP timestamp units
	RTT                time.Duration
	Codec              string
	Problem            string
	LastReceiverReport time.Time
}

// NewDownTrack returns an unbound down track of the given kind.
func NewDownTrack(kind webrtc.RTPCodecType, streamID string) *DownTrack {
	return &DownTrack{kind: kind, id: kind.String(), streamID: streamID}
}

// ID is "video" or "audio".
func (d *DownTrack) ID() string { return d.id }

// RID is empty: viewers receive one layer.
func (d *DownTrack) RID() string { return "" }

// StreamID groups the viewer's audio and video for lip-sync (msid).
func (d *DownTrack) StreamID() string { return d.streamID }

// Kind is audio or video.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.kind }

// SSRC is the viewer-side SSRC, valid once bound.
func (d *DownTrack) SSRC() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ssrc
}

// Bind is called by pion when the viewer's session is negotiated. Any of the
// negotiated codecs may be used for sending (RFC 3264 §5.1); the one that
// matches the streamer is picked when a source is attached.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecs := ctx.CodecParameters()
	if len(codecs) == 0 {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bound = true
	d.codecs = codecs
	d.exts = ctx.HeaderExtensions()
	d.ssrc = uint32(ctx.SSRC())
	d.writer = ctx.WriteStream()
	d.prepare()
	if d.src != nil {
		if c, ok := matchCodec(d.src.info.Codec, codecs); ok {
			return c, nil
		}
	}
	return codecs[0], nil
}

// Unbind stops sending.
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bound, d.ready, d.writer = false, false, nil
	return nil
}

// SetSource attaches the down track to an ingest track (nil detaches). The
// next packet re-bases sequence numbers and timestamps so the viewer sees one
// continuous stream across streamer reconnects; video resumes at a keyframe.
func (d *DownTrack) SetSource(t *Track) {
	d.mu.Lock()
	old := d.src
	d.src = t
	d.prepare()
	d.waitFrom = time.Time{}
	if t != nil && d.waitKey {
		d.waitFrom = time.Now()
	}
	ready := d.ready
	d.mu.Unlock()
	if old != nil && old != t {
		old.detach(d)
	}
	if t == nil {
		return
	}
	t.attach(d)
	if ready && d.kind == webrtc.RTPCodecTypeVideo {
		t.RequestKeyframe()
	}
}

// prepare computes payload type and extension translation; d.mu held.
func (d *DownTrack) prepare() {
	d.ready = false
	d.problem = ""
	d.resync = true
	d.waitKey = d.kind == webrtc.RTPCodecTypeVideo
	d.waiting.Store(d.waitKey)
	if !d.bound || d.src == nil {
		return
	}
	c, ok := matchCodec(d.src.info.Codec, d.codecs)
	if !ok {
		d.problem = IncompatibleError(d.src.info.Codec, d.codecs).Error()
		d.stats.Problem = d.problem
		return
	}
	d.pt = uint8(c.PayloadType)
	d.clock = c.ClockRate
	d.stats.Codec = codec.FromMime(c.MimeType).String()
	d.stats.Problem = ""
	d.extMap = d.extMap[:0]
	d.astID = 0
	for _, e := range d.exts {
		if e.URI == codec.ExtAbsSendTime {
			d.astID = uint8(e.ID)
		}
		for _, in := range d.src.e2eExt {
			if in.uri == e.URI {
				d.extMap = append(d.extMap, extMapping{in: in.id, out: uint8(e.ID)})
			}
		}
	}
	d.ready = true
}

// write forwards one ingest packet; called by the source Track.
func (d *DownTrack) write(src *Track, p *rtp.Packet, info codec.FrameInfo, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writeLocked(src, p, info, now)
}

// writeFrame forwards held packets of one frame back to back.
func (d *DownTrack) writeFrame(src *Track, held []heldPacket, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range held {
		d.writeLocked(src, &held[i].p, held[i].info, now)
	}
}

// writeLocked forwards one packet; d.mu held.
func (d *DownTrack) writeLocked(src *Track, p *rtp.Packet, info codec.FrameInfo, now time.Time) {
	if !d.ready || d.src != src {
		return
	}
	if d.waitKey {
		if !info.Keyframe || !info.FrameStart {
			if now.Sub(d.askedKey) > time.Second {
				d.askedKey = now
				src.RequestKeyframe()
			}
			return
		}
		d.waitKey = false
		d.waiting.Store(false)
		if !d.waitFrom.IsZero() && src.obs != nil {
			src.obs.FirstKeyframe(now.Sub(d.waitFrom))
		}
		d.waitFrom = time.Time{}
	}
	if d.resync {
		d.rebase(p, now)
	}
	seq := p.SequenceNumber + d.seqOffset
	ts := p.Timestamp + d.tsOffset
	if d.send(p, seq, ts, now) == nil {
		d.stats.Packets++
		d.stats.Bytes += uint64(len(p.Payload))
	} else {
		d.stats.WriteErrors++
	}
	if seq-d.lastSeq < 1<<15 {
		d.lastSeq, d.lastTS, d.lastAt = seq, ts, now
	}
}

// rebase chooses offsets so that p continues the viewer's stream; d.mu held.
func (d *DownTrack) rebase(p *rtp.Packet, now time.Time) {
	d.resync = false
	if !d.started {
		d.started = true
		seq, ts := randomStart()
		d.lastSeq, d.lastTS = seq-1, ts
		d.seqOffset = seq - p.SequenceNumber
		d.tsOffset = ts - p.Timestamp
		d.lastAt = now
		d.baseSeq = seq
		return
	}
	gap := uint32(now.Sub(d.lastAt).Seconds() * float64(d.clock))
	if gap == 0 {
		gap = 1
	}
	d.seqOffset = d.lastSeq + 1 - p.SequenceNumber
	d.tsOffset = d.lastTS + gap - p.Timestamp
	d.baseSeq = d.lastSeq + 1
}

// send writes one packet with the viewer's header; d.mu held.
func (d *DownTrack) send(p *rtp.Packet, seq uint16, ts uint32, now time.Time) error {
	h := &d.hdr
	h.Version = 2
	h.Padding = false
	h.PaddingSize = 0
	h.Marker = p.Marker
	h.PayloadType = d.pt
	h.SequenceNumber = seq
	h.Timestamp = ts
	h.SSRC = d.ssrc
	h.CSRC = h.CSRC[:0]
	h.ClearExtensions()
	if len(d.extMap) > 0 || d.astID != 0 {
		profile := uint16(rtp.ExtensionProfileOneByte)
		for _, m := range d.extMap {
			if b := p.GetExtension(m.in); b != nil && (m.out > 14 || len(b) > 16) {
				profile = rtp.ExtensionProfileTwoByte
			}
		}
		if d.astID > 14 {
			profile = rtp.ExtensionProfileTwoByte
		}
		h.Extension, h.ExtensionProfile = true, profile
		for _, m := range d.extMap {
			if b := p.GetExtension(m.in); b != nil {
				_ = h.SetExtension(m.out, b)
			}
		}
		if d.astID != 0 {
			d.ast = codec.AbsSendTime(now)
			_ = h.SetExtension(d.astID, d.ast[:])
		}
		if len(h.Extensions) == 0 {
			h.Extension, h.ExtensionProfile = false, 0
		}
	}
	_, err := d.writer.WriteRTP(h, p.Payload)
	if tap := d.tap.Load(); tap != nil && err == nil {
		if d.tapBuf == nil {
			d.tapBuf = make([]byte, 1600)
		}
		if n, merr := rtp.MarshalPacketTo(d.tapBuf, h, p.Payload); merr == nil {
			(*tap)(now, d.tapBuf[:n])
		}
	}
	return err
}

// Tap receives each packet exactly as sent to the viewer (after rewriting,
// before encryption), for the viewer-leg capture. The slice is only valid
// during the call.
type Tap func(at time.Time, pkt []byte)

// SetTap starts (or, with nil, stops) copying sent packets to tap.
func (d *DownTrack) SetTap(tap Tap) {
	if tap == nil {
		d.tap.Store(nil)
		return
	}
	d.tap.Store(&tap)
}

// HandleRTCP processes the RTCP a viewer sent about this track: NACKs are
// answered from the shared cache, PLI/FIR become coalesced keyframe requests,
// receiver reports update the viewer's quality figures.
func (d *DownTrack) HandleRTCP(pkts []rtcp.Packet, sr *SRClock) {
	for _, pkt := range pkts {
		switch p := pkt.(type) {
		case *rtcp.TransportLayerNack:
			for _, pair := range p.Nacks {
				for _, seq := range pair.PacketList() {
					d.retransmit(seq)
				}
			}
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			d.mu.Lock()
			d.stats.PLIs++
			src := d.src
			d.mu.Unlock()
			if src != nil {
				src.RequestKeyframe()
			}
		case *rtcp.ReceiverReport:
			d.receiverReports(p.Reports, sr)
		case *rtcp.SenderReport:
			d.receiverReports(p.Reports, sr)
		}
	}
}

func (d *DownTrack) receiverReports(reports []rtcp.ReceptionReport, sr *SRClock) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range reports {
		if r.SSRC != d.ssrc {
			continue
		}
		d.stats.FractionLost = r.FractionLost
		d.stats.CumulativeLost = r.TotalLost
		d.stats.Jitter = r.Jitter
		d.stats.LastReceiverReport = time.Now()
		if rtt, ok := sr.RTT(r.LastSenderReport, r.Delay); ok {
			d.stats.RTT = rtt
		}
	}
}

// retransmit re-sends the packet the viewer knows as seq, from the cache.
func (d *DownTrack) retransmit(seq uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats.NACKs++
	notYetSent := seq-d.lastSeq < 1<<15 && seq != d.lastSeq
	beforeBase := d.baseSeq-seq < 1<<15 && seq != d.baseSeq
	if !d.ready || !d.started || d.resync || notYetSent || beforeBase {
		d.stats.NACKMisses++ // not sent yet, or from a previous source
		return
	}
	buf, ok := d.src.cache.Get(seq-d.seqOffset, d.nackBuf)
	d.nackBuf = buf[:0]
	if !ok || d.nackPkt.Unmarshal(buf) != nil {
		d.stats.NACKMisses++
		return
	}
	if d.send(&d.nackPkt, seq, d.nackPkt.Timestamp+d.tsOffset, time.Now()) == nil {
		d.stats.Retransmits++
	}
}

// SenderReport builds this track's RTCP sender report (RFC 3550 §6.4.1), or
// nil when nothing has been sent. The NTP↔RTP mapping follows the streamer's
// own reports when it sent any, so audio and video stay in sync for the
// viewer; otherwise it extrapolates from the last packet sent.
func (d *DownTrack) SenderReport(now time.Time, clock *SRClock) *rtcp.SenderReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready || !d.started || d.clock == 0 {
		return nil
	}
	var rtpTime uint32
	if sr := d.src.sr.Load(); sr != nil && !d.resync {
		elapsed := now.Sub(sr.received).Seconds()
		rtpTime = sr.rtpTime + d.tsOffset + uint32(elapsed*float64(d.clock))
	} else {
		rtpTime = d.lastTS + uint32(now.Sub(d.lastAt).Seconds()*float64(d.clock))
	}
	return &rtcp.SenderReport{
		SSRC:        d.ssrc,
		NTPTime:     clock.Stamp(now),
		RTPTime:     rtpTime,
		PacketCount: uint32(d.stats.Packets),
		OctetCount:  uint32(d.stats.Bytes),
	}
}

// Stats returns the viewer track's counters.
func (d *DownTrack) Stats() DownStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Problem says why the attached source cannot be forwarded, or "".
func (d *DownTrack) Problem() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.problem
}

// matchCodec finds the viewer codec that carries the streamer's codec.
func matchCodec(src webrtc.RTPCodecParameters, viewer []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	for _, c := range viewer {
		if sameCodec(src, c) {
			return c, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
}

// ErrIncompatible is wrapped by errors that say a viewer cannot decode the
// streamer's codec.
var ErrIncompatible = errors.New("incompatible codecs")

// IncompatibleError names what the streamer sends and what the viewer takes.
func IncompatibleError(src webrtc.RTPCodecParameters, viewer []webrtc.RTPCodecParameters) error {
	var names []string
	seen := map[string]bool{}
	for _, c := range viewer {
		n := describeCodec(c)
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	offered := "none"
	if len(names) > 0 {
		offered = strings.Join(names, ", ")
	}
	return fmt.Errorf("%w: stream sends %s, viewer accepts %s", ErrIncompatible, describeCodec(src), offered)
}

func describeCodec(c webrtc.RTPCodecParameters) string {
	name := codec.FromMime(c.MimeType).String()
	if name == "" || codec.FromMime(c.MimeType) == codec.Unknown {
		name = c.MimeType
	}
	if codec.FromMime(c.MimeType) == codec.H264 {
		if p := codec.FmtpValue(c.SDPFmtpLine, "profile-level-id", ""); p != "" {
			name += " " + p
		}
		name += " mode " + codec.FmtpValue(c.SDPFmtpLine, "packetization-mode", "0")
	}
	return name
}

// CheckCodecs reports whether any of the viewer's codecs can carry src.
func CheckCodecs(src webrtc.RTPCodecParameters, viewer []webrtc.RTPCodecParameters) error {
	if _, ok := matchCodec(src, viewer); ok {
		return nil
	}
	return IncompatibleError(src, viewer)
}
