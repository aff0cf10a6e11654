package media

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
)

// h264Source groups an Annex-B byte stream into access units (H.264 §7.4.1.2.3):
// a new access unit starts at an AUD, SPS, PPS or SEI after a picture, or at
// a slice whose first_mb_in_slice is 0. Raw H.264 has no timing, so every
// access unit lasts 1/fps.
type h264Source struct {
	r       *h264reader.H264Reader
	closer  io.Closer
	frame   time.Duration
	pending []byte // first NAL of the next access unit, with start code
	done    bool
}

func newH264(r io.Reader, closer io.Closer, fps float64) (*h264Source, error) {
	rd, err := h264reader.NewReaderWithOptions(r, h264reader.WithIncludeSEI(true))
	if err != nil {
		return nil, err
	}
	return &h264Source{r: rd, closer: closer, frame: time.Duration(float64(time.Second) / fps)}, nil
}

func (s *h264Source) MimeType() string  { return "video/H264" }
func (s *h264Source) ClockRate() uint32 { return 90000 }
func (s *h264Source) Channels() uint16  { return 0 }

var startCode = []byte{0, 0, 0, 1}

func (s *h264Source) Next() (Sample, error) {
	var au bytes.Buffer
	hasPicture := false
	if s.pending != nil {
		au.Write(s.pending)
		hasPicture = isVCL(s.pending[4])
		s.pending = nil
	}
	for !s.done {
		nal, err := s.r.NextNAL()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return Sample{}, err
			}
			s.done = true
			break
		}
		if len(nal.Data) == 0 {
			continue
		}
		typ := nal.Data[0] & 0x1f
		vcl := isVCL(nal.Data[0])
		firstSlice := vcl && len(nal.Data) > 1 && nal.Data[1]&0x80 != 0
		startsAU := typ == 9 || typ == 7 || typ == 8 || typ == 6 || firstSlice
		if hasPicture && startsAU {
			s.pending = append(append([]byte{}, startCode...), nal.Data...)
			return Sample{Data: au.Bytes(), Duration: s.frame}, nil
		}
		au.Write(startCode)
		au.Write(nal.Data)
		hasPicture = hasPicture || vcl
	}
	if au.Len() == 0 {
		return Sample{}, io.EOF
	}
	return Sample{Data: au.Bytes(), Duration: s.frame}, nil
}

func isVCL(header byte) bool {
	t := header & 0x1f
	return t >= 1 && t <= 5
}

func (s *h264Source) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
