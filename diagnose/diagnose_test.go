package diagnose

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/inspect"
)

func sdpFor(vpt, apt, cvo int) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"+
		"m=video 9 UDP/TLS/RTP/SAVPF %d\r\na=rtpmap:%d VP8/90000\r\na=extmap:%d urn:3gpp:video-orientation\r\n"+
		"m=audio 9 UDP/TLS/RTP/SAVPF %d\r\na=rtpmap:%d opus/48000/2\r\n", vpt, vpt, cvo, apt, apt)
}

var (
	vp8Key   = []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0xaa}
	vp8Delta = []byte{0x10, 0x01, 0x00, 0x00, 0xbb}
)

// legSpec describes how to write one leg of the same synthetic 6 s stream:
// video at 30 fps (keyframe every second), audio at 50 packets/s.
type legSpec struct {
	name         string
	vpt, apt     uint8
	cvoID        uint8
	vssrc, assrc uint32
	seqOff       uint16
	tsOff        uint32
	drop         func(i int) bool // video packet index to drop
	rotation     func(i int) byte // CVO byte for video packet i
	extraExt     uint8            // an extension ID to add that the SDP does not map
}

func writeLeg(t *testing.T, root string, l legSpec) []string {
	t.Helper()
	st, err := dump.NewStore(dump.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(dump.Leg{Stream: "s", Name: l.name, SDP: sdpFor(int(l.vpt), int(l.apt), int(l.cvoID)),
		Peer: netip.MustParseAddrPort("198.51.100.7:40000"), Server: netip.MustParseAddrPort("192.0.2.2:8189")})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 180; i++ {
		at := t0.Add(time.Duration(i) * time.Second / 30)
		if l.drop == nil || !l.drop(i) {
			pl := vp8Delta
			if i%30 == 0 {
				pl = vp8Key
			}
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: l.vpt, SequenceNumber: uint16(i) + l.seqOff,
				Timestamp: uint32(i*3000) + l.tsOff, SSRC: l.vssrc, Marker: true}, Payload: pl}
			rot := byte(0)
			if l.rotation != nil {
				rot = l.rotation(i)
			}
			_ = p.SetExtension(l.cvoID, []byte{rot})
			if l.extraExt != 0 {
				_ = p.SetExtension(l.extraExt, []byte{0x42})
			}
			b, _ := p.Marshal()
			w.WriteRTP(dump.FromPeer, at, b)
		}
		if i%3 == 0 {
			for k := 0; k < 5; k++ {
				j := i/3*5 + k
				a := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: l.apt, SequenceNumber: uint16(j) + l.seqOff,
					Timestamp: uint32(j*960) + l.tsOff, SSRC: l.assrc}, Payload: []byte{0xfc, 0xff, 0xfe}}
				b, _ := a.Marshal()
				w.WriteRTP(dump.FromPeer, at.Add(time.Duration(k)*20*time.Millisecond), b)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	files, err := inspect.Expand([]string{root})
	if err != nil || len(files) == 0 {
		t.Fatalf("%v %v", files, err)
	}
	return files
}

func ingestSpec() legSpec {
	return legSpec{name: "ingest", vpt: 96, apt: 111, cvoID: 3, vssrc: 0x1111, assrc: 0x2222}
}

// viewerSpec is the SFU's rewrite of the same media: other SSRCs, payload
// types, extension ID and sequence/timestamp offsets.
func viewerSpec() legSpec {
	return legSpec{name: "viewer-1", vpt: 120, apt: 109, cvoID: 7, vssrc: 0xaaaa, assrc: 0xbbbb, seqOff: 30000, tsOff: 123456789}
}

func TestVerdicts(t *testing.T) {
	dropIngest := func(i int) bool { return i >= 40 && i < 45 }
	dropViewer := func(i int) bool { return i >= 40 && i < 45 || i >= 100 && i < 103 }
	tests := []struct {
		name         string
		ingest, view func(*legSpec)
		verdict      string
		class, leg   string // a finding that must be there ("" = none at all)
		count        int64
	}{
		{"clean", nil, nil, Clean, "", "", 0},
		{"loss upstream is inherited", func(l *legSpec) { l.drop = dropIngest }, func(l *legSpec) { l.drop = dropIngest },
			StreamerSide, "loss", "ingest", 5},
		{"loss downstream only", nil, func(l *legSpec) { l.drop = dropViewer }, ViewerSide, "loss", "viewer", 8},
		{"loss on both sides", func(l *legSpec) { l.drop = dropIngest }, func(l *legSpec) { l.drop = dropViewer }, Both, "loss", "viewer", 3},
		{"rotation appears downstream", nil, func(l *legSpec) {
			l.rotation = func(i int) byte {
				if i > 90 {
					return 1 // 90°
				}
				return 0
			}
		}, ViewerSide, "rotation", "viewer", 2},
		{"extension the viewer never negotiated", nil, func(l *legSpec) { l.extraExt = 12 }, ViewerSide, "extension-not-negotiated", "viewer", 180},
		{"keyframes missing upstream", func(l *legSpec) { l.drop = func(i int) bool { return i%30 == 0 } },
			func(l *legSpec) { l.drop = func(i int) bool { return i%30 == 0 } }, StreamerSide, "no-keyframe", "ingest", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			is, vs := ingestSpec(), viewerSpec()
			if tc.ingest != nil {
				tc.ingest(&is)
			}
			if tc.view != nil {
				tc.view(&vs)
			}
			in := writeLeg(t, filepath.Join(t.TempDir(), "in"), is)
			vw := writeLeg(t, filepath.Join(t.TempDir(), "vw"), vs)
			rep, err := Run(Options{Ingest: in, Viewer: vw})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s; findings %+v", rep.Verdict, tc.verdict, rep.Findings)
			}
			if tc.class == "" {
				if len(rep.Findings) != 0 {
					t.Fatalf("findings on clean legs: %+v", rep.Findings)
				}
				return
			}
			found := false
			for _, f := range rep.Findings {
				if f.Class == tc.class && f.Leg == tc.leg {
					found = true
					if f.Count != tc.count || f.Evidence == "" || f.From.IsZero() {
						t.Errorf("finding %+v: want count %d with evidence and a time", f, tc.count)
					}
				}
				if f.Leg == "viewer" && f.Side != ViewerSide || f.Leg == "ingest" && f.Side != StreamerSide {
					t.Errorf("finding on leg %s attributed to %s", f.Leg, f.Side)
				}
			}
			if !found {
				t.Fatalf("no %s finding on the %s leg: %+v", tc.class, tc.leg, rep.Findings)
			}
		})
	}
}

func TestIngestAlone(t *testing.T) {
	is := ingestSpec()
	is.drop = func(i int) bool { return i == 7 }
	rep, err := Run(Options{Ingest: writeLeg(t, t.TempDir(), is)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != StreamerSide || len(rep.Findings) != 1 || rep.Findings[0].Class != "loss" ||
		rep.Findings[0].Evidence != "1 of 180 packets missing: seq 7" {
		t.Fatalf("%+v", rep)
	}
}

func TestHTMLTimeline(t *testing.T) {
	is, vs := ingestSpec(), viewerSpec()
	is.drop = func(i int) bool { return i >= 40 && i < 45 }
	vs.drop = func(i int) bool { return i >= 40 && i < 45 || i == 100 }
	vs.extraExt = 12
	rep, err := Run(Options{Ingest: writeLeg(t, t.TempDir(), is), Viewer: writeLeg(t, t.TempDir(), vs)})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<svg", "ingest leg", "viewer leg", "<polyline", `class="verdict both"`, "extension-not-negotiated", "seq 40–44"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("page is not self-contained: has %q", bad)
		}
	}
}
