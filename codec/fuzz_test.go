package codec

import (
	"bytes"
	"testing"
	"time"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/; plain `go test`
// runs them as regression tests, `go test -fuzz=FuzzInspect` mutates them.

// FuzzInspect feeds arbitrary payloads to every codec's parser. The codec
// is chosen by the first argument so that one corpus covers all of them.
func FuzzInspect(f *testing.F) {
	f.Fuzz(func(t *testing.T, codec uint8, payload []byte) {
		c := Codec(int(codec) % int(Opus+1))
		orig := bytes.Clone(payload)
		info, err := Inspect(c, payload)
		if !bytes.Equal(payload, orig) {
			t.Fatalf("Inspect(%v) modified its input", c)
		}
		if err != nil {
			if info != (FrameInfo{}) {
				t.Fatalf("Inspect(%v, % x) = %+v with error %v; want zero FrameInfo", c, payload, info, err)
			}
			return
		}
		if c == Unknown {
			t.Fatalf("Inspect(Unknown) returned no error")
		}
		if info.Keyframe && !info.FrameStart {
			t.Fatalf("Inspect(%v, % x) = %+v: Keyframe without FrameStart", c, payload, info)
		}
		if info.Width < 0 || info.Height < 0 || (info.Width == 0) != (info.Height == 0) {
			t.Fatalf("Inspect(%v, % x) = %+v: bad size", c, payload, info)
		}
		// Largest sizes the headers can code: 16-bit VP9/AV1 fields,
		// 14-bit VP8 fields, 2^14 MBs for H.264 (a parser bound).
		if info.Width > 1<<18 || info.Height > 1<<19 {
			t.Fatalf("Inspect(%v, % x) = %+v: size out of range", c, payload, info)
		}
		if again, _ := Inspect(c, payload); again != info {
			t.Fatalf("Inspect(%v, % x) not deterministic: %+v then %+v", c, payload, info, again)
		}
	})
}

func FuzzOpusPacketDuration(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, err := OpusPacketDuration(payload)
		if err != nil {
			if d != 0 {
				t.Fatalf("OpusPacketDuration(% x) = %v with error %v", payload, d, err)
			}
			return
		}
		if d <= 0 || d > 120*time.Millisecond || d%(2500*time.Microsecond) != 0 {
			t.Fatalf("OpusPacketDuration(% x) = %v: out of range", payload, d)
		}
		frame := opusConfigDurations[payload[0]>>3]
		if d%frame != 0 {
			t.Fatalf("OpusPacketDuration(% x) = %v: not a multiple of the %v frame", payload, d, frame)
		}
		switch payload[0] & 3 {
		case 0:
			if d != frame {
				t.Fatalf("OpusPacketDuration(% x) = %v: code 0 is one frame of %v", payload, d, frame)
			}
		case 1, 2:
			if d != 2*frame {
				t.Fatalf("OpusPacketDuration(% x) = %v: codes 1 and 2 are two frames of %v", payload, d, frame)
			}
		case 3:
			if m := time.Duration(payload[1] & 0x3f); d != m*frame {
				t.Fatalf("OpusPacketDuration(% x) = %v: want %d frames of %v", payload, d, m, frame)
			}
		}
	})
}

func FuzzParseVideoOrientation(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ParseVideoOrientation(b)
		if err != nil {
			if o != (Orientation{}) {
				t.Fatalf("ParseVideoOrientation(% x) = %+v with error %v", b, o, err)
			}
			return
		}
		if len(b) != 1 {
			t.Fatalf("ParseVideoOrientation(% x) accepted %d bytes", b, len(b))
		}
		switch o.Rotation {
		case 0, 90, 180, 270:
		default:
			t.Fatalf("ParseVideoOrientation(% x) rotation %d", b, o.Rotation)
		}
		// Re-encode per 3GPP TS 26.114 §7.4.5 and compare.
		v := byte(o.Rotation / 90)
		if o.Flip {
			v |= 0x04
		}
		if o.BackCamera {
			v |= 0x08
		}
		if v != b[0]&0x0f {
			t.Fatalf("ParseVideoOrientation(% x) = %+v re-encodes to %#x", b, o, v)
		}
	})
}
