package replay

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReplayFormats replays a dump of the demo clip (VP8 + Opus, split
// over several segments, audio arriving 200 ms after the video it belongs
// with) into each format and checks the files with ffprobe, ffmpeg and
// mkvinfo: every frame is there, decodes without a message, and the IVF
// frames are the source's bytes.
func TestReplayFormats(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg", "mkvinfo")
	s := newSession(t, sessionOptions{audioDelay: 200 * time.Millisecond})
	dir := writeDump(t, sdpFor("VP8"), s.packets, 128<<10)
	if files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng")); len(files) < 2 {
		t.Fatalf("%d segments, want several so that joining is tested", len(files))
	}
	tests := []struct {
		out        string
		video      int
		audio      int
		wantTracks []string
	}{
		{out: "out.ivf", video: len(s.video)},
		{out: "out.ogg", audio: len(s.audio)},
		{out: "out.opus", audio: len(s.audio)},
		{out: "out.webm", video: len(s.video), audio: len(s.audio), wantTracks: []string{"V_VP8", "A_OPUS"}},
	}
	for _, tt := range tests {
		t.Run(tt.out, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tt.out)
			sum := replayTo(t, out, Options{Paths: []string{dir}})
			counts := probeCounts(t, out)
			if counts["video"] != tt.video || counts["audio"] != tt.audio {
				t.Fatalf("ffprobe counts %v, want video %d audio %d", counts, tt.video, tt.audio)
			}
			decodeClean(t, out)
			written := map[string]int{}
			for _, st := range sum.Streams {
				written[st.Kind] = st.FramesWritten
				if st.FramesDropped+st.FramesSkipped != 0 || st.Lost != 0 || st.Filled != 0 {
					t.Errorf("stream %+v: want no loss", st)
				}
			}
			if written["video"] != tt.video || written["audio"] != tt.audio {
				t.Errorf("summary %+v, want video %d audio %d", sum.Streams, tt.video, tt.audio)
			}
			if strings.HasSuffix(tt.out, ".ivf") {
				frames, _ := ivfFrames(t, out)
				for i, f := range frames {
					if !bytes.Equal(f, s.video[i].Data) {
						t.Fatalf("frame %d differs from the source", i)
					}
				}
			}
			if tt.wantTracks != nil {
				info := tool(t, "mkvinfo", out)
				for _, c := range tt.wantTracks {
					if !strings.Contains(info, "Codec ID: "+c) {
						t.Errorf("mkvinfo shows no %s track:\n%s", c, info)
					}
				}
				if sum.Sync != "rtcp" {
					t.Errorf("sync %q, want rtcp (both streams have sender reports)", sum.Sync)
				}
				// Sender reports put the audio back with its video
				// although it arrived 200 ms later.
				v := probeFloat(t, out, "v:0", "stream=start_time")
				a := probeFloat(t, out, "a:0", "stream=start_time")
				if math.Abs(v-a) > 0.025 {
					t.Errorf("video starts at %.3f s, audio at %.3f s: out of sync", v, a)
				}
				d := probeFloat(t, out, "", "format=duration")
				if d < 9.9 || d > 10.1 {
					t.Errorf("duration %.3f s, want 10 s", d)
				}
			}
		})
	}
}

// TestReplayWebMStreaming writes the WebM into a pipe, where nothing can
// be patched afterwards: segment and clusters keep their unknown sizes,
// there are no Cues, and the file still plays in full — as does any prefix
// of it, which is what a replay killed half-way leaves.
func TestReplayWebMStreaming(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg", "mkvinfo", "mkfifo", "cat")
	s := newSession(t, sessionOptions{})
	dir := writeDump(t, sdpFor("VP8"), s.packets, 0)
	tmp := t.TempDir()
	fifo, copied := filepath.Join(tmp, "pipe.webm"), filepath.Join(tmp, "copy.webm")
	tool(t, "mkfifo", fifo)
	cat := exec.Command("sh", "-c", `exec cat "$0" > "$1"`, fifo, copied)
	if err := cat.Start(); err != nil {
		t.Fatal(err)
	}
	replayTo(t, fifo, Options{Paths: []string{dir}})
	if err := cat.Wait(); err != nil {
		t.Fatal(err)
	}
	if c := probeCounts(t, copied); c["video"] != len(s.video) || c["audio"] != len(s.audio) {
		t.Fatalf("ffprobe %v", c)
	}
	decodeClean(t, copied)
	info := tool(t, "mkvinfo", copied)
	if !strings.Contains(info, "Segment: size unknown") || !strings.Contains(info, "Cluster") || strings.Contains(info, "Cues") {
		t.Errorf("want an unknown-size segment of clusters without cues:\n%s", info)
	}

	b, err := os.ReadFile(copied)
	if err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(tmp, "torn.webm")
	if err := os.WriteFile(torn, b[:len(b)*6/10], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", torn, "-f", "null", "-").CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.Contains(line, "File ended prematurely") {
			t.Errorf("decoding a torn file: %v: %s", err, line)
		}
	}
	if c := probeCounts(t, torn); c["video"] < len(s.video)/2 || c["audio"] < len(s.audio)/2 {
		t.Errorf("torn file: %v frames", c)
	}
}

// TestReplayArrivalSync: without sender reports the streams are placed by
// the arrival of their first packets, so audio that arrived 200 ms late
// starts 200 ms into the WebM.
func TestReplayArrivalSync(t *testing.T) {
	needTools(t, "ffprobe")
	s := newSession(t, sessionOptions{audioDelay: 200 * time.Millisecond, noSR: true, videoFrames: 60})
	dir := writeDump(t, sdpFor("VP8"), s.packets, 0)
	out := filepath.Join(t.TempDir(), "out.webm")
	sum := replayTo(t, out, Options{Paths: []string{dir}})
	if sum.Sync != "arrival" {
		t.Errorf("sync %q, want arrival", sum.Sync)
	}
	v := probeFloat(t, out, "v:0", "stream=start_time")
	a := probeFloat(t, out, "a:0", "stream=start_time")
	if d := a - v; d < 0.180 || d > 0.210 {
		t.Errorf("audio starts %.3f s after the video, want 0.2 s (its arrival)", d)
	}
}
