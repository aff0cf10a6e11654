package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/media"
)

const (
	videoSSRC = 0x1111_0001
	audioSSRC = 0x2222_0002
	rtxSSRC   = 0x1111_0003
	ptVP8     = 96
	ptRTX     = 97
	ptH264    = 102
	ptOpus    = 111
)

// base is the sender's (and, for arrival, the capture's) clock at the first
// packet: a whole second, so that "06:15:02" means 2 s in.
var base = time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC)

// sdpFor is a WHIP answer as bcast stores it: video with RTX, Opus audio.
func sdpFor(videoCodec string) string {
	video := "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" +
		"a=mid:0\r\n" +
		"a=rtpmap:96 VP8/90000\r\n" +
		"a=rtpmap:97 rtx/90000\r\n" +
		"a=fmtp:97 apt=96\r\n"
	if videoCodec == "H264" {
		video = "m=video 9 UDP/TLS/RTP/SAVPF 102 97\r\n" +
			"a=mid:0\r\n" +
			"a=rtpmap:102 H264/90000\r\n" +
			"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n" +
			"a=rtpmap:97 rtx/90000\r\n" +
			"a=fmtp:97 apt=102\r\n"
	}
	return "v=0\r\n" +
		"o=- 1 2 IN IP4 127.0.0.1\r\n" +
		"s=-\r\n" +
		"t=0 0\r\n" +
		"a=group:BUNDLE 0 1\r\n" +
		video +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
		"a=mid:1\r\n" +
		"a=rtpmap:111 opus/48000/2\r\n" +
		"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
}

// wire is one datagram of a synthesized session.
type wire struct {
	at    time.Time
	data  []byte
	rtcp  bool
	video bool
	frame int // index of the video frame or audio packet
	seq   uint16
	ts    uint32
}

// session is a synthesized publisher session: the source samples and the
// packets that carry them.
type session struct {
	video, audio []media.Sample
	keyframes    []bool // per video sample
	packets      []wire
	videoTS0     uint32
	audioTS0     uint32
}

type sessionOptions struct {
	videoFile   string // default demo/clip.ivf; "" with noVideo
	noVideo     bool
	noAudio     bool
	h264        bool
	mtu         uint16 // default 1200
	audioDelay  time.Duration
	noSR        bool
	videoFrames int // limit (0: all)
}

func loadSamples(t testing.TB, path string) []media.Sample {
	t.Helper()
	src, err := media.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []media.Sample
	for {
		s, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
}

// ntp is the 64-bit NTP timestamp of t (RFC 5905 §6).
func ntp(t time.Time) uint64 {
	return uint64(t.Unix()+2208988800)<<32 | uint64(t.Nanosecond())<<32/1e9
}

// newSession packetizes the demo clip (VP8 or a generated H.264 clip, and
// Opus) as a WebRTC sender would, with sequence numbers and timestamps that
// wrap during the clip, and sender reports at 1 s and 5 s.
func newSession(t testing.TB, o sessionOptions) *session {
	t.Helper()
	if o.mtu == 0 {
		o.mtu = 1200
	}
	s := &session{videoTS0: 0xffff_0000, audioTS0: 0xfffe_0000}
	root := filepath.Join("..", "demo")
	if !o.noVideo {
		path := o.videoFile
		if path == "" {
			path = filepath.Join(root, "clip.ivf")
		}
		s.video = loadSamples(t, path)
		if o.videoFrames > 0 {
			s.video = s.video[:o.videoFrames]
		}
		var payloader rtp.Payloader = &codecs.VP8Payloader{EnablePictureID: true}
		pt := uint8(ptVP8)
		if o.h264 {
			payloader, pt = &codecs.H264Payloader{}, ptH264
		}
		p := rtp.NewPacketizerWithOptions(o.mtu, payloader, rtp.NewFixedSequencer(65400), 90000,
			rtp.WithSSRC(videoSSRC), rtp.WithPayloadType(pt), rtp.WithTimestamp(s.videoTS0))
		var at time.Duration
		for i, smp := range s.video {
			if o.h264 {
				s.keyframes = append(s.keyframes, h264IDR(smp.Data))
			} else {
				s.keyframes = append(s.keyframes, smp.Data[0]&1 == 0)
			}
			// Timestamps from the running time, not per-frame
			// rounding: 1/30 s is not a whole number of 90 kHz ticks.
			samples := uint32(ticks(at+smp.Duration, 90000) - ticks(at, 90000))
			for j, pk := range p.Packetize(smp.Data, samples) {
				b, err := pk.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				s.packets = append(s.packets, wire{at: base.Add(at + time.Duration(j)*100*time.Microsecond), data: b,
					video: true, frame: i, seq: pk.SequenceNumber, ts: pk.Timestamp})
			}
			at += smp.Duration
		}
	}
	if !o.noAudio {
		s.audio = loadSamples(t, filepath.Join(root, "clip.ogg"))
		p := rtp.NewPacketizerWithOptions(1200, &codecs.OpusPayloader{}, rtp.NewFixedSequencer(65500), 48000,
			rtp.WithSSRC(audioSSRC), rtp.WithPayloadType(ptOpus), rtp.WithTimestamp(s.audioTS0))
		var at time.Duration
		for i, smp := range s.audio {
			for _, pk := range p.Packetize(smp.Data, uint32(ticks(at+smp.Duration, 48000)-ticks(at, 48000))) {
				b, err := pk.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				s.packets = append(s.packets, wire{at: base.Add(o.audioDelay + at), data: b, frame: i, seq: pk.SequenceNumber, ts: pk.Timestamp})
			}
			at += smp.Duration
		}
	}
	if !o.noSR {
		for _, sec := range []time.Duration{time.Second, 5 * time.Second} {
			if !o.noVideo {
				s.packets = append(s.packets, wire{at: base.Add(sec), rtcp: true, video: true,
					data: srPacket(t, videoSSRC, base.Add(sec), s.videoTS0+uint32(sec*90000/time.Second))})
			}
			if !o.noAudio {
				s.packets = append(s.packets, wire{at: base.Add(sec + o.audioDelay), rtcp: true,
					data: srPacket(t, audioSSRC, base.Add(sec), s.audioTS0+uint32(sec*48000/time.Second))})
			}
		}
	}
	sort.SliceStable(s.packets, func(i, j int) bool { return s.packets[i].at.Before(s.packets[j].at) })
	return s
}

func ticks(d time.Duration, rate int64) int64 {
	return (int64(d)*rate + int64(time.Second)/2) / int64(time.Second)
}

func srPacket(t testing.TB, ssrc uint32, at time.Time, ts uint32) []byte {
	t.Helper()
	b, err := (&rtcp.SenderReport{SSRC: ssrc, NTPTime: ntp(at), RTPTime: ts, PacketCount: 1, OctetCount: 1}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// h264IDR reports whether an Annex B access unit holds an IDR slice.
func h264IDR(au []byte) bool {
	idr := false
	annexBNALs(au, func(nal []byte) { idr = idr || nal[0]&0x1f == 5 })
	return idr
}

// writeDump writes packets with the dump package as the server does and
// returns the stream directory.
func writeDump(t testing.TB, sdp string, packets []wire, segmentBytes int64) string {
	t.Helper()
	root := t.TempDir()
	store, err := dump.NewStore(dump.Options{Root: root, Queue: 1 << 16, SegmentBytes: segmentBytes})
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.NewWriter(dump.Leg{Stream: "live", Name: dump.IngestLeg, SDP: sdp})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets {
		if p.rtcp {
			w.WriteRTCP(dump.FromPeer, p.at, p.data)
		} else {
			w.WriteRTP(dump.FromPeer, p.at, p.data)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.DroppedQueue+st.DroppedError != 0 || st.Packets != uint64(len(packets)) {
		t.Fatalf("dump writer: %+v, want %d packets and no drops", st, len(packets))
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "live")
}

func replayTo(t testing.TB, out string, opts Options) *Summary {
	t.Helper()
	opts.Out = out
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run(%v): %v", opts.Paths, err)
	}
	return sum
}

func needTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not installed (apt-get install ffmpeg mkvtoolnix tshark): %v", n, err)
		}
	}
}

func tool(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// toolStdout runs a tool and returns its standard output alone.
func toolStdout(t testing.TB, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// probeCounts decodes the file and counts frames (or, for audio,
// packets) per stream, in stream order.
func probeCounts(t testing.TB, file string) map[string]int {
	t.Helper()
	out := toolStdout(t, "ffprobe", "-v", "error", "-count_frames", "-count_packets",
		"-show_entries", "stream=codec_type,nb_read_frames,nb_read_packets", "-of", "csv=p=0", file)
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) < 3 {
			t.Fatalf("ffprobe line %q", line)
		}
		field := f[1] // frames
		if f[0] == "audio" {
			field = f[2] // packets: an Opus packet is the unit written
		}
		n, err := strconv.Atoi(field)
		if err != nil {
			t.Fatalf("ffprobe line %q: %v", line, err)
		}
		counts[f[0]] = n
	}
	return counts
}

// probeFloat returns one numeric ffprobe field of the first stream of a
// type ("v" or "a"), or of the format.
func probeFloat(t testing.TB, file, sel, entry string) float64 {
	t.Helper()
	args := []string{"-v", "error", "-show_entries", entry, "-of", "csv=p=0"}
	if sel != "" {
		args = append(args, "-select_streams", sel)
	}
	out := strings.TrimSpace(toolStdout(t, "ffprobe", append(args, file)...))
	v, err := strconv.ParseFloat(strings.TrimSuffix(out, ","), 64)
	if err != nil {
		t.Fatalf("ffprobe %s of %s: %q", entry, file, out)
	}
	return v
}

// decodeClean decodes the whole file and fails on any message: a corrupt
// frame makes libvpx/h264/opus decoders complain.
func decodeClean(t testing.TB, file string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("ffmpeg decoding %s: %v\n%s", file, err, out)
	}
}

// ivfFrames reads the frames of an IVF file.
func ivfFrames(t testing.TB, path string) (frames [][]byte, pts []uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatalf("%s: not IVF", path)
	}
	b = b[32:]
	for len(b) >= 12 {
		n := int(binary.LittleEndian.Uint32(b))
		pts = append(pts, binary.LittleEndian.Uint64(b[4:]))
		frames = append(frames, b[12:12+n])
		b = b[12+n:]
	}
	return frames, pts
}

func sampleData(s []media.Sample) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = s[i].Data
	}
	return out
}
