package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/bcastdev/bcast/codec"
)

// oggMaxPacket bounds a packet that is kept: the largest valid Opus packet
// is 120 ms of 1275-byte frames plus padding, far below this, so a longer
// one is damage and must not grow without bound.
const oggMaxPacket = 1 << 20

// errNoOpus: the Ogg file has no Opus logical stream.
var errNoOpus = errors.New("Ogg file without an Opus stream (want an OpusHead BOS page)")

// Ogg Opus stream phases (RFC 7845 §3): the first packet of the logical
// stream is the ID header (OpusHead), the second the comment header
// (OpusTags), audio packets follow.
const (
	phaseHead = iota
	phaseTags
	phaseAudio
)

// oggSource reads Opus packets from Ogg Opus (RFC 7845) over RFC 3533 pages.
// Pages may hold several packets and a packet may span pages, so packets
// are rebuilt from the lacing values of each page's segment table; one
// packet is one sample, lasting what its TOC says (RFC 6716 §3.1), which
// unlike the page granule positions is exact per packet.
//
// The first Opus stream is followed; other multiplexed logical streams
// (a video track, say) are ignored. When it ends (EOS) and another Opus
// stream is chained after it (RFC 7845 §3, e.g. a concatenated file), that
// one follows seamlessly. Damage (see oggPageReader) in tolerant mode
// drops the packets it touches: a packet whose pages were lost, or that
// does not decode as Opus, is skipped rather than sent.
type oggSource struct {
	pages  oggPageReader
	closer io.Closer

	adopted bool // serial is the followed stream
	ended   bool // its EOS page has been read
	data    bool // a page after its BOS page has been read
	serial  uint32
	seq     uint32 // sequence number of its last page
	phase   int    // what the next dequeued packet is
	index   int    // packets completed in the stream, for the OpusTags bound

	queue    [][]byte // complete packets, in order
	part     []byte   // beginning of a packet that continues on a later page
	inPacket bool     // a packet is open (part, or one being dropped)
	dropping bool     // the open packet is discarded
}

func newOgg(r io.Reader, closer io.Closer, strict bool) (*oggSource, error) {
	s := &oggSource{pages: oggPageReader{r: newBufReader(r), strict: strict}, closer: closer}
	// Read the ID header now: a file that is not Ogg Opus, or a channel
	// layout WebRTC cannot carry, must fail at open rather than mid-stream.
	p, err := s.packet()
	if errors.Is(err, io.EOF) {
		return nil, errNoOpus
	}
	if err != nil {
		return nil, err
	}
	if err := parseOpusHead(p); err != nil {
		return nil, err
	}
	s.phase = phaseTags
	return s, nil
}

// parseOpusHead validates the ID header (RFC 7845 §5.1):
//
//	"OpusHead" | version | channels | pre-skip u16 | rate u32 | gain s16 |
//	mapping family | [stream count | coupled count | mapping[channels]]
//
// WebRTC carries exactly one Opus stream (RFC 7587), so multistream
// layouts (surround) are refused instead of sending undecodable packets.
func parseOpusHead(p []byte) error {
	if !bytes.HasPrefix(p, []byte("OpusHead")) || len(p) < 19 {
		return errors.New("bad Opus ID header (want OpusHead of at least 19 bytes)")
	}
	version, channels, family := p[8], int(p[9]), p[18]
	if version>>4 != 0 { // §5.1: a major version other than 0 is incompatible
		return fmt.Errorf("Opus ID header version %d: want 0.x", version)
	}
	if channels == 0 {
		return errors.New("Opus ID header with 0 channels")
	}
	streams := 1
	if family == 0 {
		if channels > 2 {
			return fmt.Errorf("Opus with %d channels in mapping family 0: want 1 or 2", channels)
		}
	} else {
		if len(p) < 21+channels {
			return fmt.Errorf("Opus ID header: channel mapping table of family %d truncated", family)
		}
		streams = int(p[19])
	}
	if streams != 1 {
		return fmt.Errorf("Opus with %d streams (%d channels, mapping family %d) cannot be sent as WebRTC opus/48000/2: want mono or stereo",
			streams, channels, family)
	}
	return nil
}

func (s *oggSource) MimeType() string  { return MimeTypeOpus }
func (s *oggSource) ClockRate() uint32 { return 48000 }
func (s *oggSource) Channels() uint16  { return 2 }

func (s *oggSource) Next() (Sample, error) {
	for {
		p, err := s.packet()
		if err != nil {
			return Sample{}, err
		}
		switch s.phase {
		case phaseHead: // a chained stream begins
			if err := parseOpusHead(p); err != nil {
				return Sample{}, err
			}
			s.phase = phaseTags
			continue
		case phaseTags:
			s.phase = phaseAudio
			if bytes.HasPrefix(p, []byte("OpusTags")) {
				continue
			}
			if s.pages.strict {
				return Sample{}, errors.New("Ogg Opus without OpusTags header")
			}
			// Tolerant: the mandatory comment header is missing; the
			// packet may still be audio.
		}
		d, err := codec.OpusPacketDuration(p)
		if err == nil && d <= 0 {
			err = errors.New("zero duration")
		}
		if err != nil {
			if s.pages.strict {
				return Sample{}, fmt.Errorf("Opus packet of %d bytes: %w", len(p), err)
			}
			continue // not decodable: skip it rather than stall the pacing
		}
		return Sample{Data: p, Duration: d}, nil
	}
}

// packet returns the next complete packet of the followed stream.
func (s *oggSource) packet() ([]byte, error) {
	for len(s.queue) == 0 {
		err := s.readPage()
		if errors.Is(err, io.EOF) && s.inPacket && s.pages.strict {
			return nil, errors.New("Ogg file ends inside a packet")
		}
		if err != nil {
			return nil, err
		}
	}
	p := s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	return p, nil
}

// readPage reads one page and queues the packets it completes.
func (s *oggSource) readPage() error {
	p, err := s.pages.next()
	if err != nil {
		return err
	}
	bos := p.flags&oggBOS != 0
	if bos && s.data && !s.ended && p.serial != s.serial && bytes.HasPrefix(p.body, []byte("OpusHead")) {
		// A new stream after data pages is a chained one (multiplexed
		// streams all begin before any data, RFC 3533 §4), though ours
		// never ended: a torn recording with another file appended.
		if err := s.damage(errors.New("Ogg Opus stream chained before the previous one ended")); err != nil {
			return err
		}
		s.ended = true
	}
	if bos && (!s.adopted || s.ended) {
		if !bytes.HasPrefix(p.body, []byte("OpusHead")) {
			return nil // another codec's stream: ignore it
		}
		s.adopt(p.serial)
	}
	if !s.adopted {
		// All BOS pages precede the data pages (RFC 3533 §4): the
		// Opus stream, if any, would have begun by now.
		return errNoOpus
	}
	if p.serial != s.serial || s.ended {
		return nil // another logical stream, or past the end of ours
	}
	if !bos {
		s.data = true
	}
	if p.seq != s.seq+1 && !bos {
		if err := s.damage(fmt.Errorf("Ogg page %d after page %d: pages lost", p.seq, s.seq)); err != nil {
			return err
		}
		s.closePacket(false) // its missing pages cannot be recovered
	}
	s.seq = p.seq
	if cont := p.flags&oggContinued != 0; cont != s.inPacket {
		if err := s.damage(errors.New("Ogg continuation flag does not match the previous page")); err != nil {
			return err
		}
		if cont { // the packet's beginning was lost: drop its end
			s.inPacket, s.dropping, s.part = true, true, nil
		} else { // the packet's end was lost
			s.closePacket(false)
		}
	}
	off := 0
	for _, l := range p.lacing {
		seg := p.body[off : off+int(l)]
		off += int(l)
		s.inPacket = true
		switch {
		case s.dropping:
		case s.index == 1:
			// OpusTags can hold megabytes of cover art; only its magic
			// is looked at.
			if keep := 8 - len(s.part); keep > 0 {
				s.part = append(s.part, seg[:min(keep, len(seg))]...)
			}
		case len(s.part)+len(seg) > oggMaxPacket:
			if err := s.damage(fmt.Errorf("Ogg packet longer than %d bytes", oggMaxPacket)); err != nil {
				return err
			}
			s.dropping, s.part = true, nil
		default:
			s.part = append(s.part, seg...)
		}
		if l < 255 {
			s.closePacket(true)
		}
	}
	if p.flags&oggEOS != 0 {
		s.ended = true
		if s.inPacket {
			if err := s.damage(errors.New("Ogg stream ends inside a packet")); err != nil {
				return err
			}
			s.closePacket(false)
		}
	}
	return nil
}

// adopt follows the stream with serial from its ID header on.
func (s *oggSource) adopt(serial uint32) {
	*s = oggSource{pages: s.pages, closer: s.closer, queue: s.queue,
		adopted: true, serial: serial, phase: phaseHead}
}

// closePacket ends the open packet, queueing it when complete is set and
// it was not being dropped.
func (s *oggSource) closePacket(complete bool) {
	if s.inPacket {
		if complete && !s.dropping {
			s.queue = append(s.queue, s.part)
		}
		s.index++
	}
	s.part, s.inPacket, s.dropping = nil, false, false
}

// damage is err in strict mode, nil (skip and go on) in tolerant mode.
func (s *oggSource) damage(err error) error {
	if s.pages.strict {
		return err
	}
	return nil
}

func (s *oggSource) Close() error { return closeOrNil(s.closer) }
