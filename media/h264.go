package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
)

// NAL unit types used to find access unit boundaries (H.264 Table 7-1).
const (
	nalSliceNonIDR = 1
	nalSlicePartA  = 2
	nalSliceIDR    = 5
	nalSEI         = 6
	nalSPS         = 7
	nalPPS         = 8
	nalAUD         = 9
)

// h264Source groups an Annex-B byte stream into access units, the unit a
// WebRTC H.264 sample carries (all NAL units of one picture share one RTP
// timestamp). Following H.264 §7.4.1.2.3, once a picture has begun, a new
// access unit starts at
//   - an access unit delimiter, SPS, PPS, SEI or NAL type 14–18, which may
//     only precede the first slice of a picture, or
//   - a slice (types 1, 2, 5) with first_mb_in_slice == 0.
//
// Parameter sets and SEI therefore travel with the picture they precede, so
// a keyframe sample is self-contained for a viewer who joins on it. Raw
// H.264 carries no timing, so every access unit lasts 1/fps.
type h264Source struct {
	r       *h264reader.H264Reader
	closer  io.Closer
	frame   time.Duration
	pending []byte // first NAL of the next access unit, without start code
	err     error  // end of the NAL stream (io.EOF) once pending is used up
}

func newH264(r io.Reader, closer io.Closer, fps float64) (*h264Source, error) {
	rd, err := h264reader.NewReaderWithOptions(r, h264reader.WithIncludeSEI(true))
	if err != nil {
		return nil, err
	}
	s := &h264Source{r: rd, closer: closer, frame: time.Duration(float64(time.Second) / fps)}
	// Read the first NAL now, so that a file that is not Annex-B (taken
	// for H.264 by its extension) fails at open with a clear message.
	s.pending, s.err = s.nal()
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return nil, fmt.Errorf("not an H.264 Annex-B stream (want a 00 00 01 start code): %w", s.err)
	}
	return s, nil
}

// nal returns the next non-empty NAL unit.
func (s *h264Source) nal() ([]byte, error) {
	for {
		n, err := s.r.NextNAL()
		if err != nil {
			return nil, err
		}
		if len(n.Data) > 0 {
			return n.Data, nil
		}
	}
}

func (s *h264Source) MimeType() string  { return MimeTypeH264 }
func (s *h264Source) ClockRate() uint32 { return 90000 }
func (s *h264Source) Channels() uint16  { return 0 }

var startCode = []byte{0, 0, 0, 1}

func (s *h264Source) Next() (Sample, error) {
	var au bytes.Buffer
	picture := false // au holds a slice
	for s.pending != nil {
		nal := s.pending
		if picture && startsAccessUnit(nal) {
			break
		}
		au.Write(startCode)
		au.Write(nal)
		picture = picture || isSlice(nal[0]&0x1f)
		s.pending, s.err = s.nal()
	}
	if au.Len() == 0 {
		return Sample{}, endOf(s.err)
	}
	return Sample{Data: au.Bytes(), Duration: s.frame}, nil
}

// startsAccessUnit reports whether nal begins a new access unit when it
// follows a slice of the current one.
func startsAccessUnit(nal []byte) bool {
	switch t := nal[0] & 0x1f; {
	case t == nalAUD, t == nalSPS, t == nalPPS, t == nalSEI, t >= 14 && t <= 18:
		return true
	case t == nalSliceNonIDR, t == nalSlicePartA, t == nalSliceIDR:
		// first_mb_in_slice is the first field of the slice header,
		// ue(v); the value 0 is coded as a single '1' bit.
		return len(nal) > 1 && nal[1]&0x80 != 0
	}
	return false
}

// isSlice reports a VCL NAL unit (coded slice or slice data partition).
func isSlice(t byte) bool { return t >= nalSliceNonIDR && t <= nalSliceIDR }

func (s *h264Source) Close() error { return closeOrNil(s.closer) }
