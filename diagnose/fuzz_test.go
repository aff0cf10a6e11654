package diagnose

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// fuzzSDP declares one payload type of codec c (96) and video-orientation.
func fuzzSDP(c uint8) string {
	names := []string{"H264/90000", "VP8/90000", "VP9/90000", "AV1/90000", "opus/48000/2"}
	kind := "video"
	if int(c)%len(names) == 4 {
		kind = "audio"
	}
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=%s 9 UDP/TLS/RTP/SAVPF 96 97\r\n"+
		"a=rtpmap:96 %s\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=extmap:3 urn:3gpp:video-orientation\r\n", kind, names[int(c)%len(names)])
}

// analyseAll runs every per-leg analysis and the aggregation, and checks
// that each finding carries a known class and evidence.
func analyseAll(t *testing.T, l *leg) {
	l.analyse()
	for _, f := range l.findings(l.events, nil) {
		if _, ok := classes[f.Class]; !ok || f.Evidence == "" || f.Count <= 0 {
			t.Fatalf("finding without class, evidence or count: %+v", f)
		}
	}
}

// FuzzLeg feeds one arbitrary packet, repeated with a sequence and time
// step, under an arbitrary session description: no panic, and every
// finding has evidence.
func FuzzLeg(f *testing.F) {
	f.Add([]byte{0x90, 0x60, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 7, 0xbe, 0xde, 0, 1, 0x30, 0x01, 0, 0, 0x10, 0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}, fuzzSDP(1), uint16(3))
	f.Add([]byte{0x80, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "", uint16(0))
	f.Add([]byte{}, "v=0\r\nm=video 9 RTP/AVP 96\r\na=extmap:x", uint16(100))
	f.Add([]byte{0x80, 0x61, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 7, 0x7c, 0x85}, fuzzSDP(0), uint16(40000))
	f.Fuzz(func(t *testing.T, pkt []byte, desc string, step uint16) {
		var h rtpHeader
		if parseRTP(pkt, &h) != nil {
			return
		}
		l := newLeg("viewer", maphash.MakeSeed())
		d := l.describe(desc)
		t0 := int64(1_800_000_000_000_000_000)
		l.start = t0
		for i := range 20 {
			h.seq += step
			h.ts += uint32(step) * 90
			l.add(t0+int64(i)*int64(step)*1e6, int32(i), &h, d)
		}
		analyseAll(t, l)
	})
}

// FuzzFrames drives the frame-boundary, keyframe and H.264 fragmentation
// analyses with sequences of payloads. data is a list of records: a flag
// byte (bit 0 marker, bit 1 next timestamp, bits 2-3 sequence step 1, 1,
// 2 or -1, bit 4 RTX), a 16-bit length and the payload. Seeds from the
// corpus are in testdata/fuzz/FuzzFrames.
func FuzzFrames(f *testing.F) {
	f.Add([]byte{0x02, 0, 3, 0x18, 0, 1}, uint8(0))
	f.Add([]byte{0x00, 0, 2, 0x7c, 0x85, 0x00, 0, 2, 0x7c, 0x05, 0x03, 0, 2, 0x7c, 0x45}, uint8(0))
	f.Add([]byte{0x03, 0, 4, 0x10, 0, 0, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		l := newLeg("ingest", maphash.MakeSeed())
		d := l.describe(fuzzSDP(c))
		t0 := int64(1_800_000_000_000_000_000)
		l.start = t0
		h := rtpHeader{ssrc: 7, pt: 96}
		for i := 0; len(data) >= 3; i++ {
			flags, n := data[0], int(data[1])<<8|int(data[2])
			data = data[3:]
			n = min(n, len(data))
			h.payload, data = data[:n], data[n:]
			h.marker = flags&1 != 0
			if flags&2 != 0 {
				h.ts += 3000
			}
			h.seq += []uint16{1, 1, 2, 0xffff}[flags>>2&3]
			h.pt = 96
			if flags&0x10 != 0 && n >= 2 {
				h.pt = 97
			}
			l.add(t0+int64(i)*int64(20e6), int32(i), &h, d)
		}
		analyseAll(t, l)
	})
}

// FuzzParseRTP: the header parser and the extension walk never read out
// of bounds.
func FuzzParseRTP(f *testing.F) {
	f.Add([]byte{0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0xbe, 0xde, 0, 1, 0x30, 0x01, 0, 0})
	f.Add([]byte{0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0x10, 0x00, 0, 1, 0x03, 0x01, 0x05, 0})
	f.Add([]byte{0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 1, 2, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h rtpHeader
		if parseRTP(b, &h) != nil {
			return
		}
		if len(h.payload) > len(b) {
			t.Fatal("payload longer than the packet")
		}
		h.eachExtension(func(id uint8, v []byte) {
			if id == 0 {
				t.Fatal("padding reported as an element")
			}
		})
	})
}
