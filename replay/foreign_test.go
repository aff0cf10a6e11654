package replay

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writePcap writes datagrams as a classic pcap of Ethernet frames, the way
// tcpdump on a NIC would, with other traffic mixed in.
func writePcap(t *testing.T, path string, packets []wire, port func(w wire) uint16) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pw := pcapgo.NewWriter(f)
	if err := pw.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	write := func(at time.Time, srcPort, dstPort uint16, payload []byte) {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
		udp := &layers.UDP{SrcPort: layers.UDPPort(srcPort), DstPort: layers.UDPPort(dstPort)}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, udp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if err := pw.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i, p := range packets {
		dst := port(p)
		if p.rtcp {
			dst++ // RTCP on the next port, without rtcp-mux (RFC 3550 §11)
		}
		write(p.at, 40000+dst, dst, p.data)
		if i%50 == 0 {
			// Someone else's datagram that happens to start like RTP.
			noise := make([]byte, 40+rng.IntN(100))
			for j := range noise {
				noise[j] = byte(rng.Uint32())
			}
			noise[0], noise[1] = 0x80, ptVP8
			write(p.at, 5353, 5353, noise)
		}
	}
}

// TestReplayForeignPcap replays a tcpdump-style pcap (Ethernet, video and
// audio on separate ports, RTCP on the next ports, other traffic) that
// carries no SDP: without --sdp the error says what is missing; with it
// the WebM holds every frame, in sync by the sender reports.
func TestReplayForeignPcap(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg")
	s := newSession(t, sessionOptions{audioDelay: 150 * time.Millisecond})
	capFile := filepath.Join(t.TempDir(), "call.pcap")
	writePcap(t, capFile, s.packets, func(w wire) uint16 {
		if w.video {
			return 5004
		}
		return 5006
	})
	out := filepath.Join(t.TempDir(), "out.webm")
	_, err := Run(t.Context(), Options{Paths: []string{capFile}, Out: out})
	if err == nil || !strings.Contains(err.Error(), "--sdp") || !strings.Contains(err.Error(), "payload type 96") {
		t.Fatalf("without an SDP: error %v, want one naming the payload type and --sdp", err)
	}
	sdp := "v=0\r\no=- 0 0 IN IP4 10.0.0.1\r\ns=call\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n" +
		"m=video 5004 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n" +
		"m=audio 5006 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
	sum := replayTo(t, out, Options{Paths: []string{capFile}, SDP: sdp})
	if c := probeCounts(t, out); c["video"] != len(s.video) || c["audio"] != len(s.audio) {
		t.Fatalf("ffprobe %v, want %d video frames and %d audio packets", c, len(s.video), len(s.audio))
	}
	decodeClean(t, out)
	if sum.Sync != "rtcp" {
		t.Errorf("sync %q, want rtcp", sum.Sync)
	}
	if v, a := probeFloat(t, out, "v:0", "stream=start_time"), probeFloat(t, out, "a:0", "stream=start_time"); v-a > 0.025 || a-v > 0.025 {
		t.Errorf("video starts at %.3f s, audio at %.3f s", v, a)
	}
}

// TestReplayDumpcapCapture replays what dumpcap captured of ffmpeg sending
// VP8 over RTP on the loopback interface, described by the SDP ffmpeg
// wrote: a capture bcast had nothing to do with.
func TestReplayDumpcapCapture(t *testing.T) {
	needTools(t, "dumpcap", "ffmpeg", "ffprobe")
	dir := t.TempDir()
	capFile, sdpFile := filepath.Join(dir, "cap.pcapng"), filepath.Join(dir, "x.sdp")
	port := "5004"
	if l, err := net.ListenPacket("udp", "127.0.0.1:0"); err == nil {
		// A free even port, so that parallel runs do not see each other.
		p := l.LocalAddr().(*net.UDPAddr).Port &^ 1
		l.Close()
		port = strconv.Itoa(p)
	}
	// dumpcap runs until told to stop (its own limit is a safety net), so
	// a slow start of ffmpeg on a loaded machine loses nothing.
	dc := exec.CommandContext(t.Context(), "dumpcap", "-q", "-i", "lo", "-f", "udp port "+port, "-w", capFile, "-a", "duration:120")
	var dcErr strings.Builder
	dc.Stderr = &dcErr
	if err := dc.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- dc.Wait() }()
	stop := func() error {
		dc.Process.Signal(syscall.SIGINT)
		return <-done
	}
	// dumpcap writes the file's header once the capture runs.
	for size(capFile) == 0 {
		select {
		case err := <-done:
			t.Fatalf("dumpcap cannot capture on lo (%v): %s", err, dcErr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(time.Second)
	tool(t, "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2",
		"-c:v", "libvpx", "-deadline", "realtime", "-f", "rtp", "rtp://127.0.0.1:"+port, "-sdp_file", sdpFile)
	// Stop once the file has stopped growing: dumpcap has written all.
	for last := int64(-1); ; {
		time.Sleep(300 * time.Millisecond)
		n := size(capFile)
		if n == last {
			break
		}
		last = n
	}
	if err := stop(); err != nil {
		t.Fatalf("dumpcap: %v\n%s", err, dcErr.String())
	}
	sdp, err := os.ReadFile(sdpFile)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.ivf")
	sum := replayTo(t, out, Options{Paths: []string{capFile}, SDP: string(sdp)})
	n := probeCounts(t, out)["video"]
	if n < 55 || n > 60 || sum.Streams[0].FramesWritten != n {
		t.Fatalf("%d frames (summary %+v), want about 60", n, sum.Streams[0])
	}
	decodeClean(t, out)
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
