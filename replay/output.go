package replay

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/bcastdev/bcast/codec"
)

// outFile is the output file: written front to back through a buffer, so
// that a replay killed half-way leaves a file that plays up to where it
// got; when the file is seekable, writers patch headers (frame counts,
// sizes, durations, indexes) at the end.
type outFile struct {
	f        *os.File
	w        *bufio.Writer
	n        int64 // bytes written
	seekable bool
}

func createOut(path string) (*outFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	o := &outFile{f: f, w: bufio.NewWriterSize(f, 256<<10)}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		o.seekable = true
	}
	return o, nil
}

func (o *outFile) Write(b []byte) (int, error) {
	n, err := o.w.Write(b)
	o.n += int64(n)
	return n, err
}

// patch overwrites bytes already written; a no-op on pipes and devices.
func (o *outFile) patch(off int64, b []byte) error {
	if !o.seekable {
		return nil
	}
	if err := o.w.Flush(); err != nil {
		return err
	}
	_, err := o.f.WriteAt(b, off)
	return err
}

func (o *outFile) close() error {
	err := o.w.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// trackSpec describes one track of the output.
type trackSpec struct {
	codec    codec.Codec
	channels int    // audio
	id       uint32 // SSRC, for the track UID and the Ogg serial number
}

// item is one frame on its way to the writer.
type item struct {
	video bool
	at    time.Time // on the capture clock
	data  []byte
	key   bool
	dur   time.Duration // audio: the packet's duration
	// width and height of a video key frame, when its packets say.
	width, height int
}

// sink writes one output format.
type sink interface {
	// write adds a frame at pts from the start of the output timeline;
	// frames come in pts order.
	write(pts time.Duration, it *item) error
	// close completes the file (headers, indexes) and closes it.
	close() error
}

// format is an output container chosen by the file extension.
type format struct {
	name  string // as in messages: "IVF"
	video func(codec.Codec) bool
	audio func(codec.Codec) bool
	// wantVideo and wantAudio phrase what the format needs.
	wantVideo, wantAudio string
}

func isVPxAV1(c codec.Codec) bool { return c == codec.VP8 || c == codec.VP9 || c == codec.AV1 }
func isH264(c codec.Codec) bool   { return c == codec.H264 }
func isOpus(c codec.Codec) bool   { return c == codec.Opus }

// formats by extension: what each container can hold.
func formatOf(ext string) (format, bool) {
	switch ext {
	case ".ivf":
		return format{name: "IVF", video: isVPxAV1, wantVideo: "VP8/VP9/AV1 video"}, true
	case ".h264", ".264":
		return format{name: "H.264 Annex B", video: isH264, wantVideo: "H264 video"}, true
	case ".ogg", ".opus":
		return format{name: "Ogg Opus", audio: isOpus, wantAudio: "Opus audio"}, true
	case ".webm":
		return format{name: "WebM", video: isVPxAV1, audio: isOpus, wantVideo: "VP8/VP9/AV1 video", wantAudio: "Opus audio"}, true
	}
	return format{}, false
}

func newSink(ext string, o *outFile, video, audio *trackSpec) (sink, error) {
	switch ext {
	case ".ivf":
		return newIVFWriter(o, video.codec), nil
	case ".h264", ".264":
		return &h264Writer{o: o}, nil
	case ".ogg", ".opus":
		return newOggWriter(o, audio.channels, audio.id), nil
	case ".webm":
		return newWebMWriter(o, video, audio), nil
	}
	return nil, fmt.Errorf("no writer for %s", ext)
}
