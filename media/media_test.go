package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ivfFile builds an IVF file with frames at the given pts, timebase
// scale/rate seconds.
func ivfFile(fourcc string, rate, scale uint32, pts []uint64, frames [][]byte) []byte {
	var b bytes.Buffer
	h := make([]byte, 32)
	copy(h, "DKIF")
	binary.LittleEndian.PutUint16(h[6:], 32)
	copy(h[8:], fourcc)
	binary.LittleEndian.PutUint16(h[12:], 640)
	binary.LittleEndian.PutUint16(h[14:], 360)
	binary.LittleEndian.PutUint32(h[16:], rate)
	binary.LittleEndian.PutUint32(h[20:], scale)
	binary.LittleEndian.PutUint32(h[24:], uint32(len(frames)))
	b.Write(h)
	for i, f := range frames {
		fh := make([]byte, 12)
		binary.LittleEndian.PutUint32(fh, uint32(len(f)))
		binary.LittleEndian.PutUint64(fh[4:], pts[i])
		b.Write(fh)
		b.Write(f)
	}
	return b.Bytes()
}

// vp8File is a 1/30 s IVF file with the given frames at pts 0, 1, 2...
func vp8File(frames ...[]byte) []byte {
	pts := make([]uint64, len(frames))
	for i := range pts {
		pts[i] = uint64(i)
	}
	return ivfFile("VP80", 30, 1, pts, frames)
}

// annexB joins NAL units with 4-byte start codes.
func annexB(nals ...[]byte) []byte {
	var b []byte
	for _, n := range nals {
		b = append(append(b, 0, 0, 0, 1), n...)
	}
	return b
}

func readAll(t testing.TB, s Source) []Sample {
	t.Helper()
	var out []Sample
	for {
		smp, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("after %d samples: %v", len(out), err)
		}
		out = append(out, smp)
	}
}

func TestOpenReaderDetects(t *testing.T) {
	ivf := vp8File([]byte{0x10})
	ogg := oggFile(7, [][]byte{opusHead(2), opusTags(), {0xfc, 1}})
	h264 := annexB([]byte{0x65, 0x88})
	tests := []struct {
		name, file string
		data       []byte
		mime       string
		errHas     string // "" for success
	}{
		{"ivf by content", "clip.bin", ivf, MimeTypeVP8, ""},
		{"ogg by content", "clip", ogg, MimeTypeOpus, ""},
		{"ogg named .h264", "clip.h264", ogg, MimeTypeOpus, ""},
		{"h264 by content", "x", h264, MimeTypeH264, ""},
		{"h264 3-byte start code", "x", []byte{0, 0, 1, 0x65, 0x88}, MimeTypeH264, ""},
		{"ivf extension, bad content", "bad.ivf", []byte("DKIX is not an IVF file, though it is longer than a header"), "", "bad.ivf: not an IVF file"},
		{"ogg extension, bad content", "bad.opus", []byte("hello"), "", "bad.opus: "},
		{"h264 extension, bad content", "bad.264", []byte("hello"), "", "bad.264: not an H.264 Annex-B stream"},
		{"unknown", "notes.txt", []byte("hello world"), "", "notes.txt: unknown media format: want IVF"},
		{"ivf unknown codec", "x.ivf", ivfFile("H264", 30, 1, nil, nil), "", `IVF codec "H264": want VP80, VP90 or AV01`},
		{"ogg vorbis", "v.ogg", rawPage(oggBOS, 1, 0, []byte{7}, []byte("\x01vorbis")), "", "v.ogg: Ogg file without an Opus stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenReader(bytes.NewReader(tt.data), tt.file)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.MimeType() != tt.mime {
				t.Fatalf("MimeType = %q, want %q", s.MimeType(), tt.mime)
			}
			if n := len(readAll(t, s)); n != 1 {
				t.Fatalf("%d samples, want 1", n)
			}
		})
	}
	_, err := OpenReader(bytes.NewReader(nil), "empty.dat")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("empty file: %v, want ErrUnknownFormat", err)
	}
}

func TestSourceDescription(t *testing.T) {
	tests := []struct {
		data     []byte
		mime     string
		rate     uint32
		channels uint16
		kind     string
	}{
		{ivfFile("VP80", 30, 1, nil, nil), MimeTypeVP8, 90000, 0, "video"},
		{ivfFile("VP90", 30, 1, nil, nil), MimeTypeVP9, 90000, 0, "video"},
		{ivfFile("AV01", 30, 1, nil, nil), MimeTypeAV1, 90000, 0, "video"},
		{annexB([]byte{0x65, 0x88}), MimeTypeH264, 90000, 0, "video"},
		{oggFile(1, [][]byte{opusHead(1), opusTags()}), MimeTypeOpus, 48000, 2, "audio"},
	}
	for _, tt := range tests {
		t.Run(tt.mime, func(t *testing.T) {
			s, err := OpenReader(bytes.NewReader(tt.data), "x")
			if err != nil {
				t.Fatal(err)
			}
			if s.MimeType() != tt.mime || s.ClockRate() != tt.rate || s.Channels() != tt.channels || Kind(s) != tt.kind {
				t.Fatalf("got %s %d %d %s, want %s %d %d %s", s.MimeType(), s.ClockRate(), s.Channels(), Kind(s),
					tt.mime, tt.rate, tt.channels, tt.kind)
			}
		})
	}
}

// closeCounter records Close calls on a reader.
type closeCounter struct {
	*bytes.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestOpenFileAndClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clip.ivf")
	if err := os.WriteFile(path, vp8File([]byte{0x10}, []byte{0x11}), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, s)); n != 2 {
		t.Fatalf("%d samples, want 2", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "missing.ivf")); err == nil || !strings.Contains(err.Error(), "missing.ivf") {
		t.Fatalf("missing file: %v", err)
	}

	// Close is handed on to r when r is a Closer, for every format.
	for _, data := range [][]byte{vp8File([]byte{0x10}), annexB([]byte{0x65, 0x88}), oggFile(1, [][]byte{opusHead(2), opusTags()})} {
		c := &closeCounter{Reader: bytes.NewReader(data)}
		s, err := OpenReader(c, "x")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil || c.closed != 1 {
			t.Fatalf("%s: Close: %v, %d closes", s.MimeType(), err, c.closed)
		}
	}
}

func TestOpenH264FPS(t *testing.T) {
	stream := annexB([]byte{0x65, 0x88}, []byte{0x41, 0x9a})
	ntsc := 59.94
	tests := []struct {
		fps  float64
		want time.Duration
		ok   bool
	}{
		{30, time.Second / 30, true},
		{25, 40 * time.Millisecond, true},
		{ntsc, time.Duration(float64(time.Second) / ntsc), true},
		{0, 0, false},
		{-1, 0, false},
		{1e6, 0, false},
	}
	for _, tt := range tests {
		s, err := OpenH264(bytes.NewReader(stream), "x.h264", tt.fps)
		if !tt.ok {
			if err == nil || !strings.Contains(err.Error(), "x.h264") {
				t.Errorf("fps %v: err = %v, want an error naming the file", tt.fps, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, smp := range readAll(t, s) {
			if smp.Duration != tt.want {
				t.Errorf("fps %v: duration %v, want %v", tt.fps, smp.Duration, tt.want)
			}
		}
	}
}
