package diagnose

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/dump"
)

// leg is what the captures of one leg (a set of files) contain.
type leg struct {
	name    string
	files   []string
	seed    maphash.Seed
	start   int64 // first packet, Unix ns
	end     int64
	streams []*stream // in order of first packet
	byssrc  map[uint32]*stream
	badPT   map[uint8]*ptIssue
	descs   map[string]*description
	fb      feedbackLog
	packets int // datagrams read; a packet's ordinal finds it again (payloads)
	events  []event

	lastEvent  map[eventKey]int // for emit
	eventCount map[eventKey]int
}

// ptIssue counts packets whose payload type the leg's SDP does not declare.
type ptIssue struct {
	n        int
	from, to int64
}

func newLeg(name string, seed maphash.Seed) *leg {
	return &leg{name: name, seed: seed, byssrc: map[uint32]*stream{}, badPT: map[uint8]*ptIssue{},
		descs: map[string]*description{}, fb: newFeedbackLog()}
}

func (l *leg) describe(desc string) *description {
	d := l.descs[desc]
	if d == nil {
		d = parseDescription(desc)
		l.descs[desc] = d
	}
	return d
}

// readLeg reads every packet of files: RTP into per-stream records, RTCP
// feedback into the leg's log.
func readLeg(name string, files []string, sdpOverride string, seed maphash.Seed) (*leg, error) {
	l := newLeg(name, seed)
	l.files = files
	var h rtpHeader
	for _, path := range files {
		r, err := dump.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s leg: %w", name, err)
		}
		var ifDesc []*description // per interface of this file
		for {
			p, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = r.Close()
				return nil, fmt.Errorf("%s leg: %s: %w", name, path, err)
			}
			ord := int32(l.packets)
			l.packets++
			at := l.end // a Simple Packet Block has no time of its own
			if !p.Time.IsZero() {
				at = p.Time.UnixNano()
			}
			if l.start == 0 || at < l.start {
				l.start = at
			}
			l.end = max(l.end, at)
			if p.RTCP {
				l.fb.add(at, p.Payload)
				continue
			}
			if parseRTP(p.Payload, &h) != nil {
				continue
			}
			for p.Interface >= len(ifDesc) {
				ifDesc = append(ifDesc, nil)
			}
			d := ifDesc[p.Interface]
			if d == nil {
				desc := sdpOverride
				if ifs := r.Interfaces(); desc == "" && p.Interface < len(ifs) {
					desc = ifs[p.Interface].Description
				}
				d = l.describe(desc)
				ifDesc[p.Interface] = d
			}
			l.add(at, ord, &h, d)
		}
		_ = r.Close()
	}
	if len(l.streams) == 0 && len(l.badPT) == 0 && l.fb.empty() {
		return nil, fmt.Errorf("%s leg: no RTP packets in %s", name, strings.Join(files, ", "))
	}
	return l, nil
}

// add accounts one RTP packet.
func (l *leg) add(at int64, ord int32, h *rtpHeader, d *description) {
	pt, known := d.pts[h.pt]
	if !known && d.known {
		b := l.badPT[h.pt]
		if b == nil {
			b = &ptIssue{from: at}
			l.badPT[h.pt] = b
		}
		b.n++
		b.to = at
		return
	}
	if d.copies[h.pt] {
		if _, ok := d.apt[h.pt]; ok {
			l.repair(at, ord, h, d)
		}
		return
	}
	s := l.byssrc[h.ssrc]
	if s == nil {
		kind := pt.Kind
		if kind == "" {
			kind = "pt" + strconv.Itoa(int(h.pt))
		}
		s = newStream(h.ssrc, h.pt, kind, pt.Codec, pt.ClockRate, d)
		l.byssrc[h.ssrc] = s
		l.streams = append(l.streams, s)
	}
	ext, stray := s.extend(h.seq)
	p := pkt{at: at, ext: ext, ts: h.ts, ord: ord}
	if stray {
		p.flags |= fStray
	}
	l.fill(s, &p, h.marker, h.payload)
	if h.ext != nil {
		l.extensions(s, &p, h, d)
	}
	s.pkts = append(s.pkts, p)
}

// fill records what the payload says: its hash, and for video the codec's
// frame start, keyframe, size and parameter sets.
func (l *leg) fill(s *stream, p *pkt, marker bool, payload []byte) {
	idx := int32(len(s.pkts))
	p.size = int32(len(payload))
	p.hash = maphash.Bytes(l.seed, payload)
	copy(p.nal[:], payload)
	if marker {
		p.flags |= fMarker
	}
	if !s.video() || len(payload) == 0 {
		return
	}
	info, err := codec.Inspect(s.codec, payload)
	if err != nil {
		p.flags |= fMalformed
		s.problems[idx] = payloadProblem(s.codec, payload, err)
		return
	}
	if info.FrameStart {
		p.flags |= fStart
	}
	if info.Keyframe {
		p.flags |= fKey
	}
	if info.Width > 0 && info.Height > 0 && (info.Width != s.lastW || info.Height != s.lastH) {
		if s.lastW != 0 {
			s.changes = append(s.changes, change{idx, fmt.Sprintf("resolution %d×%d → %d×%d", s.lastW, s.lastH, info.Width, info.Height)})
		}
		s.lastW, s.lastH = info.Width, info.Height
	}
	if s.codec == codec.H264 {
		l.parameterSets(s, idx, payload)
	}
}

// repair accounts an RTX packet (RFC 4588 §4): its first two payload bytes
// are the original sequence number of a packet of the stream with the
// associated payload type. The repaired packet counts as received (not
// lost); its payload is the rest.
func (l *leg) repair(at int64, ord int32, h *rtpHeader, d *description) {
	apt, ok := d.apt[h.pt]
	if !ok || len(h.payload) < 2 {
		return
	}
	osn := uint16(h.payload[0])<<8 | uint16(h.payload[1])
	for i := len(l.streams) - 1; i >= 0; i-- {
		s := l.streams[i]
		if s.pt != apt {
			continue
		}
		ext, ok := s.near(osn)
		if !ok {
			return
		}
		p := pkt{at: at, ext: ext, ts: h.ts, ord: ord, flags: fRTX}
		l.fill(s, &p, h.marker, h.payload[2:])
		if h.ext != nil {
			l.extensions(s, &p, h, d)
		}
		s.pkts = append(s.pkts, p)
		return
	}
}

// since is the time from the leg's first packet, in seconds.
func (l *leg) since(at int64) float64 { return float64(at-l.start) / 1e9 }

func wall(at int64) time.Time { return time.Unix(0, at).UTC() }

// payloads reads the payload bytes of the packets at the given positions
// again, for evidence (which bytes differ). RTX packets lose their
// original-sequence-number prefix.
func (l *leg) payloads(want map[int32]bool) (map[int32][]byte, error) {
	out := map[int32][]byte{}
	ord := int32(0)
	var h rtpHeader
	for _, path := range l.files {
		r, err := dump.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s leg: %w", l.name, err)
		}
		for len(out) < len(want) {
			p, err := r.Next()
			if err != nil {
				break
			}
			if want[ord] && parseRTP(p.Payload, &h) == nil {
				out[ord] = append([]byte(nil), h.payload...)
			}
			ord++
		}
		_ = r.Close()
	}
	return out, nil
}
