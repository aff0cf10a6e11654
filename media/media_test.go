package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// ivfFile builds an IVF file with frames at the given pts (timebase 1/30).
func ivfFile(fourcc string, pts []uint64, frames [][]byte) []byte {
	var b bytes.Buffer
	h := make([]byte, 32)
	copy(h, "DKIF")
	binary.LittleEndian.PutUint16(h[6:], 32)
	copy(h[8:], fourcc)
	binary.LittleEndian.PutUint16(h[12:], 640)
	binary.LittleEndian.PutUint16(h[14:], 360)
	binary.LittleEndian.PutUint32(h[16:], 30)
	binary.LittleEndian.PutUint32(h[20:], 1)
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

// oggCRC is the Ogg page checksum: CRC-32, polynomial 0x04c11db7, no
// reflection, zero initial value (RFC 3533 §6).
func oggCRC(b []byte) uint32 {
	var table [256]uint32
	for i := range table {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		table[i] = r
	}
	var crc uint32
	for _, c := range b {
		crc = crc<<8 ^ table[byte(crc>>24)^c]
	}
	return crc
}

// oggPage builds one page holding the given packets; last may continue on
// the next page when cont is set.
func oggPage(flags byte, seq uint32, packets [][]byte, openEnd bool) []byte {
	var lacing []byte
	var body []byte
	for i, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		if !(openEnd && i == len(packets)-1) {
			lacing = append(lacing, byte(n))
		} else if n > 0 {
			panic("open-ended packet must be a multiple of 255 bytes in this helper")
		}
		body = append(body, p...)
	}
	h := make([]byte, 27)
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint32(h[14:], 7) // serial
	binary.LittleEndian.PutUint32(h[18:], seq)
	h[26] = byte(len(lacing))
	page := append(append(h, lacing...), body...)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
	return page
}

func opusHead() []byte {
	return []byte("OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
}

func readAll(t *testing.T, s Source) []Sample {
	t.Helper()
	var out []Sample
	for {
		smp, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, smp)
	}
}

func TestIVF(t *testing.T) {
	frames := [][]byte{{0x10, 1}, {0x11, 2, 2}, {0x11, 3}}
	file := ivfFile("VP80", []uint64{0, 1, 3}, frames)
	s, err := OpenReader(bytes.NewReader(file), "x.bin")
	if err != nil {
		t.Fatal(err)
	}
	if s.MimeType() != "video/VP8" || s.ClockRate() != 90000 || s.Channels() != 0 {
		t.Fatalf("%s %d %d", s.MimeType(), s.ClockRate(), s.Channels())
	}
	got := readAll(t, s)
	want := []time.Duration{time.Second / 30, 2 * time.Second / 30, time.Second / 30}
	if len(got) != 3 {
		t.Fatalf("%d frames", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, frames[i]) || got[i].Duration != want[i] {
			t.Errorf("frame %d: %x %v, want %x %v", i, got[i].Data, got[i].Duration, frames[i], want[i])
		}
	}
	// A torn last frame ends the stream after the complete ones.
	for cut := len(file) - 1; cut > len(file)-8; cut-- {
		s, err := OpenReader(bytes.NewReader(file[:cut]), "torn.ivf")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(readAll(t, s)); n != 2 {
			t.Fatalf("cut at %d: %d frames, want 2", cut, n)
		}
	}
	if _, err := OpenReader(bytes.NewReader(ivfFile("XXXX", nil, nil)), "x.ivf"); err == nil {
		t.Fatal("unknown fourcc accepted")
	}
}

func TestOggOpus(t *testing.T) {
	// TOC config 15 (hybrid 20 ms); 510 bytes span lacing values 255, 255, 0.
	long := bytes.Repeat([]byte{0x78}, 510)
	pkts := [][]byte{
		{0xfc, 1},             // CELT 20 ms, one frame
		{0xfd, 1, 2},          // CELT 20 ms, code 1: two frames
		long,                  // continued across pages
		{0x0b, 0x03, 1, 2, 3}, // SILK config 1 (20 ms), code 3 with 3 frames
	}
	var file []byte
	file = append(file, oggPage(0x02, 0, [][]byte{opusHead()}, false)...)
	file = append(file, oggPage(0x00, 1, [][]byte{[]byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")}, false)...)
	file = append(file, oggPage(0x00, 2, [][]byte{pkts[0], pkts[1]}, false)...)
	// The long packet starts on one page and ends on the next.
	file = append(file, oggPage(0x00, 3, [][]byte{long[:255]}, true)...)
	file = append(file, oggPage(0x01, 4, [][]byte{long[255:], pkts[3]}, false)...)
	s, err := OpenReader(bytes.NewReader(file), "a.ogg")
	if err != nil {
		t.Fatal(err)
	}
	if s.MimeType() != "audio/opus" || s.ClockRate() != 48000 || s.Channels() != 2 {
		t.Fatal(s.MimeType())
	}
	got := readAll(t, s)
	want := []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond}
	if len(got) != 4 {
		t.Fatalf("%d packets, want 4", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, pkts[i]) || got[i].Duration != want[i] {
			t.Errorf("packet %d: %d bytes %v, want %d bytes %v", i, len(got[i].Data), got[i].Duration, len(pkts[i]), want[i])
		}
	}
	// Torn anywhere in the last page: the earlier packets still come out.
	lastPage := len(file) - len(oggPage(0x01, 4, [][]byte{long[255:], pkts[3]}, false))
	for cut := lastPage; cut < len(file); cut += 7 {
		s, err := OpenReader(bytes.NewReader(file[:cut]), "torn.ogg")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(readAll(t, s)); n != 2 {
			t.Fatalf("cut at %d: %d packets, want 2", cut, n)
		}
	}
	vorbis := oggPage(0x02, 0, [][]byte{[]byte("\x01vorbis")}, false)
	if _, err := OpenReader(bytes.NewReader(vorbis), "v.ogg"); err == nil {
		t.Fatal("Ogg Vorbis accepted as Opus")
	}
}

func TestH264AccessUnits(t *testing.T) {
	sps := []byte{0x67, 0x42, 0xc0, 0x1e}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := []byte{0x65, 0x88, 0x84} // first_mb_in_slice = 0 (bit '1')
	p1 := []byte{0x41, 0x9a, 0x01}
	p1b := []byte{0x41, 0x40, 0x02} // second slice of the same picture (first_mb != 0)
	p2 := []byte{0x41, 0x9a, 0x02}
	var stream []byte
	for _, n := range [][]byte{sps, pps, idr, p1, p1b, p2} {
		stream = append(stream, 0, 0, 0, 1)
		stream = append(stream, n...)
	}
	s, err := OpenReader(bytes.NewReader(stream), "x.h264")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s)
	if len(got) != 3 {
		t.Fatalf("%d access units, want 3", len(got))
	}
	wantAU := func(nals ...[]byte) []byte {
		var b []byte
		for _, n := range nals {
			b = append(append(b, 0, 0, 0, 1), n...)
		}
		return b
	}
	for i, w := range [][]byte{wantAU(sps, pps, idr), wantAU(p1, p1b), wantAU(p2)} {
		if !bytes.Equal(got[i].Data, w) || got[i].Duration != time.Second/30 {
			t.Errorf("AU %d: %x, want %x", i, got[i].Data, w)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := OpenReader(bytes.NewReader([]byte("hello world")), "x.txt"); err == nil {
		t.Fatal("text accepted")
	}
}

func TestLoopAndPace(t *testing.T) {
	file := ivfFile("VP80", []uint64{0, 1}, [][]byte{{0x10}, {0x11}})
	opens := 0
	src := Loop(func() (Source, error) { opens++; return OpenReader(bytes.NewReader(file), "l.ivf") })
	start := time.Now()
	n := 0
	ctx, cancel := context.WithCancel(context.Background())
	err := Pace(ctx, src, func(Sample) error {
		n++
		if n == 7 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Pace: %v", err)
	}
	if n != 7 || opens < 4 {
		t.Fatalf("%d samples from %d opens", n, opens)
	}
	// 6 samples of 1/30 s had to elapse before the 7th was due.
	if el := time.Since(start); el < 6*time.Second/30 {
		t.Fatalf("paced too fast: %v", el)
	}
	empty := Loop(func() (Source, error) { return OpenReader(bytes.NewReader(ivfFile("VP80", nil, nil)), "e.ivf") })
	if _, err := empty.Next(); err == nil {
		t.Fatal("looping an empty file must fail, not spin")
	}
}

// FuzzOpen: arbitrary files never panic and never yield empty video frames
// or zero-length audio durations that would stall pacing.
func FuzzOpen(f *testing.F) {
	f.Add(ivfFile("VP80", []uint64{0, 1}, [][]byte{{0x10}, {0x11}}))
	f.Add(append(oggPage(0x02, 0, [][]byte{opusHead()}, false), oggPage(0, 1, [][]byte{[]byte("OpusTags12345678")}, false)...))
	f.Add([]byte{0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x65, 0x88})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := OpenReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for range 10000 {
			smp, err := s.Next()
			if err != nil {
				return
			}
			if smp.Duration <= 0 {
				t.Fatalf("sample with duration %v", smp.Duration)
			}
		}
	})
}
