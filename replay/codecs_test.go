package replay

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// TestReplayVP9AV1 encodes short VP9 and AV1 clips with ffmpeg, packetizes
// them with pion's payloaders (RFC 9628, AV1 RTP), and replays them to IVF
// and WebM: every frame back as encoded, a clean decode, and for AV1 the
// av1C record in the WebM track.
func TestReplayVP9AV1(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe", "mkvinfo")
	tests := []struct {
		name      string
		encoder   []string
		payloader rtp.Payloader
		rtpmap    string
		codecID   string
	}{
		{name: "VP9", encoder: []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "15", "-lag-in-frames", "0"},
			payloader: &codecs.VP9Payloader{}, rtpmap: "VP9/90000", codecID: "V_VP9"},
		{name: "AV1", encoder: []string{"-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8", "-g", "15", "-lag-in-frames", "0"},
			payloader: &codecs.AV1Payloader{}, rtpmap: "AV1/90000", codecID: "V_AV1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clip := filepath.Join(t.TempDir(), "clip.ivf")
			args := append([]string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "30"}, tt.encoder...)
			tool(t, "ffmpeg", append(args, clip)...)
			src := loadSamples(t, clip)
			p := rtp.NewPacketizerWithOptions(1000, tt.payloader, rtp.NewFixedSequencer(100), 90000,
				rtp.WithSSRC(videoSSRC), rtp.WithPayloadType(ptVP8))
			var packets []wire
			for i, smp := range src {
				for _, pk := range p.Packetize(smp.Data, 3000) {
					b, err := pk.Marshal()
					if err != nil {
						t.Fatal(err)
					}
					packets = append(packets, wire{at: base.Add(ticksToDuration(i * 3000)), data: b, video: true, frame: i})
				}
			}
			sdp := strings.Replace(sdpFor("VP8"), "VP8/90000", tt.rtpmap, 1)
			dir := writeDump(t, sdp, packets, 0)
			for _, name := range []string{"out.ivf", "out.webm"} {
				out := filepath.Join(t.TempDir(), name)
				sum := replayTo(t, out, Options{Paths: []string{dir}})
				if n := probeCounts(t, out)["video"]; n != len(src) || sum.Streams[0].FramesWritten != len(src) {
					t.Fatalf("%s: %d frames (summary %+v), want %d", name, n, sum.Streams[0], len(src))
				}
				decodeClean(t, out)
				if name == "out.ivf" {
					frames, _ := ivfFrames(t, out)
					for i := range frames {
						if !bytes.Equal(frames[i], src[i].Data) {
							t.Errorf("frame %d differs from the source (%d vs %d bytes)", i, len(frames[i]), len(src[i].Data))
							break
						}
					}
					continue
				}
				info := tool(t, "mkvinfo", out)
				if !strings.Contains(info, "Codec ID: "+tt.codecID) || !strings.Contains(info, "Pixel width: 320") {
					t.Errorf("mkvinfo:\n%s", info)
				}
				if tt.name == "AV1" && !strings.Contains(info, "Codec's private data") {
					t.Errorf("no av1C CodecPrivate:\n%s", info)
				}
			}
		})
	}
}

func ticksToDuration(ticks int) time.Duration { return time.Duration(int64(ticks) * 1e9 / 90000) }
