package forward

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/codec"
)

// TestJitter: packets on time give no jitter; arrivals alternating 10 ms
// early and late converge towards the RFC 3550 A.8 estimate (mean |D| of
// 20 ms).
func TestJitter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wobble   time.Duration
		min, max time.Duration
	}{
		{"steady", 0, 0, time.Millisecond},
		{"wobbling", 10 * time.Millisecond, 15 * time.Millisecond, 21 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ts trackStats
			start := time.Unix(1700000000, 0)
			for i := range 500 {
				at := start.Add(time.Duration(i) * 20 * time.Millisecond)
				if i%2 == 1 {
					at = at.Add(tc.wobble)
				} else {
					at = at.Add(-tc.wobble)
				}
				p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: 4000000000 + uint32(i*960), SSRC: 1}}
				ts.update(p, 100, codec.FrameInfo{}, at, 48000)
			}
			if j := ts.snapshot().Jitter; j < tc.min || j > tc.max {
				t.Fatalf("jitter %v, want within [%v, %v]", j, tc.min, tc.max)
			}
		})
	}
}
