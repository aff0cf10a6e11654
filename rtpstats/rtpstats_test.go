package rtpstats

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/codec"
)

func TestSequenceAccounting(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name                  string
		seqs                  []uint16
		expected, lost        int64
		duplicates, reordered uint64
	}{
		{"in order", []uint16{10, 11, 12, 13}, 4, 0, 0, 0},
		{"one lost", []uint16{10, 11, 13, 14}, 5, 1, 0, 0},
		{"wrap", []uint16{65534, 65535, 0, 1}, 4, 0, 0, 0},
		{"wrap with loss", []uint16{65534, 0, 1}, 4, 1, 0, 0},
		{"reordered", []uint16{10, 12, 11, 13}, 4, 0, 0, 1},
		{"duplicate", []uint16{10, 11, 11, 12}, 3, -1, 1, 0},
		{"late across wrap", []uint16{65534, 0, 65535, 1}, 4, 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(1, 96, codec.Opus, 48000)
			for i, s := range tc.seqs {
				tr.Add(t0.Add(time.Duration(i)*20*time.Millisecond), &rtp.Header{SequenceNumber: s, Timestamp: uint32(i * 960)}, []byte{0xfc})
			}
			s := tr.Stats()
			if s.Expected != tc.expected || s.Lost != tc.lost || s.Duplicates != tc.duplicates || s.Reordered != tc.reordered {
				t.Fatalf("expected %d lost %d dup %d reord %d; want %d %d %d %d",
					s.Expected, s.Lost, s.Duplicates, s.Reordered, tc.expected, tc.lost, tc.duplicates, tc.reordered)
			}
			if s.Packets != uint64(len(tc.seqs)) || s.Kind != "audio" || s.Codec != "opus" {
				t.Fatalf("%+v", s)
			}
		})
	}
}

func TestJitterGapsKeyframes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tr := New(1, 96, codec.VP8, 90000)
	key := []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}
	delta := []byte{0x10, 0x01, 0x00}
	// Perfectly paced packets: zero jitter.
	for i := range 30 {
		pl := delta
		if i%10 == 0 {
			pl = key
		}
		tr.Add(t0.Add(time.Duration(i)*33*time.Millisecond), &rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * 2970)}, pl)
	}
	s := tr.Stats()
	if s.JitterMS > 0.001 || s.Keyframes != 3 || s.KeyframeInterval < 320*time.Millisecond || len(s.Resolutions) != 1 ||
		s.Resolutions[0].Width != 640 {
		t.Fatalf("%+v", s)
	}
	// A 500 ms stall then a burst: a gap and jitter.
	tr.Add(t0.Add(29*33*time.Millisecond+500*time.Millisecond), &rtp.Header{SequenceNumber: 30, Timestamp: 30 * 2970}, delta)
	s = tr.Stats()
	if s.LargestGap != 500*time.Millisecond || s.JitterMS < 20 || s.MaxJitterMS < s.JitterMS {
		t.Fatalf("gap %v jitter %.1f ms", s.LargestGap, s.JitterMS)
	}
	if s.BitrateBPS <= 0 || s.Duration <= 0 {
		t.Fatalf("%+v", s)
	}
}
