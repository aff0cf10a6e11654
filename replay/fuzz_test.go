package replay

import (
	"bytes"
	"testing"
	"time"

	"github.com/bcastdev/bcast/codec"
)

// fuzzCodecs are the codecs FuzzAssemble picks from with its first byte.
var fuzzCodecs = []codec.Codec{codec.VP8, codec.VP9, codec.AV1, codec.H264, codec.Opus}

// fuzzPacket is one record of FuzzAssemble's input: sequence number,
// timestamp step (in 3000-tick units, signed), flags (bit 0 marker, bits
// 1-3 arrival step in 100 ms), payload length, payload.
type fuzzPacket struct {
	seq     uint16
	tsStep  int8
	marker  bool
	wait    uint8
	payload []byte
}

func encodeFuzz(c codec.Codec, packets []fuzzPacket) []byte {
	b := []byte{0}
	for i, fc := range fuzzCodecs {
		if fc == c {
			b[0] = byte(i)
		}
	}
	for _, p := range packets {
		flags := p.wait << 1
		if p.marker {
			flags |= 1
		}
		n := min(len(p.payload), 255)
		b = append(b, byte(p.seq>>8), byte(p.seq), byte(p.tsStep), flags, byte(n))
		b = append(b, p.payload[:n]...)
	}
	return b
}

func decodeFuzz(b []byte) (codec.Codec, []fuzzPacket) {
	if len(b) == 0 {
		return codec.VP8, nil
	}
	c := fuzzCodecs[int(b[0])%len(fuzzCodecs)]
	var out []fuzzPacket
	for b = b[1:]; len(b) >= 5; {
		p := fuzzPacket{seq: uint16(b[0])<<8 | uint16(b[1]), tsStep: int8(b[2]), marker: b[3]&1 != 0, wait: b[3] >> 1 & 7}
		n := min(int(b[4]), len(b)-5)
		p.payload = b[5 : 5+n]
		b = b[5+n:]
		out = append(out, p)
	}
	return c, out
}

// FuzzAssemble feeds arbitrary packets through the reorder buffer and the
// frame assembler. Neither may panic, the reorderer must release packets
// in strictly increasing order and report every hole, and every frame
// marked complete must be exactly the released packets of one timestamp,
// contiguous from a frame-start packet to the one with the marker bit.
func FuzzAssemble(f *testing.F) {
	vp8Start := []byte{0x90, 0x80, 0x01, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}
	vp8Cont := []byte{0x80, 0x80, 0x01, 0xaa, 0xbb}
	f.Add(encodeFuzz(codec.VP8, []fuzzPacket{
		{seq: 65534, payload: vp8Start}, {seq: 65535, payload: vp8Cont}, {seq: 0, marker: true, payload: vp8Cont},
		{seq: 2, tsStep: 1, payload: vp8Start}, {seq: 1, tsStep: 0, marker: true, payload: vp8Cont},
		{seq: 3, tsStep: 0, marker: true, payload: vp8Cont}, {seq: 3, marker: true, payload: vp8Cont},
	}))
	f.Add(encodeFuzz(codec.H264, []fuzzPacket{
		{seq: 10, payload: []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}},
		{seq: 11, payload: []byte{0x7c, 0x85, 0x88, 0x80}}, {seq: 12, payload: []byte{0x7c, 0x05, 0x11}},
		{seq: 13, marker: true, payload: []byte{0x7c, 0x45, 0x22}},
		{seq: 15, tsStep: 1, marker: true, payload: []byte{0x41, 0x9a}},
	}))
	f.Add(encodeFuzz(codec.Opus, []fuzzPacket{
		{seq: 1, payload: []byte{0xfc, 1, 2}}, {seq: 3, tsStep: 1, payload: []byte{0xfc}},
		{seq: 2, tsStep: -1, wait: 7, payload: []byte{0xfc, 3}},
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, packets := decodeFuzz(data)
		released := map[uint64]*packet{}
		lostBefore := map[uint64]bool{}
		var (
			last      uint64
			haveLast  bool
			lastFrame uint64
			frames    []*frame
		)
		a := newAssembler(c, func(fr *frame) { frames = append(frames, fr) })
		r := newReorderer(8, time.Second, func(p *packet, lost uint64) {
			if haveLast {
				if p.ext <= last {
					t.Fatalf("released %d after %d", p.ext, last)
				}
				if p.ext-last-1 != lost {
					t.Fatalf("released %d after %d reporting %d lost", p.ext, last, lost)
				}
			}
			last, haveLast = p.ext, true
			cp := *p
			released[p.ext] = &cp
			lostBefore[p.ext] = lost > 0
			a.push(p, lost)
		})
		now := time.Unix(1e9, 0)
		ts := uint32(0)
		for _, fp := range packets {
			ts += uint32(int32(fp.tsStep) * 3000)
			now = now.Add(time.Duration(fp.wait) * 100 * time.Millisecond)
			r.push(packet{seq: fp.seq, ts: ts, marker: fp.marker, payload: fp.payload, arrival: now})
			r.advance(now)
		}
		r.flush()
		a.flush()
		for _, fr := range frames {
			if fr.firstExt > fr.lastExt || (lastFrame != 0 && fr.firstExt <= lastFrame) {
				t.Fatalf("frame %d-%d after one ending at %d", fr.firstExt, fr.lastExt, lastFrame)
			}
			lastFrame = fr.lastExt
			if !fr.complete {
				if fr.payloads != nil {
					t.Fatal("an incomplete frame has payloads")
				}
				continue
			}
			var want [][]byte
			for e := fr.firstExt; e <= fr.lastExt; e++ {
				p := released[e]
				if p == nil || (e > fr.firstExt && lostBefore[e]) {
					t.Fatalf("complete frame %d-%d has a hole at %d", fr.firstExt, fr.lastExt, e)
				}
				if p.ts != fr.ts {
					t.Fatalf("complete frame of ts %d holds packet %d of ts %d", fr.ts, e, p.ts)
				}
				if len(p.payload) > 0 {
					want = append(want, p.payload)
				}
			}
			first, end := released[fr.firstExt], released[fr.lastExt]
			if !end.marker && c.IsVideo() {
				t.Fatalf("complete frame %d-%d ends without the marker bit", fr.firstExt, fr.lastExt)
			}
			if info, err := codec.Inspect(c, first.payload); err != nil || !info.FrameStart {
				t.Fatalf("complete frame %d-%d does not begin with a frame start (%v)", fr.firstExt, fr.lastExt, err)
			}
			if len(want) != len(fr.payloads) {
				t.Fatalf("frame has %d payloads, its packets %d", len(fr.payloads), len(want))
			}
			for i := range want {
				if !bytes.Equal(want[i], fr.payloads[i]) {
					t.Fatalf("payload %d of frame %d-%d is not its packet's", i, fr.firstExt, fr.lastExt)
				}
			}
			// Depacketizing a complete frame may fail on a malformed
			// payload but must not panic.
			_, _ = depacketize(c, fr.payloads)
		}
	})
}
