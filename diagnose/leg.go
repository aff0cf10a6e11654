package diagnose

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/inspect"
)

// Thresholds for the anomaly classes. They describe what a viewer notices,
// not protocol violations: a second without a packet is a visible freeze.
const (
	freezeGap        = time.Second
	maxKeyframeGap   = 10 * time.Second
	timestampJumpTol = 2 * time.Second
)

// streamState accumulates one RTP stream (SSRC) of one leg.
type streamState struct {
	ssrc      uint32
	pt        uint8
	kind      string
	codec     codec.Codec
	clock     uint32
	first     time.Time
	last      time.Time
	packets   int
	started   bool
	maxSeq    uint16
	cycles    int64
	base      int64
	received  map[int64]int // extended seq -> times seen
	lastTS    uint32
	lastArr   time.Time
	lastKey   time.Time
	keyframes int
	maxKeyGap time.Duration
	keyGapAt  time.Time
	freezes   []span
	tsJumps   []string
	rotations map[int]time.Time // CVO rotation -> first seen
	badExt    map[uint8]int
	repaired  int         // packets recovered from RTX
	bytes     map[int]int // payload bytes per second since the leg's start
	keys      map[int]int // keyframes per second since the leg's start
}

type span struct{ from, to time.Time }

// leg is what one capture (a set of files) contains.
type leg struct {
	name    string
	start   time.Time
	streams map[uint32]*streamState
	order   []uint32
	badPT   map[uint8]int
	badPTAt time.Time
	ssrcs   map[string][]uint32     // kind -> SSRCs in order of appearance
	descs   map[string]*description // parsed once per distinct SDP
}

// description is what the analysis needs from one SDP.
type description struct {
	pts map[uint8]inspect.PayloadType
	apt map[uint8]uint8 // RTX payload type -> the payload type it repairs (RFC 4588 apt=)
	ext map[uint8]string
	cvo uint8
}

func (l *leg) describe(desc string) *description {
	if d := l.descs[desc]; d != nil {
		return d
	}
	if l.descs == nil {
		l.descs = map[string]*description{}
	}
	d := &description{pts: inspect.PayloadTypes(desc), apt: map[uint8]uint8{}}
	for pt, p := range d.pts {
		if strings.EqualFold(p.Name, "rtx") {
			for _, kv := range strings.Split(inspect.Fmtp(desc, pt), ";") {
				if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "apt" {
					if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 128 {
						d.apt[pt] = uint8(n)
					}
				}
			}
		}
	}
	d.ext, d.cvo = extmap(desc)
	l.descs[desc] = d
	return d
}

// extmap returns the header extension IDs of an SDP and the ID of
// video-orientation (0 when not negotiated).
func extmap(desc string) (ids map[uint8]string, cvo uint8) {
	ids = map[uint8]string{}
	var d sdp.SessionDescription
	if d.UnmarshalString(desc) != nil {
		return ids, 0
	}
	for _, m := range d.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key != "extmap" {
				continue
			}
			idStr, uri, ok := strings.Cut(a.Value, " ")
			idStr, _, _ = strings.Cut(idStr, "/")
			id, err := strconv.Atoi(idStr)
			if !ok || err != nil || id <= 0 || id > 255 {
				continue
			}
			fields := strings.Fields(uri)
			if len(fields) == 0 {
				continue
			}
			uri = fields[0]
			ids[uint8(id)] = uri
			if uri == codec.ExtVideoOrientation {
				cvo = uint8(id)
			}
		}
	}
	return ids, cvo
}

// readLeg reads every RTP packet of files into per-stream state.
func readLeg(name string, files []string, sdpOverride string) (*leg, error) {
	l := &leg{name: name, streams: map[uint32]*streamState{}, badPT: map[uint8]int{}, ssrcs: map[string][]uint32{}}
	var h rtp.Packet
	for _, path := range files {
		r, err := dump.Open(path)
		if err != nil {
			return nil, err
		}
		for {
			p, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = r.Close()
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if p.RTCP || h.Unmarshal(p.Payload) != nil {
				continue
			}
			desc := sdpOverride
			if ifs := r.Interfaces(); desc == "" && p.Interface < len(ifs) {
				desc = ifs[p.Interface].Description
			}
			if l.start.IsZero() {
				l.start = p.Time
			}
			l.add(p.Time, &h, desc)
		}
		_ = r.Close()
	}
	if l.start.IsZero() {
		return nil, fmt.Errorf("%s leg: no RTP packets in %s", name, strings.Join(files, ", "))
	}
	return l, nil
}

func (l *leg) add(at time.Time, h *rtp.Packet, desc string) {
	d := l.describe(desc)
	pt, known := d.pts[h.PayloadType]
	if !known && desc != "" {
		if l.badPT[h.PayloadType] == 0 && l.badPTAt.IsZero() {
			l.badPTAt = at
		}
		l.badPT[h.PayloadType]++
		return
	}
	if strings.EqualFold(pt.Name, "rtx") {
		l.repair(d, h)
		return
	}
	if strings.EqualFold(pt.Name, "red") || strings.EqualFold(pt.Name, "ulpfec") || strings.EqualFold(pt.Name, "flexfec-03") {
		return // redundancy carries copies, not media
	}
	s := l.streams[h.SSRC]
	if s == nil {
		s = &streamState{ssrc: h.SSRC, pt: h.PayloadType, kind: pt.Kind, codec: pt.Codec, clock: pt.ClockRate,
			received: map[int64]int{}, rotations: map[int]time.Time{}, badExt: map[uint8]int{},
			bytes: map[int]int{}, keys: map[int]int{}}
		if s.kind == "" {
			s.kind = "pt" + strconv.Itoa(int(h.PayloadType))
		}
		l.streams[h.SSRC] = s
		l.order = append(l.order, h.SSRC)
		l.ssrcs[s.kind] = append(l.ssrcs[s.kind], h.SSRC)
	}
	s.packets++
	if !s.started {
		s.started, s.first, s.maxSeq, s.base = true, at, h.SequenceNumber, int64(h.SequenceNumber)
		s.lastTS, s.lastArr = h.Timestamp, at
	}
	ext := s.cycles + int64(h.SequenceNumber)
	if d := h.SequenceNumber - s.maxSeq; d != 0 && d < 1<<15 {
		if h.SequenceNumber < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = h.SequenceNumber
		ext = s.cycles + int64(h.SequenceNumber)
		// In order: compare RTP time with arrival time (RFC 3550 §5.1: the
		// timestamp follows the sampling clock).
		if s.clock > 0 && s.packets > 1 {
			dts := time.Duration(float64(int32(h.Timestamp-s.lastTS)) / float64(s.clock) * float64(time.Second))
			darr := at.Sub(s.lastArr)
			if dts < -timestampJumpTol/4 || dts-darr > timestampJumpTol || darr-dts > timestampJumpTol+freezeGap {
				s.tsJumps = append(s.tsJumps, fmt.Sprintf("seq %d: RTP time moved %s while %s passed", h.SequenceNumber, dts.Round(time.Millisecond), darr.Round(time.Millisecond)))
			}
		}
		s.lastTS = h.Timestamp
	} else if h.SequenceNumber > s.maxSeq && s.cycles > 0 {
		ext = s.cycles - 1<<16 + int64(h.SequenceNumber)
	}
	s.received[ext]++
	sec := int(at.Sub(l.start) / time.Second)
	s.bytes[sec] += len(h.Payload)
	if gap := at.Sub(s.last); s.packets > 1 && gap > freezeGap {
		s.freezes = append(s.freezes, span{s.last, at})
	}
	s.last, s.lastArr = at, at

	ids, cvo := d.ext, d.cvo
	if h.Extension {
		for _, id := range h.GetExtensionIDs() {
			if _, ok := ids[id]; !ok && desc != "" {
				s.badExt[id]++
			}
		}
		if cvo != 0 {
			if b := h.GetExtension(cvo); len(b) == 1 {
				if o, err := codec.ParseVideoOrientation(b); err == nil {
					if _, seen := s.rotations[o.Rotation]; !seen {
						s.rotations[o.Rotation] = at
					}
				}
			}
		}
	}
	if s.codec.IsVideo() && len(h.Payload) > 0 {
		if info, err := codec.Inspect(s.codec, h.Payload); err == nil && info.Keyframe && info.FrameStart &&
			(s.lastKey.IsZero() || at.Sub(s.lastKey) > 50*time.Millisecond) {
			if !s.lastKey.IsZero() && at.Sub(s.lastKey) > s.maxKeyGap {
				s.maxKeyGap, s.keyGapAt = at.Sub(s.lastKey), s.lastKey
			}
			s.keyframes++
			s.keys[sec]++
			s.lastKey = at
		}
	}
}

// repair accounts an RTX packet (RFC 4588 §4): its first two payload bytes
// are the original sequence number of a packet of the stream with the
// associated payload type. A packet repaired this way was not lost; a
// retransmission of a packet that did arrive is not a duplicate.
func (l *leg) repair(d *description, h *rtp.Packet) {
	apt, ok := d.apt[h.PayloadType]
	if !ok || len(h.Payload) < 2 {
		return
	}
	osn := uint16(h.Payload[0])<<8 | uint16(h.Payload[1])
	for _, ssrc := range l.order {
		s := l.streams[ssrc]
		if s.pt != apt {
			continue
		}
		// The repaired packet is near the highest sequence number seen.
		ext := s.cycles + int64(osn)
		if osn > s.maxSeq && osn-s.maxSeq > 1<<15 && s.cycles > 0 {
			ext -= 1 << 16
		}
		if s.received[ext] == 0 {
			s.received[ext] = 1
			s.repaired++
		}
		return
	}
}

// missing returns the ranges of extended sequence numbers never received.
func (s *streamState) missing() (ranges [][2]int64, lost int64, dups int) {
	if len(s.received) == 0 {
		return nil, 0, 0
	}
	hi := s.cycles + int64(s.maxSeq)
	keys := make([]int64, 0, len(s.received))
	for k, n := range s.received {
		keys = append(keys, k)
		dups += n - 1
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	prev := s.base - 1
	for _, k := range keys {
		if k < s.base || k > hi {
			continue
		}
		if k > prev+1 {
			ranges = append(ranges, [2]int64{prev + 1, k - 1})
			lost += k - 1 - prev
		}
		prev = k
	}
	return ranges, lost, dups
}
