package diagnose

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzLeg feeds arbitrary packets and session descriptions to the per-leg
// analysis: it must never panic, and every finding must carry evidence.
func FuzzLeg(f *testing.F) {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 65535, Timestamp: 1, SSRC: 7}, Payload: vp8Key}
	_ = p.SetExtension(3, []byte{0x01})
	b, _ := p.Marshal()
	f.Add(b, sdpFor(96, 111, 3), uint16(3))
	f.Add([]byte{0x80, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "", uint16(0))
	f.Add([]byte{}, "v=0\r\nm=video 9 RTP/AVP 96\r\na=extmap:x", uint16(100))
	f.Fuzz(func(t *testing.T, pkt []byte, desc string, step uint16) {
		l := &leg{name: "viewer", streams: map[uint32]*streamState{}, badPT: map[uint8]int{}, ssrcs: map[string][]uint32{}}
		var h rtp.Packet
		if h.Unmarshal(pkt) != nil {
			return
		}
		t0 := time.Unix(1_800_000_000, 0)
		l.start = t0
		for i := range 20 {
			h.SequenceNumber += step
			h.Timestamp += uint32(step) * 90
			l.add(t0.Add(time.Duration(i)*time.Duration(step)*time.Millisecond), &h, desc)
		}
		for _, fd := range l.findings() {
			if fd.Evidence == "" || fd.Class == "" {
				t.Fatalf("finding without evidence: %+v", fd)
			}
		}
	})
}
