package replay

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestParseBound(t *testing.T) {
	day := time.Date(2026, 11, 21, 23, 59, 0, 0, time.UTC)
	start := base
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "", want: time.Time{}},
		{in: "30s", want: start.Add(30 * time.Second)},
		{in: "1m30s", want: start.Add(90 * time.Second)},
		{in: "90", want: start.Add(90 * time.Second)},
		{in: "2.5", want: start.Add(2500 * time.Millisecond)},
		{in: "2026-11-21T06:15:30Z", want: base.Add(30 * time.Second)},
		{in: "2026-11-21T07:15:30+01:00", want: base.Add(30 * time.Second)},
		{in: "06:15:30", want: base.Add(30 * time.Second)},
		{in: "06:15:30.25", want: base.Add(30*time.Second + 250*time.Millisecond)},
		{in: "06:16", want: base.Add(time.Minute)},
		{in: "-5s", wantErr: true},
		{in: "yesterday", wantErr: true},
		{in: "25:00:00", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := ParseBound(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBound(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := b.resolve(start, day, time.Time{}); !got.Equal(tt.want) {
				t.Errorf("ParseBound(%q) resolves to %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestReplayRange writes 2 s to 5 s of the demo session, the range given as
// offsets, as RFC 3339 times and as times of day: the video starts at the
// first key frame at or after --from, the audio at --from, both end
// before --to.
func TestReplayRange(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg", "mkvinfo")
	s := newSession(t, sessionOptions{})
	dir := writeDump(t, sdpFor("VP8"), s.packets, 0)
	// Key frames every 2 s (frame 0, 60, 120, ...).
	tests := []struct {
		name             string
		from, to         string
		out              string
		video, audio     int
		videoStart       float64 // s, in the output
		firstAt, lastMax time.Time
	}{
		{name: "offsets", from: "2s", to: "5s", out: "out.webm", video: 90, audio: 150},
		{name: "rfc3339", from: "2026-11-21T06:15:02Z", to: "2026-11-21T06:15:05Z", out: "out.webm", video: 90, audio: 150},
		{name: "time of day", from: "06:15:02", to: "06:15:05", out: "out.webm", video: 90, audio: 150},
		{name: "between key frames", from: "1.5s", to: "5s", out: "out.webm", video: 90, audio: 175, videoStart: 0.5},
		{name: "ivf", from: "1.5s", to: "5s", out: "out.ivf", video: 90},
		{name: "ogg", from: "1.5s", to: "5s", out: "out.ogg", audio: 175},
		{name: "to only", to: "1s", out: "out.ivf", video: 30},
		{name: "from only", from: "9s", out: "out.ogg", audio: 51},
		// No key frame after 9 s: the WebM has the audio alone.
		{name: "no key frame in range", from: "9s", out: "out.webm", audio: 51},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, err := ParseBound(tt.from)
			if err != nil {
				t.Fatal(err)
			}
			to, err := ParseBound(tt.to)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), tt.out)
			sum := replayTo(t, out, Options{Paths: []string{dir}, From: from, To: to})
			counts := probeCounts(t, out)
			if counts["video"] != tt.video || counts["audio"] != tt.audio {
				t.Fatalf("ffprobe %v, want video %d, audio %d", counts, tt.video, tt.audio)
			}
			decodeClean(t, out)
			if tt.video > 0 {
				if v := probeFloat(t, out, "v:0", "stream=start_time"); v < tt.videoStart-0.002 || v > tt.videoStart+0.002 {
					t.Errorf("video starts at %.3f s, want %.3f s", v, tt.videoStart)
				}
			}
			if strings.HasSuffix(tt.out, ".webm") {
				if n := strings.Count(tool(t, "mkvinfo", out), "Codec ID:"); n != min(tt.video, 1)+min(tt.audio, 1) {
					t.Errorf("%d tracks in the WebM", n)
				}
			}
			for _, st := range sum.Streams {
				if st.First < 0 || st.Last > 4*time.Second {
					t.Errorf("%s written from %v to %v", st.Kind, st.First, st.Last)
				}
			}
		})
	}
	if _, err := Run(t.Context(), Options{Paths: []string{dir}, Out: filepath.Join(t.TempDir(), "x.ivf"),
		From: Offset(5 * time.Second), To: Offset(2 * time.Second)}); err == nil {
		t.Error("--to before --from accepted")
	}
	if _, err := Run(t.Context(), Options{Paths: []string{dir}, Out: filepath.Join(t.TempDir(), "x.ivf"),
		From: Offset(time.Hour)}); err == nil || !strings.Contains(err.Error(), "no complete frame") {
		t.Errorf("a range after the capture: error %v", err)
	}
}

// TestReplayStreamSelection covers --stream and the combinations of
// streams and formats that cannot work, each with a message that says why.
func TestReplayStreamSelection(t *testing.T) {
	needTools(t, "mkvinfo")
	s := newSession(t, sessionOptions{videoFrames: 90})
	dir := writeDump(t, sdpFor("VP8"), s.packets, 0)
	videoOnly := writeDump(t, sdpFor("VP8"), newSession(t, sessionOptions{noAudio: true, videoFrames: 30}).packets, 0)
	// A capture whose SDP lacks the audio: its payload type is unknown.
	noOpus := strings.Replace(sdpFor("VP8"), "a=rtpmap:111 opus/48000/2\r\n", "", 1)
	unmapped := writeDump(t, noOpus, newSession(t, sessionOptions{noVideo: true}).packets, 0)

	tests := []struct {
		name    string
		paths   []string
		stream  string
		sdp     string
		out     string
		tracks  []string // mkvinfo codec IDs, for .webm
		wantErr string
	}{
		{name: "audio only webm", paths: []string{dir}, stream: "audio", out: "a.webm", tracks: []string{"A_OPUS"}},
		{name: "video only webm", paths: []string{dir}, stream: "video", out: "v.webm", tracks: []string{"V_VP8"}},
		{name: "ssrc hex", paths: []string{dir}, stream: "0x11110001", out: "v.ivf"},
		{name: "ssrc decimal", paths: []string{dir}, stream: "572653570", out: "a.ogg"},
		{name: "ssrc webm", paths: []string{dir}, stream: "0x22220002", out: "a.webm", tracks: []string{"A_OPUS"}},
		{name: "video-only capture to webm", paths: []string{videoOnly}, out: "v.webm", tracks: []string{"V_VP8"}},
		{name: "--sdp adds the codec", paths: []string{unmapped}, sdp: sdpFor("VP8"), out: "a.ogg"},

		{name: "audio ssrc to ivf", paths: []string{dir}, stream: "0x22220002", out: "x.ivf",
			wantErr: "x.ivf needs VP8/VP9/AV1 video; --stream 572653570 selected audio"},
		{name: "video to ogg", paths: []string{dir}, stream: "video", out: "x.ogg",
			wantErr: "x.ogg needs Opus audio; --stream video selected video"},
		{name: "vp8 to h264", paths: []string{dir}, out: "x.h264",
			wantErr: "x.h264 needs H264 video; the capture's video is VP8"},
		{name: "no audio", paths: []string{videoOnly}, out: "x.ogg",
			wantErr: "x.ogg needs Opus audio; the capture has no audio stream"},
		{name: "no such ssrc", paths: []string{dir}, stream: "12345", out: "x.ivf",
			wantErr: "no RTP stream with SSRC 12345"},
		{name: "bad stream", paths: []string{dir}, stream: "sideways", out: "x.ivf",
			wantErr: "--stream \"sideways\""},
		{name: "unknown format", paths: []string{dir}, out: "x.mp4",
			wantErr: "unknown output format \".mp4\""},
		{name: "unknown payload type", paths: []string{unmapped}, out: "x.ogg",
			wantErr: "x.ogg needs Opus audio: no codec for SSRC 572653570 (0x22220002, payload type 111): the capture has no SDP for its payload type; pass --sdp FILE"},
		{name: "unknown payload type by ssrc", paths: []string{unmapped}, stream: "0x22220002", out: "x.ogg",
			wantErr: "no codec for SSRC 572653570 (0x22220002, payload type 111)"},
		{name: "empty sdp", paths: []string{unmapped}, sdp: "v=0\r\n", out: "x.ogg",
			wantErr: "--sdp: no payload types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tt.out)
			sum, err := Run(t.Context(), Options{Paths: tt.paths, Stream: tt.stream, SDP: tt.sdp, Out: out})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Streams) != max(1, len(tt.tracks)) {
				t.Errorf("%d streams written: %+v", len(sum.Streams), sum.Streams)
			}
			if tt.tracks != nil {
				info := tool(t, "mkvinfo", out)
				if n := strings.Count(info, "Codec ID:"); n != len(tt.tracks) {
					t.Errorf("%d tracks, want %v:\n%s", n, tt.tracks, info)
				}
				for _, c := range tt.tracks {
					if !strings.Contains(info, "Codec ID: "+c) {
						t.Errorf("no %s track:\n%s", c, info)
					}
				}
			}
		})
	}
}

// TestReplayReconnect dumps two publisher sessions one after the other, the
// second with new SSRCs as after a reconnect: by default the first one is
// written (with a warning naming the second), and a range in the second
// one selects its streams.
func TestReplayReconnect(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg")
	first := newSession(t, sessionOptions{videoFrames: 90})
	second := newSession(t, sessionOptions{videoFrames: 90})
	const gap = 5 * time.Second // the second session starts 5 s after the first
	// 3 s of audio in each, like the video; no sender reports.
	short := func(p wire) bool { return p.rtcp || !p.video && p.frame >= 150 }
	packets := slices.DeleteFunc(slices.Clone(first.packets), short)
	for _, p := range second.packets {
		if short(p) {
			continue
		}
		var pk rtp.Packet
		if err := pk.Unmarshal(p.data); err != nil {
			t.Fatal(err)
		}
		pk.SSRC += 0x100
		b, err := pk.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, wire{at: p.at.Add(gap), data: b, video: p.video, frame: p.frame})
	}
	dir := writeDump(t, sdpFor("VP8"), packets, 0)

	out := filepath.Join(t.TempDir(), "out.ivf")
	sum := replayTo(t, out, Options{Paths: []string{dir}})
	if sum.Streams[0].SSRC != videoSSRC || sum.Streams[0].FramesWritten != 90 {
		t.Errorf("default: %+v, want the first session's 90 frames", sum.Streams[0])
	}
	if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "1 more video stream") {
		t.Errorf("warnings %q, want one about the second video stream", sum.Warnings)
	}
	out = filepath.Join(t.TempDir(), "out.webm")
	sum = replayTo(t, out, Options{Paths: []string{dir}, From: Offset(gap)})
	for _, st := range sum.Streams {
		if st.SSRC != videoSSRC+0x100 && st.SSRC != audioSSRC+0x100 {
			t.Errorf("from 5 s: SSRC %#x written, want the second session's", st.SSRC)
		}
	}
	if c := probeCounts(t, out); c["video"] != 90 || c["audio"] != 150 {
		t.Errorf("from 5 s: %v, want the second session's 90 frames and 150 packets", c)
	}
	decodeClean(t, out)
}
