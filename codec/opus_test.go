package codec

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// opusConfigDurations is RFC 6716 §3.1 Table 2, written out rather than
// computed so that the test does not share the implementation's formula.
var opusConfigDurations = [32]time.Duration{
	// SILK-only NB, MB, WB: 10, 20, 40, 60 ms
	10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond,
	// Hybrid SWB, FB: 10, 20 ms
	10 * time.Millisecond, 20 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond,
	// CELT-only NB, WB, SWB, FB: 2.5, 5, 10, 20 ms
	2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
}

// TestOpusPacketDurationAllConfigs runs every TOC configuration, both
// stereo flags and every frame count code, including code 3 up to and
// past the 120 ms limit.
func TestOpusPacketDurationAllConfigs(t *testing.T) {
	for config := 0; config < 32; config++ {
		frame := opusConfigDurations[config]
		for _, stereo := range []byte{0, 1} {
			toc := byte(config)<<3 | stereo<<2
			check := func(name string, p []byte, want time.Duration, wantErr error) {
				t.Helper()
				got, err := OpusPacketDuration(p)
				if !errors.Is(err, wantErr) || got != want {
					t.Errorf("config %d s=%d %s: OpusPacketDuration(% x) = %v, %v; want %v, %v",
						config, stereo, name, p, got, err, want, wantErr)
				}
			}
			check("code 0", []byte{toc | 0, 0xaa, 0xbb}, frame, nil)
			check("code 0 DTX", []byte{toc | 0}, frame, nil)
			check("code 1", []byte{toc | 1, 0xaa, 0xbb}, 2*frame, nil)
			check("code 2", []byte{toc | 2, 1, 0xaa, 0xbb, 0xcc}, 2*frame, nil)
			for m := 1; m <= 48; m++ {
				p := cat([]byte{toc | 3, byte(m)}, make([]byte, m))
				if d := time.Duration(m) * frame; d <= 120*time.Millisecond {
					check(fmt.Sprintf("code 3 M=%d", m), p, d, nil)
				} else {
					check(fmt.Sprintf("code 3 M=%d", m), p, 0, ErrMalformed)
				}
			}
		}
	}
}

func TestOpusPacketDuration(t *testing.T) {
	const (
		ms = time.Millisecond
	)
	big := make([]byte, 1275)
	for _, tc := range []struct {
		name    string
		payload []byte
		want    time.Duration
		err     error
	}{
		{"empty", nil, 0, ErrTruncated},
		{"code 0 CELT FB 20ms (libwebrtc default)", hx("fc fffe"), 20 * ms, nil},
		{"code 0 hybrid FB 20ms", hx("78 0102"), 20 * ms, nil},
		{"code 0 largest frame", cat(hx("fc"), big), 20 * ms, nil},
		{"code 0 frame over 1275 bytes", cat(hx("fc 00"), big), 0, ErrMalformed},
		{"code 1 SILK WB 60ms x2 = 120ms", hx("5d 0102"), 120 * ms, nil},
		{"code 1 odd length", hx("fd 010203"), 0, ErrMalformed},
		{"code 1 empty frames", hx("fd"), 40 * ms, nil},
		{"code 1 frames over 1275", cat(hx("fd 0000"), big, big), 0, ErrMalformed},
		{"code 2 missing length", hx("fe"), 0, ErrTruncated},
		{"code 2 one-byte length", hx("fe 02 aabb cc"), 40 * ms, nil},
		{"code 2 two-byte length", cat(hx("fe fc 01"), make([]byte, 256)), 40 * ms, nil},
		{"code 2 two-byte length cut", hx("fe fc"), 0, ErrTruncated},
		{"code 2 length past end", hx("fe 05 aabb"), 0, ErrMalformed},
		{"code 2 second frame over 1275", cat(hx("fe 00"), big, hx("00")), 0, ErrMalformed},
		{"code 3 no count byte", hx("ff"), 0, ErrTruncated},
		{"code 3 M=0", hx("ff 00"), 0, ErrMalformed},
		{"code 3 CELT 2.5ms x48 = 120ms", cat(hx("e3 30"), make([]byte, 48)), 120 * ms, nil},
		{"code 3 CELT 2.5ms x49", cat(hx("e3 31"), make([]byte, 49)), 0, ErrMalformed},
		{"code 3 SILK 60ms x2", hx("1b 02 aabb"), 120 * ms, nil},
		{"code 3 SILK 60ms x3", hx("1b 03 aabbcc"), 0, ErrMalformed},
		{"code 3 CBR not divisible", hx("fb 03 aabb"), 0, ErrMalformed},
		{"code 3 CBR with padding", hx("fb 43 02 aabbcc 0000"), 60 * ms, nil},
		{"code 3 CBR padding 255 chain", cat(hx("fb 42 ff 01 aabb"), make([]byte, 255)), 40 * ms, nil},
		{"code 3 padding length cut", hx("fb 42 ff"), 0, ErrTruncated},
		{"code 3 padding past end", hx("fb 42 09 aabb"), 0, ErrMalformed},
		{"code 3 CBR frames over 1275", cat(hx("fb 02"), big, big, hx("0000")), 0, ErrMalformed},
		{"code 3 VBR", hx("fb 83 01 02 aa bbbb cccccc"), 60 * ms, nil},
		{"code 3 VBR padded", hx("43 c4 02 01 02 03 aa bbbb cccccc dddd 0000"), 40 * ms, nil},
		{"code 3 VBR lengths past end", hx("fb 82 09 aa"), 0, ErrMalformed},
		{"code 3 VBR length cut", hx("fb 83 01"), 0, ErrTruncated},
		{"code 3 VBR last frame over 1275", cat(hx("fb 82 00"), big, hx("00")), 0, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OpusPacketDuration(tc.payload)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("OpusPacketDuration(% x) = %v, %v; want %v, %v", tc.payload, got, err, tc.want, tc.err)
			}
		})
	}
}
