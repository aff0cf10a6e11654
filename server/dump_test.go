package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/inspect"
)

// TestIngestDump: everything the streamer sends is in the dump, readable by
// tshark, with the leg's SDP inside, and the RTCP the server sent back too.
func TestIngestDump(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, func(c *config.Server) { c.DumpDir = dir })
	pub := publish(t, srv.base, "d", vp8Cap, vp8Frames(t), opusPayloads(1000))
	time.Sleep(2500 * time.Millisecond)
	pub.cancel() // stop sending, keep the session
	time.Sleep(500 * time.Millisecond)
	s := getStreams(t, srv.base, "")
	if len(s) != 1 || s[0].Video == nil || s[0].Audio == nil {
		t.Fatalf("streams %+v", s)
	}
	want := map[uint32]uint64{s[0].Video.SSRC: s[0].Video.Packets, s[0].Audio.SSRC: s[0].Audio.Packets}
	waitFor(t, 3*time.Second, "the dump status for admins", func() bool {
		a := getStreams(t, srv.base, adminToken)
		return a[0].Dump != nil && a[0].Dump.Packets > 0 && a[0].Dump.Error == "" && a[0].Dump.Dropped == 0 &&
			strings.HasSuffix(a[0].Dump.Segment, ".pcapng")
	})
	if _, body := httpDo(t, "GET", srv.base+"/metrics", "", "", nil); !strings.Contains(body, `bcast_dump_packets_total{stream="d"}`) ||
		!strings.Contains(body, `bcast_dump_failing{stream="d"} 0`) || !strings.Contains(body, "bcast_dump_free_bytes") {
		t.Error("dump metrics missing")
	}
	lines, _ := filepath.Glob(filepath.Join(dir, "d", "metrics-*.jsonl"))
	if len(lines) != 1 {
		t.Fatalf("metrics timeline files: %v", lines)
	}
	if b, _ := os.ReadFile(lines[0]); strings.Count(string(b), "\n") < 2 || !strings.Contains(string(b), `"video_bps"`) {
		t.Fatalf("metrics timeline: %q", b)
	}
	pub.stop()
	waitFor(t, 5*time.Second, "the stream to end", func() bool { return len(getStreams(t, srv.base, "")) == 0 })

	files, err := inspect.Expand([]string{dir})
	if err != nil || len(files) == 0 {
		t.Fatalf("no dump files in %s: %v", dir, err)
	}
	if !strings.Contains(files[0], "/d/") || !strings.HasSuffix(files[0], ".pcapng") {
		t.Fatalf("dump path %s", files[0])
	}
	rep, err := inspect.Analyze(files, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32]uint64{}
	for _, st := range rep.Streams {
		if st.SSRC != s[0].Video.SSRC && st.SSRC != s[0].Audio.SSRC {
			// RTX: a repair of a lost video packet, which the server's
			// track statistics count under the media SSRC (pion unwraps it).
			got[s[0].Video.SSRC] += st.Packets
			continue
		}
		got[st.SSRC] += st.Packets
		if !strings.HasPrefix(st.From, "127.0.0.1:") {
			t.Errorf("stream %d from %s: want the streamer's real loopback address", st.SSRC, st.From)
		}
		if st.SSRC == s[0].Video.SSRC && (st.Codec != "VP8" || st.Keyframes == 0 || st.Lost != 0) {
			t.Errorf("video stream in dump: %+v", st.Stats)
		}
		if st.SSRC == s[0].Audio.SSRC && st.Codec != "opus" {
			t.Errorf("audio stream in dump: %+v", st.Stats)
		}
	}
	for ssrc, n := range want {
		if got[ssrc] != n {
			t.Errorf("SSRC %d: %d packets in the dump, the server received %d", ssrc, got[ssrc], n)
		}
	}
	if f := rep.Files[0]; f.RTCP == 0 || f.Leg != "ingest" || f.Stream != "d" || f.Dropped != 0 {
		t.Errorf("file %+v: want RTCP both ways, leg ingest, stream d, no drops", f)
	}

	// tshark opens the file as it is and finds the same RTP packets.
	out, err := exec.Command("tshark", "-r", files[0], "-o", "rtp.heuristic_rtp:TRUE", "-q", "-z", "rtp,streams").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	for ssrc, n := range want {
		hex := "0x" + strconv.FormatUint(uint64(ssrc), 16)
		found := false
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			for i := range f {
				if strings.EqualFold(f[i], hex) || strings.EqualFold(f[i], "0x"+strings.Repeat("0", 10-len(hex))+hex[2:]) {
					found = true
					if !strings.Contains(" "+line+" ", " "+strconv.FormatUint(n, 10)+" ") {
						t.Errorf("tshark counts for %s differ from %d: %s", hex, n, line)
					}
				}
			}
		}
		if !found {
			t.Errorf("tshark did not list SSRC %s:\n%s", hex, out)
		}
	}
	desc, err := exec.Command("tshark", "-r", files[0], "-c", "1", "-T", "fields", "-e", "frame.interface_description").CombinedOutput()
	if err != nil || !strings.Contains(string(desc), "m=video") {
		t.Errorf("interface description lacks the SDP: %v %q", err, desc)
	}
}
