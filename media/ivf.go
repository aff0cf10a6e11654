package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// ivfSource reads IVF frames: a 32-byte file header ("DKIF", version,
// header size, fourcc, width, height, timebase rate and scale, frame count)
// then frames of a 12-byte header (size, 64-bit pts) and data. A frame's
// duration is the distance to the next frame's pts in the file's timebase, so
// variable frame rates play as recorded. A torn last frame ends the stream.
type ivfSource struct {
	r        io.Reader
	closer   io.Closer
	mime     string
	timebase time.Duration // one pts unit
	next     []byte
	nextPTS  uint64
	done     error
}

func newIVF(r io.Reader, closer io.Closer, name string) (*ivfSource, error) {
	var h [32]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%s: IVF header: %w", name, err)
	}
	if string(h[:4]) != "DKIF" {
		return nil, fmt.Errorf("%s: not an IVF file (no DKIF signature)", name)
	}
	if hs := binary.LittleEndian.Uint16(h[6:8]); hs > 32 {
		if _, err := io.CopyN(io.Discard, r, int64(hs)-32); err != nil {
			return nil, fmt.Errorf("%s: IVF header: %w", name, err)
		}
	}
	s := &ivfSource{r: r, closer: closer}
	switch fourcc := string(h[8:12]); fourcc {
	case "VP80":
		s.mime = "video/VP8"
	case "VP90":
		s.mime = "video/VP9"
	case "AV01":
		s.mime = "video/AV1"
	default:
		return nil, fmt.Errorf("%s: IVF codec %q is not VP80, VP90 or AV01", name, fourcc)
	}
	rate, scale := binary.LittleEndian.Uint32(h[16:20]), binary.LittleEndian.Uint32(h[20:24])
	if rate > 0 && scale > 0 {
		s.timebase = time.Duration(float64(time.Second) * float64(scale) / float64(rate))
	}
	if s.timebase <= 0 || s.timebase > time.Second {
		s.timebase = time.Second / 30
	}
	s.advance()
	return s, nil
}

// advance reads the next frame into s.next (nil at the end).
func (s *ivfSource) advance() {
	var h [12]byte
	s.next = nil
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		s.done = endOf(err)
		return
	}
	size := binary.LittleEndian.Uint32(h[:4])
	if size > 64<<20 {
		s.done = fmt.Errorf("IVF frame of %d bytes: corrupt file", size)
		return
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(s.r, frame); err != nil {
		s.done = endOf(err)
		return
	}
	s.next, s.nextPTS = frame, binary.LittleEndian.Uint64(h[4:12])
}

// endOf maps a read error to the end of the stream: a file cut short by a
// crash ends at its last complete unit.
func endOf(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return err
}

func (s *ivfSource) MimeType() string  { return s.mime }
func (s *ivfSource) ClockRate() uint32 { return 90000 }
func (s *ivfSource) Channels() uint16  { return 0 }

func (s *ivfSource) Next() (Sample, error) {
	if s.next == nil {
		return Sample{}, s.done
	}
	frame, pts := s.next, s.nextPTS
	s.advance()
	d := s.timebase
	if s.next != nil && s.nextPTS > pts && s.nextPTS-pts < 1<<16 {
		d = time.Duration(s.nextPTS-pts) * s.timebase
	}
	return Sample{Data: frame, Duration: d}, nil
}

func (s *ivfSource) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
