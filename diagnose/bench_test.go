package diagnose

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// syntheticLeg is minutes of a 1.5 Mbit/s VP8 stream (30 fps, ~1050-byte
// packets, a keyframe every 2 s) and 20 ms Opus, paced as sent: the size of
// a real ingest dump. Payloads are random, so every packet is distinct.
func syntheticLeg(minutes int) *tleg {
	r := rand.New(rand.NewPCG(1, 2))
	sdp := addExtmap("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"+
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"+
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", cvoIn)
	l := &tleg{sdp: sdp}
	t0 := time.Unix(1_800_000_000, 0)
	var vseq, aseq uint16 = 1000, 5000
	for f := 0; f < minutes*60*30; f++ {
		at := t0.Add(time.Duration(f) * time.Second / 30)
		key := f%60 == 0
		size := 6250
		if key {
			size *= 5
		}
		n := (size + 1049) / 1050
		for i := range n {
			pl := make([]byte, 1050)
			for j := range pl {
				pl[j] = byte(r.Uint32())
			}
			pl[0] = 0x00
			if i == 0 {
				pl[0] = 0x10
				pl[1] = 0x01 // inter frame
				if key {
					copy(pl[1:], []byte{0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02})
				}
			}
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: vseq, Timestamp: uint32(f * 3000), SSRC: 0x1111, Marker: i == n-1}, Payload: pl}
			_ = p.SetExtension(cvoIn, []byte{0})
			vseq++
			l.pkts = append(l.pkts, tpkt{at: at.Add(time.Duration(i) * 200 * time.Microsecond), p: p, kind: "video"})
		}
		if f%3 == 0 {
			for k := range 5 {
				j := f/3*5 + k
				pl := make([]byte, 80)
				for i := range pl {
					pl[i] = byte(r.Uint32())
				}
				pl[0] = 0xfc
				p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: aseq, Timestamp: uint32(j * 960), SSRC: 0x2222}, Payload: pl}
				aseq++
				l.pkts = append(l.pkts, tpkt{at: at.Add(time.Duration(k) * 20 * time.Millisecond), p: p, kind: "audio"})
			}
		}
	}
	return l
}

// BenchmarkRun measures diagnose on two legs of a 2-minute 1.5 Mbit/s
// stream (about 24 MB each): reading, per-leg analysis, alignment and
// attribution. MB/s counts the bytes of both capture files.
// DIAGNOSE_BENCH_KEEP=DIR keeps the ingest capture there (for comparing
// with tshark, docs/PERFORMANCE.md).
func BenchmarkRun(b *testing.B) {
	in := syntheticLeg(2)
	vw := in.viewer(defaultSFU)
	drop("video", 5000, 3)(vw)
	drop("video", 9000, 1)(vw)
	inFiles, vwFiles := in.write(b, "ingest"), vw.write(b, "viewer-1")
	var size int64
	for _, f := range append(append([]string(nil), inFiles...), vwFiles...) {
		fi, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	if dir := os.Getenv("DIAGNOSE_BENCH_KEEP"); dir != "" {
		for i, f := range [][]string{inFiles, vwFiles} {
			data, err := os.ReadFile(f[0])
			if err != nil {
				b.Fatal(err)
			}
			name := []string{"/ingest.pcapng", "/viewer.pcapng"}[i]
			if err := os.WriteFile(dir+name, data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Run(Options{Ingest: inFiles, Viewer: vwFiles})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Verdict != ViewerSide {
			b.Fatalf("verdict %s: %+v", rep.Verdict, rep.Findings)
		}
	}
}
