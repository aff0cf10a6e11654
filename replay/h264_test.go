package replay

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// h264Clip encodes a 2 s, 30 fps baseline clip with an IDR every second.
func h264Clip(t *testing.T) string {
	t.Helper()
	needTools(t, "ffmpeg", "ffprobe")
	path := filepath.Join(t.TempDir(), "clip.h264")
	tool(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2",
		"-c:v", "libx264", "-profile:v", "baseline", "-g", "30", "-bsf:v", "h264_mp4toannexb", "-f", "h264", path)
	return path
}

// nals lists the NAL units of an Annex B stream, leaving out what an RTP
// sender does not send (access unit delimiters and filler data, RFC 6184
// §5.3 / pion's payloader).
func nals(b []byte) [][]byte {
	var out [][]byte
	annexBNALs(b, func(n []byte) {
		if t := n[0] & 0x1f; t != 9 && t != 12 {
			out = append(out, n)
		}
	})
	return out
}

// TestReplayH264 packetizes an x264 clip (STAP-A parameter sets, FU-A
// slices, RFC 6184) and replays it to Annex B: every access unit comes back
// with the NAL units sent, ffmpeg decodes it cleanly; a range that starts
// at the second IDR still starts with the parameter sets.
func TestReplayH264(t *testing.T) {
	clip := h264Clip(t)
	s := newSession(t, sessionOptions{videoFile: clip, h264: true})
	if len(s.video) != 60 || !s.keyframes[0] || !s.keyframes[30] {
		t.Fatalf("clip: %d access units, keyframes at 0: %v, 30: %v", len(s.video), s.keyframes[0], s.keyframes[30])
	}
	dir := writeDump(t, sdpFor("H264"), s.packets, 0)

	out := filepath.Join(t.TempDir(), "out.h264")
	sum := replayTo(t, out, Options{Paths: []string{dir}})
	if got := probeCounts(t, out)["video"]; got != 60 || sum.Streams[0].FramesWritten != 60 {
		t.Fatalf("ffprobe: %d frames, summary %+v; want 60", got, sum.Streams[0])
	}
	decodeClean(t, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var src []byte
	for _, smp := range s.video {
		src = append(src, smp.Data...)
	}
	got, want := nals(b), nals(src)
	if len(got) != len(want) {
		t.Fatalf("%d NAL units, source has %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("NAL unit %d (type %d) differs", i, want[i][0]&0x1f)
		}
	}

	// From 0.5 s: the first IDR at or after it is frame 30.
	out = filepath.Join(t.TempDir(), "range.h264")
	sum = replayTo(t, out, Options{Paths: []string{dir}, From: Offset(500 * time.Millisecond)})
	if got := probeCounts(t, out)["video"]; got != 30 || sum.Streams[0].FramesWritten != 30 {
		t.Fatalf("from 0.5 s: %d frames, summary %+v; want 30", got, sum.Streams[0])
	}
	decodeClean(t, out)
	b, _ = os.ReadFile(out)
	if first := nals(b); len(first) < 2 || first[0][0]&0x1f != 7 || first[1][0]&0x1f != 8 {
		t.Errorf("range output does not start with SPS and PPS")
	}

	// Wrong container: H.264 cannot go into IVF or WebM.
	for _, name := range []string{"out.ivf", "out.webm"} {
		_, err := Run(t.Context(), Options{Paths: []string{dir}, Out: filepath.Join(t.TempDir(), name)})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(name+" needs VP8/VP9/AV1 video; the capture's video is H264")) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
