package media

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func TestIVF(t *testing.T) {
	frames := [][]byte{{0x10, 1}, {0x11, 2, 2}, {0x11, 3}, {}}
	const ms = time.Millisecond
	ntsc := time.Duration(1001 * int64(time.Second) / 30000) // exact: 33366666.67 ns truncated once per frame
	tests := []struct {
		name        string
		fourcc      string
		rate, scale uint32
		pts         []uint64
		want        []time.Duration
	}{
		{"1/30 with a gap", "VP80", 30, 1, []uint64{0, 1, 3, 4}, []time.Duration{time.Second / 30, 2 * time.Second / 30, time.Second / 30, time.Second / 30}},
		{"NTSC 1001/30000", "VP90", 30000, 1001, []uint64{0, 1, 2, 3}, []time.Duration{ntsc, ntsc, ntsc, ntsc}},
		{"millisecond timebase follows pts", "AV01", 1000, 1, []uint64{0, 40, 80, 100}, []time.Duration{40 * ms, 40 * ms, 20 * ms, 20 * ms}},
		{"90 kHz timebase", "VP80", 90000, 1, []uint64{0, 3000, 6000, 9000}, []time.Duration{time.Second / 30, time.Second / 30, time.Second / 30, time.Second / 30}},
		{"non-increasing pts", "VP80", 30, 1, []uint64{5, 5, 4, 6}, []time.Duration{time.Second / 30, time.Second / 30, time.Second / 15, time.Second / 30}},
		{"timestamp jump", "VP80", 30, 1, []uint64{0, 1, 1 << 40, 1<<40 + 1}, []time.Duration{time.Second / 30, time.Second / 30, time.Second / 30, time.Second / 30}},
		{"zero timebase", "VP80", 0, 0, []uint64{0, 1, 2, 3}, []time.Duration{time.Second / 30, time.Second / 30, time.Second / 30, time.Second / 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenReader(bytes.NewReader(ivfFile(tt.fourcc, tt.rate, tt.scale, tt.pts, frames)), "x.ivf")
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, s)
			if len(got) != len(frames) {
				t.Fatalf("%d frames, want %d", len(got), len(frames))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, frames[i]) || got[i].Duration != tt.want[i] {
					t.Errorf("frame %d: %x %v, want %x %v", i, got[i].Data, got[i].Duration, frames[i], tt.want[i])
				}
			}
		})
	}
}

// TestIVFLongHeader: headerSize is honoured, not assumed to be 32.
func TestIVFLongHeader(t *testing.T) {
	file := vp8File([]byte{0x10}, []byte{0x11})
	binary.LittleEndian.PutUint16(file[6:], 40)
	file = append(file[:32:32], append(make([]byte, 8), file[32:]...)...)
	s, err := OpenReader(bytes.NewReader(file), "x.ivf")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); len(got) != 2 || got[0].Data[0] != 0x10 || got[1].Data[0] != 0x11 {
		t.Fatalf("got %v", got)
	}
}

// TestIVFTorn: a file cut anywhere in its last frame (a recording that is
// still being written) ends after the complete frames; a cut header fails.
func TestIVFTorn(t *testing.T) {
	file := vp8File([]byte{0x10, 1}, []byte{0x11, 2, 2}, []byte{0x11, 3, 3, 3})
	last := len(file) - 12 - 4
	for cut := last; cut < len(file); cut++ {
		s, err := OpenReader(bytes.NewReader(file[:cut]), "torn.ivf")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(readAll(t, s)); n != 2 {
			t.Fatalf("cut at %d: %d frames, want 2", cut, n)
		}
	}
	if _, err := OpenReader(bytes.NewReader(file[:20]), "torn.ivf"); err == nil {
		t.Fatal("a torn file header was accepted")
	}
	huge := vp8File([]byte{0x10})
	binary.LittleEndian.PutUint32(huge[32:], 1<<30)
	s, err := OpenReader(bytes.NewReader(huge), "huge.ivf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err == nil {
		t.Fatal("a 1 GiB frame size was accepted")
	}
}
