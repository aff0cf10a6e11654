package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/client"
	"github.com/bcastdev/bcast/server/status"
)

// buildBinary builds bcast once per test run, as the README does.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bcast")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=v9.9.9-test", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestVersionAndHelp(t *testing.T) {
	bin := buildBinary(t)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "v9.9.9-test") {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"publish", "--help"}, {"watch", "--help"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "USAGE") && !strings.Contains(strings.ToLower(string(out)), "usage") {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	for _, flag := range []string{"--addr", "--ice-udp-port", "--publish-token", "--admin-token", "--dump-dir",
		"--max-viewers", "--no-tui", "--nat-ip", "--demo", "--config"} {
		if !strings.Contains(string(out), flag) {
			t.Errorf("serve --help lacks %s", flag)
		}
	}
}

func TestInvalidConfigFailsAtStart(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--max-viewers", "many"}, "", "max-viewers"},
		{[]string{"serve", "--nat-ip", "nowhere"}, "", "nat-ip"},
		{nil, "BCAST_ICE_UDP_PORT=99999", "ice-udp-port"},
		{[]string{"--config", "/does/not/exist.yaml"}, "", "config file"},
	}
	for _, tc := range tests {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), "BCAST_NO_TUI=1")
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v %s: err %v, output %q should name %q", tc.args, tc.env, err, out, tc.want)
		}
	}
}

// TestDemoServer runs the README's server command and watches the demo
// stream with a pion WHEP viewer: VP8 frames and Opus arrive.
func TestDemoServer(t *testing.T) {
	bin := buildBinary(t)
	port := freePort(t, "tcp")
	cmd := exec.Command(bin, "serve", "--demo", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--ice-udp-port", "0",
		"--dump-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "BCAST_NO_TUI=1")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	banner := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "admin token") {
				banner <- b.String()
			}
		}
	}()
	select {
	case text := <-banner:
		if !strings.Contains(text, "publish token:") || !strings.Contains(text, "random") {
			t.Fatalf("banner does not show a random publish token:\n%s", text)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server printed no banner")
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/api/streams")
		if err == nil {
			var s []status.Stream
			_ = json.NewDecoder(resp.Body).Decode(&s)
			resp.Body.Close()
			if len(s) == 1 && s[0].Name == "demo" && s[0].Live {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo stream not live: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	api, err := client.NewAPI(nil)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan string, 2)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for i := 0; i < 20; i++ {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
		got <- tr.Codec().MimeType
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Signal(ctx, nil, base+"/api/whep/demo", "", pc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case m := <-got:
			seen[strings.ToLower(m)] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("demo media did not arrive; got %v", seen)
		}
	}
	if !seen["video/vp8"] || !seen["audio/opus"] {
		t.Fatalf("demo tracks %v, want VP8 and Opus", seen)
	}
}

// TestPublishAndWatchFiles: `bcast publish` sends the demo files to a
// server, `bcast watch` records what a viewer receives, and ffprobe decodes
// the recording.
func TestPublishAndWatchFiles(t *testing.T) {
	bin := buildBinary(t)
	base, dumps := startBinaryServer(t, bin)

	bad := exec.Command(bin, "publish", "--url", base+"/api/whip/f", "--token", "wrong", "../../demo/clip.ivf")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
		t.Fatalf("publish with a wrong token: %v %s", err, out)
	}
	pub := exec.Command(bin, "publish", "--url", base+"/api/whip/f", "--token", "tok", "--loop", "../../demo/clip.ivf", "../../demo/clip.ogg")
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Process.Signal(os.Interrupt); _ = pub.Wait() })

	dir := t.TempDir()
	video, audio := filepath.Join(dir, "v.ivf"), filepath.Join(dir, "a.ogg")
	for _, out := range []string{video, audio} {
		w := exec.Command(bin, "watch", base+"/api/whep/f", "-o", out, "--seconds", "4")
		if b, err := w.CombinedOutput(); err != nil {
			t.Fatalf("watch -o %s: %v\n%s", out, err, b)
		}
	}
	for _, f := range []struct {
		path string
		min  int
	}{{video, 30}, {audio, 100}} {
		out, err := exec.Command("ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=codec_name,nb_read_packets",
			"-of", "csv=p=0", f.path).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe %s: %v %s", f.path, err, out)
		}
		var codec string
		var n int
		if _, err := fmt.Sscanf(strings.ReplaceAll(strings.TrimSpace(string(out)), ",", " "), "%s %d", &codec, &n); err != nil || n < f.min {
			t.Fatalf("%s: ffprobe says %q; want at least %d packets", f.path, out, f.min)
		}
	}
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", video, "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg decode of the watched video: %v %s", err, out)
	}

	// watch -o .pcapng records the viewer leg like the server's dumps.
	leg := filepath.Join(dir, "viewer.pcapng")
	if b, err := exec.Command(bin, "watch", base+"/api/whep/f", "-o", leg, "--seconds", "3").CombinedOutput(); err != nil {
		t.Fatalf("watch -o viewer.pcapng: %v\n%s", err, b)
	}
	out, err := exec.Command(bin, "dump", "info", "--json", leg).Output()
	if err != nil {
		t.Fatalf("dump info of the viewer capture: %v", err)
	}
	var legInfo struct {
		Files []struct {
			RTCP uint64 `json:"rtcp"`
		} `json:"files"`
		Streams []struct {
			Codec   string `json:"codec"`
			Packets uint64 `json:"packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &legInfo); err != nil || len(legInfo.Files) != 1 || legInfo.Files[0].RTCP == 0 {
		t.Fatalf("viewer capture: %v %s", err, out)
	}
	legCodecs := map[string]bool{}
	for _, s := range legInfo.Streams {
		legCodecs[s.Codec] = s.Packets > 0
	}
	if !legCodecs["VP8"] || !legCodecs["opus"] {
		t.Fatalf("viewer capture streams: %s", out)
	}
	if b, err := exec.Command("tshark", "-r", leg, "-c", "5").CombinedOutput(); err != nil {
		t.Fatalf("tshark -r viewer.pcapng: %v %s", err, b)
	}
	// Both legs clean over loopback: diagnose says so despite the rewrite.
	page := filepath.Join(dir, "diagnose.html")
	out, err = exec.Command(bin, "diagnose", "--json", "--html", page, filepath.Join(dumps, "f"), leg).Output()
	if b, _ := os.ReadFile(page); !strings.Contains(string(b), "<svg") {
		t.Errorf("diagnose --html wrote no timeline")
	}
	var verdict struct {
		Verdict  string            `json:"verdict"`
		Findings []json.RawMessage `json:"findings"`
	}
	if err != nil || json.Unmarshal(out, &verdict) != nil || verdict.Verdict != "clean" {
		t.Fatalf("diagnose of two clean legs: %v\n%s", err, out)
	}

	// The publisher's packets are in the dump, and the dump tools read it.
	out, err = exec.Command(bin, "dump", "ls", dumps).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ingest") || !strings.Contains(string(out), ".pcapng") {
		t.Fatalf("dump ls: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "dump", "info", "--json", dumps).Output()
	if err != nil {
		t.Fatalf("dump info: %v", err)
	}
	var info struct {
		Streams []struct {
			Codec   string `json:"codec"`
			Packets uint64 `json:"packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("dump info JSON: %v\n%s", err, out)
	}
	codecs := map[string]bool{}
	for _, s := range info.Streams {
		if s.Packets > 0 {
			codecs[s.Codec] = true
		}
	}
	if !codecs["VP8"] || !codecs["opus"] {
		t.Fatalf("dump info streams %+v, want VP8 and opus", info.Streams)
	}

	// The dump re-published as another stream plays again.
	_ = pub.Process.Signal(os.Interrupt)
	_ = pub.Wait()
	re := exec.Command(bin, "publish", "--url", base+"/api/whip/again", "--token", "tok", "--loop", filepath.Join(dumps, "f"))
	if err := re.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = re.Process.Signal(os.Interrupt); _ = re.Wait() })
	again := filepath.Join(dir, "again.ivf")
	if b, err := exec.Command(bin, "watch", base+"/api/whep/again", "-o", again, "--seconds", "4").CombinedOutput(); err != nil {
		t.Fatalf("watch the re-published dump: %v\n%s", err, b)
	}
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", again, "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg decode of the re-published dump: %v %s", err, out)
	}
	out, err = exec.Command("ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", again).CombinedOutput()
	if n, _ := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || n < 30 {
		t.Fatalf("re-published dump: %q packets watched (%v), want at least 30", out, err)
	}
}

// startBinaryServer runs `bcast` (publish token "tok") on loopback with a
// fresh dump directory until the test ends, and returns its base URL.
func startBinaryServer(t *testing.T, bin string) (base, dumps string) {
	t.Helper()
	port := freePort(t, "tcp")
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	dumps = t.TempDir()
	srv := exec.Command(bin, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--ice-udp-port", "0",
		"--publish-token", "tok", "--dump-dir", dumps)
	srv.Env = append(os.Environ(), "BCAST_NO_TUI=1")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() })
	waitHTTP(t, base+"/api/streams")
	return base, dumps
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPublishDumpReplay is the whole evidence path: source files are
// published, the server dumps what arrives, and replay turns the dump back
// into files with exactly the source's frames and packets.
func TestPublishDumpReplay(t *testing.T) {
	bin := buildBinary(t)
	base, dumps := startBinaryServer(t, bin)
	// One full pass of the 10 s demo clip, then the publisher ends the session.
	if out, err := exec.Command(bin, "publish", "--url", base+"/api/whip/rec", "--token", "tok",
		"../../demo/clip.ivf", "../../demo/clip.ogg").CombinedOutput(); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	count := func(path, entry string) int {
		t.Helper()
		out, err := exec.Command("ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream="+entry,
			"-of", "csv=p=0", path).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe %s: %v %s", path, err, out)
		}
		total := 0
		for _, l := range strings.Fields(string(out)) {
			n, _ := strconv.Atoi(strings.Trim(l, ","))
			total += n
		}
		return total
	}
	srcVideo, srcAudio := count("../../demo/clip.ivf", "nb_read_packets"), count("../../demo/clip.ogg", "nb_read_packets")
	dir := t.TempDir()
	for _, out := range []string{"rec.ivf", "rec.ogg", "rec.webm"} {
		path := filepath.Join(dir, out)
		if b, err := exec.Command(bin, "replay", "-o", path, filepath.Join(dumps, "rec")).CombinedOutput(); err != nil {
			t.Fatalf("replay -o %s: %v\n%s", out, err, b)
		}
		if b, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil || len(b) > 0 {
			t.Fatalf("ffmpeg decode of %s: %v %s", out, err, b)
		}
	}
	if n := count(filepath.Join(dir, "rec.ivf"), "nb_read_packets"); n != srcVideo {
		t.Errorf("replayed video has %d frames, the source %d", n, srcVideo)
	}
	if n := count(filepath.Join(dir, "rec.ogg"), "nb_read_packets"); n != srcAudio {
		t.Errorf("replayed audio has %d packets, the source %d", n, srcAudio)
	}
	if n := count(filepath.Join(dir, "rec.webm"), "nb_read_packets"); n != srcVideo+srcAudio {
		t.Errorf("replayed WebM has %d packets, the sources %d + %d", n, srcVideo, srcAudio)
	}
	if b, err := exec.Command("mkvinfo", filepath.Join(dir, "rec.webm")).CombinedOutput(); err != nil ||
		!strings.Contains(string(b), "V_VP8") || !strings.Contains(string(b), "A_OPUS") {
		t.Fatalf("mkvinfo: %v\n%s", err, b)
	}

	// H.264 takes the same path.
	if out, err := exec.Command(bin, "publish", "--url", base+"/api/whip/rec264", "--token", "tok",
		"../../server/testdata/clip.h264").CombinedOutput(); err != nil {
		t.Fatalf("publish H.264: %v\n%s", err, out)
	}
	h264 := filepath.Join(dir, "rec.h264")
	if b, err := exec.Command(bin, "replay", "-o", h264, filepath.Join(dumps, "rec264")).CombinedOutput(); err != nil {
		t.Fatalf("replay -o rec.h264: %v\n%s", err, b)
	}
	if b, err := exec.Command("ffmpeg", "-v", "error", "-i", h264, "-f", "null", "-").CombinedOutput(); err != nil || len(b) > 0 {
		t.Fatalf("ffmpeg decode of rec.h264: %v %s", err, b)
	}
	countFrames := func(path string) int {
		out, _ := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
		n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		return n
	}
	if got, want := countFrames(h264), countFrames("../../server/testdata/clip.h264"); got != want || want == 0 {
		t.Errorf("replayed H.264 has %d frames, the source %d", got, want)
	}
}
