package media

import (
	"bytes"
	"testing"
	"time"
)

func TestH264AccessUnits(t *testing.T) {
	var (
		aud   = []byte{0x09, 0xf0}
		sps   = []byte{0x67, 0x42, 0xc0, 0x1e}
		pps   = []byte{0x68, 0xce, 0x3c, 0x80}
		sei   = []byte{0x06, 0x05, 0x01, 0xaa, 0x80}
		idr   = []byte{0x65, 0x88, 0x84} // first_mb_in_slice = 0 (a single '1' bit)
		idr2  = []byte{0x65, 0x40, 0x84} // second slice of the same picture (first_mb != 0)
		p1    = []byte{0x41, 0x9a, 0x01}
		p1b   = []byte{0x41, 0x40, 0x02}
		p2    = []byte{0x41, 0x9a, 0x02}
		partA = []byte{0x22, 0x80, 0x01} // data partition A, first_mb 0
		partB = []byte{0x23, 0x80}       // partition B: slice_id 0, not a new picture
		eos   = []byte{0x0b}
	)
	tests := []struct {
		name string
		nals [][]byte
		want [][][]byte // NALs per access unit
	}{
		{
			"parameter sets travel with the keyframe",
			[][]byte{sps, pps, idr, p1, p2},
			[][][]byte{{sps, pps, idr}, {p1}, {p2}},
		},
		{
			"multi-slice pictures",
			[][]byte{sps, pps, idr, idr2, p1, p1b, p2},
			[][][]byte{{sps, pps, idr, idr2}, {p1, p1b}, {p2}},
		},
		{
			"AUD and SEI start the next access unit",
			[][]byte{aud, sps, pps, sei, idr, aud, sei, p1, aud, p2, eos},
			[][][]byte{{aud, sps, pps, sei, idr}, {aud, sei, p1}, {aud, p2, eos}},
		},
		{
			"repeated parameter sets before a P frame",
			[][]byte{sps, pps, idr, sps, pps, p1},
			[][][]byte{{sps, pps, idr}, {sps, pps, p1}},
		},
		{
			"data partitions",
			[][]byte{sps, pps, idr, partA, partB, p2},
			[][][]byte{{sps, pps, idr}, {partA, partB}, {p2}},
		},
		{
			"no picture at all",
			[][]byte{sps, pps},
			[][][]byte{{sps, pps}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenReader(bytes.NewReader(annexB(tt.nals...)), "x.h264")
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, s)
			if len(got) != len(tt.want) {
				t.Fatalf("%d access units, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				if want := annexB(w...); !bytes.Equal(got[i].Data, want) || got[i].Duration != time.Second/DefaultH264FPS {
					t.Errorf("AU %d: %x %v, want %x", i, got[i].Data, got[i].Duration, want)
				}
			}
		})
	}
}

// TestH264ThreeByteStartCodes: 00 00 01 start codes give the same units
// (re-emitted with 4-byte start codes, as pion's payloader accepts both).
func TestH264ThreeByteStartCodes(t *testing.T) {
	stream := []byte{0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x41, 0x9a}
	s, err := OpenReader(bytes.NewReader(stream), "x")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s)
	if len(got) != 2 || !bytes.Equal(got[0].Data, annexB([]byte{0x67, 0x42}, []byte{0x65, 0x88})) ||
		!bytes.Equal(got[1].Data, annexB([]byte{0x41, 0x9a})) {
		t.Fatalf("got %x", got)
	}
}

func TestH264Empty(t *testing.T) {
	s, err := OpenReader(bytes.NewReader(nil), "empty.h264")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, s)); n != 0 {
		t.Fatalf("%d samples from an empty file", n)
	}
}
