// Package media reads encoded media files into timed samples for
// publishing: IVF (VP8, VP9, AV1), H.264 Annex-B and Ogg Opus. A sample is
// what a WebRTC sender packetizes as one unit: a video frame (temporal unit,
// access unit) or one Opus packet, together with its duration, from which
// pion's TrackLocalStaticSample derives the RTP timestamps and Pace the
// wall-clock schedule.
//
// The readers are tolerant of the damage real files carry: a file cut short
// while it was being recorded ends at its last complete unit instead of
// failing, so that a publisher can loop a growing or truncated recording.
//
// Sources are not safe for concurrent use.
package media

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MIME types reported by Source.MimeType; the same strings as pion's
// webrtc.MimeType* constants, so they can go straight into an
// RTPCodecCapability.
const (
	MimeTypeVP8  = "video/VP8"
	MimeTypeVP9  = "video/VP9"
	MimeTypeAV1  = "video/AV1"
	MimeTypeH264 = "video/H264"
	MimeTypeOpus = "audio/opus"
)

// DefaultH264FPS is the frame rate Open assumes for H.264 Annex-B: the
// elementary stream has no container timestamps and its optional VUI timing
// is often absent or wrong. Use OpenH264 for another rate.
const DefaultH264FPS = 30

// Sample is one encoded frame (video) or packet (audio) and how long it
// lasts, as pion's media.Sample.
type Sample struct {
	Data     []byte
	Duration time.Duration
}

// Source yields the samples of one track in order.
type Source interface {
	// MimeType is "video/VP8", "video/VP9", "video/AV1", "video/H264" or "audio/opus".
	MimeType() string
	// ClockRate is the RTP clock rate of the codec.
	ClockRate() uint32
	// Channels is 2 for Opus (RTP always signals opus/48000/2), 0 for video.
	Channels() uint16
	// Next returns the next sample, or io.EOF at the end.
	Next() (Sample, error)
	Close() error
}

// Kind is "video" or "audio" by the MIME type of src, "" when unknown.
func Kind(src Source) string {
	switch kind, _, _ := strings.Cut(src.MimeType(), "/"); kind {
	case "video", "audio":
		return kind
	}
	return ""
}

// ErrUnknownFormat is wrapped by the error of Open and OpenReader when
// neither the content nor the file name identify a supported format.
var ErrUnknownFormat = errors.New("unknown media format")

// Open reads path, recognising the format by its content (IVF "DKIF", Ogg
// "OggS", Annex-B start code), because extensions lie (.ogg may be Vorbis),
// and falling back to the file extension (.ivf .ogg .opus .h264 .264) for
// content that has no magic. H.264 is timed at DefaultH264FPS. Closing the
// source closes the file.
func Open(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError: names the file
	}
	src, err := OpenReader(f, path)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return src, nil
}

// OpenReader is Open over an already open file; name is used for the
// extension fallback and in errors. r is read sequentially from its current
// offset, never seeked. Closing the source closes r when r is an io.Closer.
func OpenReader(r io.ReadSeeker, name string) (Source, error) {
	br := newBufReader(r)
	closer := closerOf(r)
	head, _ := br.Peek(8)
	var (
		src Source
		err error
	)
	switch sniff(head, name) {
	case formatIVF:
		src, err = newIVF(br, closer)
	case formatOgg:
		src, err = newOgg(br, closer, false)
	case formatH264:
		src, err = newH264(br, closer, DefaultH264FPS)
	default:
		return nil, fmt.Errorf("%s: %w: want IVF (VP8/VP9/AV1), H.264 Annex-B or Ogg Opus", name, ErrUnknownFormat)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return src, nil
}

// OpenH264 is OpenReader for an H.264 Annex-B stream whose frame rate is
// known (e.g. from a --fps flag): every access unit lasts 1/fps.
func OpenH264(r io.Reader, name string, fps float64) (Source, error) {
	if !(fps > 0 && fps <= 1000) { // also rejects NaN
		return nil, fmt.Errorf("%s: H.264 frame rate %v: want 0 < fps <= 1000", name, fps)
	}
	br := newBufReader(r)
	src, err := newH264(br, closerOf(r), fps)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return src, nil
}

type format int

const (
	formatUnknown format = iota
	formatIVF
	formatOgg
	formatH264
)

// sniff identifies the format by its magic bytes, then by extension.
func sniff(head []byte, name string) format {
	switch {
	case bytes.HasPrefix(head, []byte(ivfSignature)):
		return formatIVF
	case bytes.HasPrefix(head, []byte(oggCapture)):
		return formatOgg
	case bytes.HasPrefix(head, []byte{0, 0, 1}), bytes.HasPrefix(head, []byte{0, 0, 0, 1}):
		return formatH264
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ivf":
		return formatIVF
	case ".ogg", ".opus", ".oga":
		return formatOgg
	case ".h264", ".264":
		return formatH264
	}
	return formatUnknown
}

// bufSize holds the largest Ogg page (27 + 255 + 255*255 bytes), so that a
// page can be checked before it is consumed and skipped byte-wise on damage.
const bufSize = 64 << 10

const _ = uint(bufSize - oggMaxPage) // compile-time check: bufSize >= oggMaxPage

func newBufReader(r io.Reader) *bufio.Reader {
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= bufSize {
		return br
	}
	return bufio.NewReaderSize(r, bufSize)
}

func closerOf(r io.Reader) io.Closer {
	if c, ok := r.(io.Closer); ok {
		return c
	}
	return nil
}

// closeOrNil closes c when there is one.
func closeOrNil(c io.Closer) error {
	if c == nil {
		return nil
	}
	return c.Close()
}

// endOf maps a read error to the end of the stream: a file cut short by a
// crash or still being written ends at its last complete unit.
func endOf(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return err
}

// looper restarts a source at its end.
type looper struct {
	open  func() (Source, error)
	cur   Source // nil after a failed reopen
	first Source // kept for the codec description when cur is between files
	fresh bool   // cur has not produced a sample yet
}

// Loop returns a Source that plays open()'s source again and again, for
// `publish --loop` and the demo stream. It takes an open function rather
// than a Source because a source cannot be rewound: each pass reads a fresh
// one. The timeline runs on across passes (durations simply add up), so a
// paced, packetized loop has continuous RTP timestamps.
//
// If the first open fails, the returned Source reports that error from
// Next. A pass that yields no sample fails instead of spinning, and so does
// a pass whose codec differs from the first (the file was replaced under a
// running publisher and the negotiated track cannot change codec).
func Loop(open func() (Source, error)) Source {
	src, err := open()
	if err != nil {
		return &failed{err: err}
	}
	return &looper{open: open, cur: src, first: src, fresh: true}
}

func (l *looper) MimeType() string  { return l.first.MimeType() }
func (l *looper) ClockRate() uint32 { return l.first.ClockRate() }
func (l *looper) Channels() uint16  { return l.first.Channels() }

func (l *looper) Next() (Sample, error) {
	if l.cur == nil {
		return Sample{}, errors.New("looping: source closed after an earlier error")
	}
	for {
		s, err := l.cur.Next()
		if err == nil {
			l.fresh = false
			return s, nil
		}
		if !errors.Is(err, io.EOF) {
			return s, err
		}
		if l.fresh {
			return Sample{}, errors.New("looping: the source has no samples")
		}
		_ = l.cur.Close()
		l.cur = nil
		next, err := l.open()
		if err != nil {
			return Sample{}, fmt.Errorf("looping: %w", err)
		}
		if next.MimeType() != l.first.MimeType() || next.ClockRate() != l.first.ClockRate() {
			_ = next.Close()
			return Sample{}, fmt.Errorf("looping: codec changed from %s to %s", l.first.MimeType(), next.MimeType())
		}
		l.cur, l.fresh = next, true
	}
}

func (l *looper) Close() error {
	if l.cur == nil {
		return nil
	}
	err := l.cur.Close()
	l.cur = nil
	return err
}

// failed is a Source that reports an error at its first use.
type failed struct{ err error }

func (f *failed) MimeType() string      { return "" }
func (f *failed) ClockRate() uint32     { return 0 }
func (f *failed) Channels() uint16      { return 0 }
func (f *failed) Next() (Sample, error) { return Sample{}, f.err }
func (f *failed) Close() error          { return nil }

// Pace calls fn for each sample at the moment it is due. The schedule is
// absolute (start + sum of the durations before the sample), not a sleep of
// each duration, so that sleep overshoot and the time spent in fn never
// accumulate into drift. When fn or the system falls more than a second
// behind, the schedule is moved forward instead of catching up with a burst
// that would overflow the viewers' jitter buffers. Pace returns nil at the
// end of the source, ctx.Err() when cancelled and fn's error unchanged.
func Pace(ctx context.Context, src Source, fn func(Sample) error) error {
	start := time.Now()
	var due time.Duration
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		s, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if wait := time.Until(start.Add(due)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		} else if wait < -time.Second {
			start = time.Now().Add(-due) // fell behind: resynchronise
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(s); err != nil {
			return err
		}
		due += s.Duration
	}
}
