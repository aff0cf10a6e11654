package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/media"
	"github.com/bcastdev/bcast/replay"
)

const replayTestSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\n"

// replayTestDump dumps the first two seconds of the demo clip as a
// streamer's session.
func replayTestDump(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	store, err := dump.NewStore(dump.Options{Root: root, Queue: 1 << 14})
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.NewWriter(dump.Leg{Stream: "live", Name: dump.IngestLeg, SDP: replayTestSDP})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC)
	type sent struct {
		at   time.Time
		data []byte
	}
	var all []sent
	for _, tr := range []struct {
		file  string
		pl    rtp.Payloader
		pt    uint8
		rate  uint32
		count int
	}{
		{"clip.ivf", &codecs.VP8Payloader{EnablePictureID: true}, 96, 90000, 60},
		{"clip.ogg", &codecs.OpusPayloader{}, 111, 48000, 100},
	} {
		src, err := media.Open(filepath.Join("..", "..", "demo", tr.file))
		if err != nil {
			t.Fatal(err)
		}
		p := rtp.NewPacketizerWithOptions(1200, tr.pl, rtp.NewRandomSequencer(), tr.rate,
			rtp.WithSSRC(uint32(tr.pt)<<16|1), rtp.WithPayloadType(tr.pt))
		var at time.Duration
		for range tr.count {
			s, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			samples := uint32((int64(at+s.Duration)*int64(tr.rate)+5e8)/1e9 - (int64(at)*int64(tr.rate)+5e8)/1e9)
			for _, pk := range p.Packetize(s.Data, samples) {
				b, _ := pk.Marshal()
				all = append(all, sent{start.Add(at), b})
			}
			at += s.Duration
		}
		src.Close()
	}
	// Interleave by time, as a capture has them.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].at.Before(all[j-1].at); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	for _, s := range all {
		w.WriteRTP(dump.FromPeer, s.at, s.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "live")
}

func runRoot(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRoot()
	var o, e bytes.Buffer
	root.SetOut(&o)
	root.SetErr(&e)
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return o.String(), e.String(), err
}

// TestReplayCommand runs `bcast replay` on a dump: the WebM holds both
// streams, the summary goes to stderr and, with --json, to stdout.
func TestReplayCommand(t *testing.T) {
	dir := replayTestDump(t)
	out := filepath.Join(t.TempDir(), "out.webm")
	stdout, stderr, err := runRoot(t, "replay", "--to", "1s", "--json", "-o", out, dir)
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	for _, want := range []string{"wrote " + out + " (WebM)", "video SSRC", "30 frames written", "audio SSRC", "50 packets written"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	var sum replay.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || len(sum.Streams) != 2 {
		t.Fatalf("--json: %v, %d streams:\n%s", err, len(sum.Streams), stdout)
	}
	if _, err := exec.LookPath("ffprobe"); err == nil {
		probe, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames",
			"-of", "csv=p=0", out).CombinedOutput()
		if err != nil || strings.TrimSpace(string(probe)) != "vp8,30\nopus,50" {
			t.Errorf("ffprobe: %v\n%s", err, probe)
		}
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"replay", dir}, `"out" not set`},
		{[]string{"replay", "--from", "soon", "-o", out, dir}, "--from: time \"soon\""},
		{[]string{"replay", "--sdp", filepath.Join(dir, "missing.sdp"), "-o", out, dir}, "--sdp:"},
		{[]string{"replay", "-o", filepath.Join(t.TempDir(), "x.h264"), dir}, "x.h264 needs H264 video; the capture's video is VP8"},
	}
	for _, tt := range tests {
		_, stderr, err := runRoot(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q\n%s", tt.args, err, tt.want, stderr)
		}
	}
}
