package inspect

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/dump"
)

const testSDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"

// writeDump writes an ingest dump whose video loses packets 50–54 and 200,
// duplicates 100 and delivers 150/151 swapped; audio is clean.
func writeDump(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	st, err := dump.NewStore(dump.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(dump.Leg{Stream: "s", Name: "ingest", SDP: testSDP,
		Peer: netip.MustParseAddrPort("198.51.100.7:40000"), Server: netip.MustParseAddrPort("192.0.2.2:8189")})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	const base = uint16(65400) // the sequence wraps inside the capture
	var order []int
	for i := 0; i < 300; i++ {
		switch {
		case i >= 50 && i < 55, i == 200:
			continue
		case i == 100:
			order = append(order, i, i)
		case i == 150:
			order = append(order, 151, 150)
		case i == 151:
		default:
			order = append(order, i)
		}
	}
	for k, i := range order {
		s := base + uint16(i)
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: s, Timestamp: uint32(i/3) * 3000, SSRC: 0x1234, Marker: i%3 == 2},
			Payload: []byte{0x10, 0x01, 0x00, byte(i)}}
		b, _ := p.Marshal()
		w.WriteRTP(dump.FromPeer, t0.Add(time.Duration(k)*11*time.Millisecond), b)
		if k%2 == 0 {
			a := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(k / 2), Timestamp: uint32(k/2) * 960, SSRC: 0x5678},
				Payload: []byte{0xfc, 0xff, 0xfe}}
			b, _ := a.Marshal()
			w.WriteRTP(dump.FromPeer, t0.Add(time.Duration(k)*11*time.Millisecond), b)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Expand([]string{root})
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", files, err)
	}
	return files[0]
}

func TestAnalyzeMatchesTshark(t *testing.T) {
	file := writeDump(t)
	rep, err := Analyze([]string{file}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Streams) != 2 || rep.Files[0].Stream != "s" || rep.Files[0].Leg != "ingest" {
		t.Fatalf("%+v", rep)
	}
	v := rep.Streams[0]
	if v.Codec != "VP8" || v.Kind != "video" || v.Packets != 295 || v.Expected != 300 || v.Lost != 5 || v.Duplicates != 1 || v.Reordered != 1 {
		t.Fatalf("video %+v", v.Stats)
	}
	out, err := exec.Command("tshark", "-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-q", "-z", "rtp,streams").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v %s", err, out)
	}
	// tshark: "... 0x00001234 VP8 ... Packets Lost (pct) ..." — find the numbers after the payload column.
	for _, s := range rep.Streams {
		re := regexp.MustCompile(`(?i)0x0*` + strconv.FormatUint(uint64(s.SSRC), 16) + `\s+\S+(?:\s+\S+)*?\s+(\d+)\s+(-?\d+)\s+\(`)
		m := re.FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("tshark did not list SSRC %#x:\n%s", s.SSRC, out)
		}
		pk, _ := strconv.ParseUint(m[1], 10, 64)
		lost, _ := strconv.ParseInt(m[2], 10, 64)
		if pk != s.Packets || lost != s.Lost {
			t.Errorf("SSRC %#x: tshark %d packets %d lost, inspect %d packets %d lost\n%s", s.SSRC, pk, lost, s.Packets, s.Lost, out)
		}
	}
}

func TestSDPOverrideAndForeignNames(t *testing.T) {
	file := writeDump(t)
	rep, err := Analyze([]string{file}, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Streams[0].Codec != "H264" || rep.Streams[1].Codec != "" && rep.Streams[1].Kind != "unknown" {
		t.Fatalf("--sdp must override the embedded SDP: %+v %+v", rep.Streams[0].Stats, rep.Streams[1].Stats)
	}
	if got := PayloadTypes("garbage"); len(got) != 0 {
		t.Fatalf("garbage SDP mapped %v", got)
	}
	if p := PayloadTypes(testSDP)[111]; p.ClockRate != 48000 || p.Kind != "audio" || !strings.EqualFold(p.Name, "opus") {
		t.Fatalf("%+v", p)
	}
	if _, err := Expand([]string{filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Fatal("missing path accepted")
	}
}
