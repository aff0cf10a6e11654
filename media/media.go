// Package media reads encoded media files into timed samples for
// publishing: IVF (VP8, VP9, AV1), H.264 Annex-B and Ogg Opus. A sample is
// what a WebRTC sender packetizes as one unit: a video frame (temporal unit,
// access unit) or one Opus packet.
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

// Sample is one encoded frame (video) or packet (audio) and how long it lasts.
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

// Open reads path, recognising the format by its content (IVF "DKIF", Ogg
// "OggS", Annex-B start code) and falling back to the file extension.
func Open(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	src, err := OpenReader(f, path)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return src, nil
}

// OpenReader is Open over an already open file; closing the source closes r
// when r is an io.Closer.
func OpenReader(r io.ReadSeeker, name string) (Source, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(8)
	var closer io.Closer
	if c, ok := r.(io.Closer); ok {
		closer = c
	}
	switch {
	case bytes.HasPrefix(head, []byte("DKIF")):
		return newIVF(br, closer, name)
	case bytes.HasPrefix(head, []byte("OggS")):
		return newOgg(br, closer, name)
	case bytes.HasPrefix(head, []byte{0, 0, 1}) || bytes.HasPrefix(head, []byte{0, 0, 0, 1}):
		return newH264(br, closer, 30)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ivf":
		return newIVF(br, closer, name)
	case ".ogg", ".opus":
		return newOgg(br, closer, name)
	case ".h264", ".264":
		return newH264(br, closer, 30)
	}
	return nil, fmt.Errorf("%s: unknown format: want IVF (VP8/VP9/AV1), H.264 Annex-B or Ogg Opus", name)
}

// looper restarts a source at its end.
type looper struct {
	open  func() (Source, error)
	cur   Source
	first Source // kept for the codec description when cur is between files
	fresh bool   // cur has not produced a sample yet
}

// Loop returns a Source that plays open()'s source again and again. It fails
// when a pass yields no sample, instead of spinning.
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
			return Sample{}, fmt.Errorf("looping: the source has no samples")
		}
		_ = l.cur.Close()
		next, err := l.open()
		if err != nil {
			return Sample{}, fmt.Errorf("looping: %w", err)
		}
		l.cur, l.fresh = next, true
	}
}

func (l *looper) Close() error { return l.cur.Close() }

// failed is a Source that reports an error at its first use.
type failed struct{ err error }

func (f *failed) MimeType() string      { return "" }
func (f *failed) ClockRate() uint32     { return 0 }
func (f *failed) Channels() uint16      { return 0 }
func (f *failed) Next() (Sample, error) { return Sample{}, f.err }
func (f *failed) Close() error          { return nil }

// Pace calls fn for each sample at the moment it is due: the schedule is
// absolute (start + sum of durations) so rounding never drifts, and a
// consumer that falls more than a second behind is resynchronised instead
// of being sent a burst. It returns nil at the end of the source and
// ctx.Err() when cancelled.
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
