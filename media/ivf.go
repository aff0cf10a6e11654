package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// IVF layout (https://wiki.multimedia.cx/index.php/IVF; libvpx ivfenc.c):
// a file header of headerSize bytes (32 in practice)
//
//	"DKIF" | version u16 | headerSize u16 | fourcc | width u16 | height u16 |
//	rate u32 | scale u32 | frame count u32 | unused u32
//
// then frames of a 12-byte header (size u32, pts u64) and data, all little
// endian. pts counts in units of scale/rate seconds.
const (
	ivfSignature       = "DKIF"
	ivfFileHeaderSize  = 32
	ivfFrameHeaderSize = 12
	ivfMaxFrame        = 64 << 20 // a larger frame size means a corrupt file
	// ivfMaxGap bounds a frame's duration taken from the pts distance: a
	// larger gap is a timestamp jump (a spliced file), not a frame that
	// should freeze the stream.
	ivfMaxGap = 10 * time.Second
)

// ivfSource reads IVF frames. One frame is one sample: a VP8 or VP9 frame
// (a VP9 superframe included) or an AV1 temporal unit, which is what pion's
// payloaders take and what its play-from-disk example passes to
// TrackLocalStaticSample.
//
// A frame lasts until the next frame's pts, so variable frame rates play as
// recorded. A torn last frame ends the stream.
//
// The header is parsed here rather than with pion's ivfreader: that reader
// ignores headerSize, rejects version != 0 and returns pts scaled by
// rate/scale with truncation, which loses the exact timing this needs.
type ivfSource struct {
	r      io.Reader
	closer io.Closer
	mime   string
	rate   uint64 // timebase denominator: pts units per scale seconds
	scale  uint64 // timebase numerator
	// fallback is the duration of a frame whose pts gives none (the last
	// frame, a non-increasing pts): one timebase unit when the timebase is
	// a frame rate (writers use 1/fps), else the last measured duration.
	fallback    time.Duration
	unitIsFrame bool
	next        []byte
	pts         uint64
	done        error // reason next is nil
}

func newIVF(r io.Reader, closer io.Closer) (*ivfSource, error) {
	var h [ivfFileHeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("IVF header: %w", err)
	}
	if string(h[:4]) != ivfSignature {
		return nil, errors.New("not an IVF file: want the DKIF signature")
	}
	if hs := binary.LittleEndian.Uint16(h[6:8]); hs > ivfFileHeaderSize {
		if _, err := io.CopyN(io.Discard, r, int64(hs)-ivfFileHeaderSize); err != nil {
			return nil, fmt.Errorf("IVF header: %w", err)
		}
	}
	s := &ivfSource{
		r:      r,
		closer: closer,
		rate:   uint64(binary.LittleEndian.Uint32(h[16:20])),
		scale:  uint64(binary.LittleEndian.Uint32(h[20:24])),
	}
	switch fourcc := string(h[8:12]); fourcc {
	case "VP80":
		s.mime = MimeTypeVP8
	case "VP90":
		s.mime = MimeTypeVP9
	case "AV01":
		s.mime = MimeTypeAV1
	default:
		return nil, fmt.Errorf("IVF codec %q: want VP80, VP90 or AV01", fourcc)
	}
	// A timebase of 1/1000 or 1/90000 is not a frame rate: start from a
	// guess of 1/30 s and follow the measured durations.
	s.fallback = s.duration(1)
	s.unitIsFrame = s.fallback >= time.Second/240 && s.fallback <= time.Second
	if !s.unitIsFrame {
		s.fallback = time.Second / 30
	}
	s.advance()
	return s, nil
}

// duration converts a pts distance to time exactly (no float rounding that
// would drift over a long loop), 0 when it does not fit.
func (s *ivfSource) duration(pts uint64) time.Duration {
	if s.rate == 0 || s.scale == 0 {
		return 0
	}
	hi, lo := bits.Mul64(pts, s.scale*uint64(time.Second)) // scale < 2^32: no overflow
	if hi >= s.rate {
		return 0
	}
	q, _ := bits.Div64(hi, lo, s.rate)
	if q > uint64(ivfMaxGap) {
		return 0
	}
	return time.Duration(q)
}

// advance reads the next frame into s.next (nil at the end).
func (s *ivfSource) advance() {
	var h [ivfFrameHeaderSize]byte
	s.next = nil
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		s.done = endOf(err)
		return
	}
	size := binary.LittleEndian.Uint32(h[:4])
	if size > ivfMaxFrame {
		s.done = fmt.Errorf("IVF frame of %d bytes: corrupt file", size)
		return
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(s.r, frame); err != nil {
		s.done = endOf(err)
		return
	}
	s.next, s.pts = frame, binary.LittleEndian.Uint64(h[4:12])
}

func (s *ivfSource) MimeType() string  { return s.mime }
func (s *ivfSource) ClockRate() uint32 { return 90000 }
func (s *ivfSource) Channels() uint16  { return 0 }

func (s *ivfSource) Next() (Sample, error) {
	if s.next == nil {
		return Sample{}, s.done
	}
	frame, pts := s.next, s.pts
	s.advance()
	if s.next != nil && s.pts > pts {
		if d := s.duration(s.pts - pts); d > 0 {
			if !s.unitIsFrame {
				s.fallback = d
			}
			return Sample{Data: frame, Duration: d}, nil
		}
	}
	return Sample{Data: frame, Duration: s.fallback}, nil
}

func (s *ivfSource) Close() error { return closeOrNil(s.closer) }
