package codec

import (
	"testing"
	"time"
)

type benchCase struct {
	name    string
	codec   Codec
	payload []byte
}

// benchCases are typical packets of each kind an SFU sees: the common
// case (inter-frame middle packets) and the expensive one (key frames
// whose headers get parsed for the size).
func benchCases() []benchCase {
	return []benchCase{
		{"VP8/keyframe", VP8, cat(hx("90 e0 8123 07"), vp8Key1280x720)},
		{"VP8/inter", VP8, cat(hx("90 80 8555"), vp8Inter)},
		{"VP8/middle", VP8, cat(hx("80 80 8555"), vp8Inter)},
		{"VP9/keyframe-ss", VP9, cat(hx("ae 05 00 00 18 0500 02d0 01 00"), vp9KeyP0_1280x720)},
		{"VP9/inter", VP9, cat(hx("dc 02 03 04"), vp9Inter)},
		{"AV1/keyframe", AV1, av1KeyframePacket()},
		{"AV1/inter", AV1, cat(hx("10"), av1InterFrameOBU)},
		{"AV1/middle", AV1, cat(hx("d0"), av1InterFrameOBU[1:])},
		{"H264/stap-a-sps-pps-idr", H264, h264StapSPSPPSIDR()},
		{"H264/sps-1080p", H264, h264SPS1920x1080High},
		{"H264/fu-a-start-idr", H264, cat(hx("7c 85"), h264IDRSlice[1:])},
		{"H264/fu-a-middle", H264, cat(hx("7c 05"), h264IDRSlice[1:])},
		{"H264/single-p", H264, h264NonIDRSlice},
		{"Opus/20ms", Opus, hx("fc 0102030405060708")},
	}
}

func BenchmarkInspect(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.payload)))
			for b.Loop() {
				_, _ = Inspect(bc.codec, bc.payload)
			}
		})
	}
}

func BenchmarkOpusPacketDuration(b *testing.B) {
	for _, bc := range []struct {
		name    string
		payload []byte
	}{
		{"code0", hx("fc 0102030405060708")},
		{"code3-vbr-padded", hx("43 c4 02 01 02 03 aa bbbb cccccc dddd 0000")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = OpusPacketDuration(bc.payload)
			}
		})
	}
}

func BenchmarkParseVideoOrientation(b *testing.B) {
	b.ReportAllocs()
	p := []byte{0x0d}
	for b.Loop() {
		_, _ = ParseVideoOrientation(p)
	}
}

func BenchmarkAbsSendTime(b *testing.B) {
	b.ReportAllocs()
	t := time.Unix(1700000000, 123456789)
	for b.Loop() {
		_ = AbsSendTime(t)
	}
}

func BenchmarkEndToEnd(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = EndToEnd(ExtTransportCC)
	}
}

func BenchmarkH264CompatibleFmtp(b *testing.B) {
	b.ReportAllocs()
	send := "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	recv := "profile-level-id=42e034; packetization-mode=1; level-asymmetry-allowed=1"
	for b.Loop() {
		_ = H264CompatibleFmtp(send, recv)
	}
}
