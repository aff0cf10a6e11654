package diagnose

import (
	"encoding/json"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// want is a finding a case must produce.
type want struct {
	class, leg string
	evidence   string // a substring of the evidence
	count      int64  // 0: any
}

func isVideo(p *tpkt) bool { return p.kind == "video" }

// FU-A header tests on H.264 packets (RFC 6184 §5.8).
func fuStart(p *tpkt) bool { return p.p.Payload[0]&0x1f == 28 && p.p.Payload[1]&0x80 != 0 }
func fuEnd(p *tpkt) bool   { return p.p.Payload[0]&0x1f == 28 && p.p.Payload[1]&0x40 != 0 && !p.p.Marker }
func fuMid(p *tpkt) bool   { return p.p.Payload[0]&0x1f == 28 && p.p.Payload[1]&0xc0 == 0 }
func stapA(p *tpkt) bool   { return p.p.Payload[0]&0x1f == 24 }

// keyTS lists the timestamps of H.264 keyframes (those led by a STAP-A
// with SPS and PPS in the corpus).
func keyTS(l *tleg) map[uint32]int {
	ts := map[uint32]int{}
	for _, p := range l.pkts {
		if p.rtcp == nil && p.kind == "video" && stapA(&p) {
			ts[p.p.Timestamp] = len(ts)
		}
	}
	return ts
}

func TestVerdicts(t *testing.T) {
	h264 := loadCorpus(t, "h264_opus")
	vp8 := loadCorpus(t, "vp8_opus")
	qvga := loadCorpus(t, "h264_qvga")
	keys := keyTS(h264)
	tests := []struct {
		name    string
		base    *tleg
		ingest  []fault
		viewer  []fault
		make    func(in *tleg) *tleg // the viewer leg, when not the plain SFU rewrite
		verdict string
		want    []want
	}{
		{name: "clean H.264", base: h264, verdict: Clean},
		{name: "clean VP8", base: vp8, verdict: Clean},
		{name: "loss upstream is inherited", base: h264, ingest: []fault{drop("video", 40, 5)}, verdict: StreamerSide,
			want: []want{{"loss", "ingest", "5 of ", 5}}},
		{name: "loss downstream only", base: h264, viewer: []fault{drop("video", 100, 3), drop("video", 150, 1)}, verdict: ViewerSide,
			want: []want{{"loss", "viewer", "present in ingest, absent in viewer (viewer seq ", 4}}},
		{name: "loss on both sides", base: h264, ingest: []fault{drop("video", 40, 5)}, viewer: []fault{drop("video", 100, 3)}, verdict: Both,
			want: []want{{"loss", "ingest", "5 of ", 5}, {"loss", "viewer", "(5 more on this leg were already on the ingest leg)", 3}}},
		{name: "audio loss downstream", base: h264, viewer: []fault{drop("audio", 50, 4)}, verdict: ViewerSide,
			want: []want{{"loss", "viewer", "of audio", 4}}},
		{name: "loss bursts and worst seconds", base: vp8, viewer: []fault{drop("video", 20, 1), drop("video", 30, 6), drop("video", 120, 2)}, verdict: ViewerSide,
			want: []want{{"loss", "viewer", "3 bursts, longest 6; worst seconds: ", 9}}},
		{name: "Opus DTX is not loss", base: h264, ingest: []fault{dropWhere("audio", func(i int, _ *tpkt) bool {
			return i > 60 && i < 150 && i != 80 && i != 100
		})}, verdict: Clean, want: []want{{"dtx", "ingest", "3 DTX silences", 3}}},
		{name: "duplicates downstream", base: h264, viewer: []fault{duplicate("video", 30)}, verdict: ViewerSide,
			want: []want{{"duplicates", "viewer", "received more than once", 1}}},
		{name: "RTX repair upstream, forwarded late", base: h264, ingest: []fault{rtxRepair("video", 40, 150*time.Millisecond)},
			make: func(*tleg) *tleg {
				v := h264.viewer(defaultSFU)
				late("video", 40, 160*time.Millisecond)(v)
				return v
			}, verdict: Clean},
		{name: "reordering downstream", base: h264, viewer: []fault{reorder("video", 60)}, verdict: ViewerSide,
			want: []want{{"reordering", "viewer", "arrived after", 1}}},
		{name: "payload modified downstream", base: h264, viewer: []fault{edit("video", 70, func(p *tpkt) { p.p.Payload[40] ^= 0xff })}, verdict: ViewerSide,
			want: []want{{"payload-modified", "viewer", "1 of ", 1}, {"payload-modified", "viewer", "the first at byte 40", 1}}},
		{name: "marker cleared downstream", base: h264, viewer: []fault{func(l *tleg) { l.pkts[l.find("video", 50, func(p *tpkt) bool { return p.p.Marker })].p.Marker = false }},
			verdict: ViewerSide, want: []want{{"frame-boundary", "viewer", "without the marker bit (RFC 6184 §5.1)", 1}, {"header-modified", "viewer", "marker bit cleared", 1}}},
		{name: "marker cleared upstream", base: vp8, ingest: []fault{func(l *tleg) { l.pkts[l.find("video", 50, func(p *tpkt) bool { return p.p.Marker })].p.Marker = false }},
			verdict: StreamerSide, want: []want{{"frame-boundary", "ingest", "without the marker bit (RFC 7741", 1}}},
		{name: "VP8 frame without start upstream", base: vp8, ingest: []fault{func(l *tleg) {
			k := l.find("video", 40, func(p *tpkt) bool { return p.p.Payload[0]&0x10 != 0 })
			l.pkts[k].p.Payload[0] &^= 0x10
		}}, verdict: StreamerSide, want: []want{{"frame-boundary", "ingest", "which does not start a frame", 1}}},
		{name: "FU-A start dropped downstream", base: h264, viewer: []fault{dropFirst("video", 60, func(p *tpkt) bool { return fuStart(p) && p.p.Payload[1]&0x1f == 1 })},
			verdict: ViewerSide, want: []want{{"h264-fu-a", "viewer", "fragment without a start", 0}}},
		{name: "FU-A end missing upstream", base: h264, ingest: []fault{dropFirst("video", 60, fuEnd)},
			verdict: StreamerSide, want: []want{{"h264-fu-a", "ingest", "(end fragment missing)", 1}}},
		{name: "FU-A interrupted downstream", base: h264, viewer: []fault{func(l *tleg) {
			// An end fragment followed by a single NAL unit packet.
			for i := 60; ; i++ {
				if p, next := &l.pkts[l.nth("video", i)], &l.pkts[l.nth("video", i+1)]; fuEnd(p) && next.p.Payload[0]&0x1f < 24 {
					dropFirst("video", i, fuEnd)(l)
					return
				}
			}
		}},
			verdict: ViewerSide, want: []want{{"h264-fu-a", "viewer", "interrupts the fragmented NAL unit", 1}}},
		{name: "FU-A mixed NRI upstream", base: h264, ingest: []fault{func(l *tleg) { l.pkts[l.find("video", 3, fuMid)].p.Payload[0] ^= 0x20 }},
			verdict: StreamerSide, want: []want{{"h264-fu-a", "ingest", "NRI", 1}}},
		{name: "truncated STAP-A upstream", base: h264, ingest: []fault{func(l *tleg) {
			k := l.find("video", 50, stapA)
			l.pkts[k].p.Payload = l.pkts[k].p.Payload[:12]
		}}, verdict: StreamerSide, want: []want{{"h264-stap-a", "ingest", "overruns the 12-byte payload (RFC 6184 §5.7.1)", 1}}},
		{name: "rotation appears downstream", base: h264, viewer: []fault{editFrom("video", 100, func(p *tpkt) { _ = p.p.SetExtension(7, []byte{1}) })},
			verdict: ViewerSide, want: []want{{"rotation", "viewer", "shows video-orientation 90° where the streamer's was 0° (sent at ingest seq", 128}}},
		{name: "extension ID not negotiated downstream", base: h264, viewer: []fault{editFrom("video", 0, func(p *tpkt) { _ = p.p.SetExtension(12, []byte{0x42}) })},
			verdict: ViewerSide, want: []want{{"extension-not-negotiated", "viewer", "ID 12", 228}}},
		{name: "abs-send-time bytes under the orientation ID", base: h264, viewer: []fault{editFrom("video", 10, func(p *tpkt) { _ = p.p.SetExtension(7, []byte{1, 2, 3}) })},
			verdict: ViewerSide, want: []want{{"extension-malformed", "viewer", "3-byte element under ID 7", 218}}},
		{name: "unknown payload type downstream", base: h264, viewer: []fault{edit("video", 10, func(p *tpkt) { p.p.PayloadType = 99 })},
			verdict: ViewerSide, want: []want{{"unknown-payload-type", "viewer", "payload type 99", 1}, {"loss", "viewer", "present in ingest", 1}}},
		{name: "PLI storm on the viewer leg", base: h264, viewer: []fault{feedback(time.Second, 4*time.Second, 100*time.Millisecond, func(int) rtcp.Packet {
			return &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: defaultSFU.vSSRC}
		})}, verdict: ViewerSide, want: []want{{"pli-storm", "viewer", "PLI/FIR about 0xaaaa0001", 0}}},
		{name: "NACK storm upstream", base: h264, ingest: []fault{feedback(time.Second, 2*time.Second, 10*time.Millisecond, func(i int) rtcp.Packet {
			return &rtcp.TransportLayerNack{MediaSSRC: 0x11223344, Nacks: []rtcp.NackPair{{PacketID: uint16(2100 + i%3)}}}
		})}, verdict: StreamerSide, want: []want{{"nack-storm", "ingest", "200 sequence numbers of 0x11223344 NACKed (3 distinct", 200}}},
		{name: "timestamp jump upstream", base: h264, ingest: []fault{editFromFrame("video", 100, func(p *tpkt) { p.p.Timestamp += 5 * 90000 })},
			verdict: StreamerSide, want: []want{{"timestamp-jump", "ingest", "RTP time moved 5.067s while", 1}}},
		{name: "timestamp backwards downstream", base: h264, viewer: []fault{editFromFrame("video", 100, func(p *tpkt) { p.p.Timestamp -= 90000 })},
			verdict: ViewerSide, want: []want{{"timestamp-backwards", "viewer", "RTP time went back 9", 1}, {"header-modified", "viewer", "timestamp offset changed by -90000", 1}}},
		{name: "sequence discontinuity downstream", base: h264, viewer: []fault{editFrom("video", 100, func(p *tpkt) { p.p.SequenceNumber += 20000 })},
			verdict: ViewerSide, want: []want{{"sequence-discontinuity", "viewer", "the sequence restarted", 1}}},
		{name: "freeze downstream", base: h264, viewer: []fault{stall("video", 120, 1500*time.Millisecond)}, verdict: ViewerSide,
			want: []want{{"freeze", "viewer", "no video for 1.5", 1}}},
		{name: "freeze upstream is inherited", base: h264, ingest: []fault{stall("video", 120, 1500*time.Millisecond)}, verdict: StreamerSide,
			want: []want{{"freeze", "ingest", "no video for 1.5", 1}}},
		{name: "jitter downstream", base: h264, viewer: []fault{func(l *tleg) {
			const q = 950 * time.Millisecond // arrivals bunched, never a second apart
			for i := range l.pkts {
				t0 := l.pkts[0].at
				l.pkts[i].at = t0.Add((l.pkts[i].at.Sub(t0) + q - 1) / q * q)
			}
		}}, verdict: ViewerSide, want: []want{{"jitter", "viewer", "interarrival jitter (RFC 3550 A.8) peaked at", 1}}},
		{name: "no keyframe upstream", base: h264, ingest: []fault{dropWhere("video", func(_ int, p *tpkt) bool { _, k := keys[p.p.Timestamp]; return k })},
			verdict: StreamerSide, want: []want{{"no-keyframe", "ingest", "not one keyframe", 1}}},
		{name: "viewer capture between two keyframes", base: h264, make: func(in *tleg) *tleg {
			// A capture started after one keyframe and stopped before
			// the next: no keyframe, as on the ingest leg then.
			v := in.viewer(defaultSFU)
			var from, to time.Time
			for _, p := range in.pkts {
				if k, ok := keys[p.p.Timestamp]; ok && k == 1 && from.IsZero() {
					from = p.at.Add(40 * time.Millisecond)
				}
				if k, ok := keys[p.p.Timestamp]; ok && k == 2 && to.IsZero() {
					to = p.at
				}
			}
			var keep []tpkt
			for _, p := range v.pkts {
				if p.at.After(from.Add(defaultSFU.delay)) && p.at.Before(to.Add(defaultSFU.delay)) {
					keep = append(keep, p)
				}
			}
			v.pkts = keep
			return v
		}, verdict: Clean},
		{name: "keyframes dropped downstream", base: h264, viewer: []fault{dropWhere("video", func(_ int, p *tpkt) bool {
			_, k := keys[p.p.Timestamp-defaultSFU.tsOff]
			return k
		})}, verdict: ViewerSide, want: []want{{"no-keyframe", "viewer", "not one keyframe", 1}}},
		{name: "frozen after loss downstream", base: h264,
			ingest: []fault{dropWhere("video", func(_ int, p *tpkt) bool { k, ok := keys[p.p.Timestamp]; return ok && k > 0 })},
			viewer: []fault{drop("video", 20, 2)}, verdict: ViewerSide,
			want: []want{{"frozen-after-loss", "viewer", "no keyframe until the end of the capture", 1}, {"loss", "viewer", "present in ingest", 2}}},
		{name: "publisher switch: viewer re-based, legs still aligned", base: h264, ingest: []fault{func(l *tleg) { l.splice(qvga, 300*time.Millisecond) }},
			make: func(in *tleg) *tleg {
				v := in.viewer(defaultSFU)
				sfuSwitch(v, len(h264.pkts), 90000)
				return v
			}, verdict: StreamerSide,
			want: []want{{"ssrc-change", "ingest", "video SSRCs 0x11223344", 1}, {"resolution-change", "viewer", "resolution 160×120 → 320×240", 1}}},
		{name: "resolution change is news, not a fault", base: h264, ingest: []fault{func(l *tleg) {
			l.splice(qvga, 300*time.Millisecond)
			for i := range l.pkts {
				if l.pkts[i].kind == "video" {
					l.pkts[i].p.SSRC = 0x11223344
				}
			}
			sfuSwitch(l, len(h264.pkts), 90000)
		}}, verdict: Clean, want: []want{{"resolution-change", "ingest", "resolution 160×120 → 320×240", 1}, {"parameter-set-change", "ingest", "new H.264 SPS", 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.base.clone()
			for _, f := range tc.ingest {
				f(in)
			}
			var vw *tleg
			if tc.make != nil {
				vw = tc.make(in)
			} else {
				vw = in.viewer(defaultSFU)
			}
			for _, f := range tc.viewer {
				f(vw)
			}
			rep, err := Run(Options{Ingest: in.write(t, "ingest"), Viewer: vw.write(t, "viewer-1")})
			if err != nil {
				t.Fatal(err)
			}
			check(t, rep, tc.verdict, tc.want)
		})
	}
}

// check asserts the verdict, the wanted findings, and what holds of every
// report: evidence everywhere, sides that follow legs, no blame on the
// side the verdict clears.
func check(t *testing.T, rep *Report, verdict string, wants []want) {
	t.Helper()
	dumpReport := func() string { b, _ := json.MarshalIndent(rep.Findings, "", " "); return string(b) }
	if rep.Verdict != verdict {
		t.Fatalf("verdict %s, want %s; findings %s", rep.Verdict, verdict, dumpReport())
	}
	for _, f := range rep.Findings {
		c, ok := classes[f.Class]
		if !ok || f.Evidence == "" || f.Count <= 0 || f.From.IsZero() || f.Level == "" {
			t.Errorf("finding %+v: unknown class, or no evidence, count or time", f)
		}
		_ = c
		switch {
		case f.Level == Info && f.Side != "":
			t.Errorf("info finding with a side: %+v", f)
		case f.Level != Info && f.Leg == "viewer" && f.Side != ViewerSide, f.Level != Info && f.Leg == "ingest" && f.Side != StreamerSide:
			t.Errorf("finding on leg %s attributed to %s", f.Leg, f.Side)
		case f.Level != Info && verdict == StreamerSide && f.Side == ViewerSide:
			t.Errorf("viewer side blamed: %+v", f)
		case f.Level != Info && verdict == ViewerSide && f.Side == StreamerSide:
			t.Errorf("streamer side blamed: %+v", f)
		case f.Level != Info && verdict == Clean:
			t.Errorf("clean legs with a finding: %+v", f)
		}
	}
	for _, w := range wants {
		found := false
		for _, f := range rep.Findings {
			if f.Class == w.class && f.Leg == w.leg && strings.Contains(f.Evidence, w.evidence) && (w.count == 0 || f.Count == w.count) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s finding on the %s leg with count %d and evidence %q: %s", w.class, w.leg, w.count, w.evidence, dumpReport())
		}
	}
}

// TestCorpusGroundTruth reads the committed captures as foreign pcapng
// files (dumpcap's, with ffmpeg's SDP given separately) and checks them
// against testdata/corpus/README.md.
func TestCorpusGroundTruth(t *testing.T) {
	type stream struct {
		ssrc          uint32
		packets, keys int
		w, h          int
	}
	for _, tc := range []struct {
		name    string
		streams []stream
	}{
		{"h264_opus", []stream{{0x11223344, 228, 4, 160, 120}, {0x22222222, 201, 0, 0, 0}}},
		{"h264_qvga", []stream{{0x12345678, 118, 2, 320, 240}}},
		{"vp8_opus", []stream{{0x11223344, 189, 4, 160, 120}, {0x22222222, 201, 0, 0, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "corpus", tc.name)
			sdp, err := os.ReadFile(path + ".sdp")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Run(Options{Ingest: []string{path + ".pcapng"}, SDP: string(sdp)})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != Clean || len(rep.Findings) != 0 {
				t.Fatalf("verdict %s, findings %+v", rep.Verdict, rep.Findings)
			}
			l := rep.legs[0]
			if len(l.streams) != len(tc.streams) {
				t.Fatalf("%d streams, want %d", len(l.streams), len(tc.streams))
			}
			for i, want := range tc.streams {
				s := l.streams[i]
				keys := 0
				var lastTS uint32
				for _, k := range s.order {
					if p := &s.pkts[k]; p.has(fKey) && p.has(fStart) && (keys == 0 || p.ts != lastTS) {
						keys, lastTS = keys+1, p.ts
					}
				}
				got := stream{s.ssrc, len(s.pkts), keys, s.lastW, s.lastH}
				if got != want {
					t.Errorf("stream %d: %+v, want %+v", i, got, want)
				}
			}
		})
	}
}

func TestIngestAlone(t *testing.T) {
	in := loadCorpus(t, "h264_opus")
	drop("video", 7, 1)(in)
	rep, err := Run(Options{Ingest: in.write(t, "ingest")})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rep, StreamerSide, []want{{"loss", "ingest", "1 of 228 packets missing: seq 2087", 1}})
	if len(rep.Findings) != 1 {
		t.Fatalf("%+v", rep.Findings)
	}
}

// TestUnalignedLegs: a viewer leg of another stream cannot be aligned; it
// is said so (info), and its anomalies are compared class by class.
func TestUnalignedLegs(t *testing.T) {
	in := loadCorpus(t, "h264_opus")
	vw := loadCorpus(t, "vp8_opus").viewer(defaultSFU)
	drop("video", 50, 2)(vw)
	rep, err := Run(Options{Ingest: in.write(t, "ingest"), Viewer: vw.write(t, "viewer-1")})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rep, ViewerSide, []want{{"legs-not-aligned", "viewer", "no payload of video 0xaaaa0001 occurs in the ingest leg", 0}, {"loss", "viewer", "2 of 189 packets missing", 2}})
}

// TestKeyframeInterval: a keyframe every 12 s is reported, with the gap.
func TestKeyframeInterval(t *testing.T) {
	l := newLeg("ingest", maphash.MakeSeed())
	d := l.describe(fuzzSDP(1))
	t0 := int64(1_800_000_000_000_000_000)
	l.start = t0
	key, delta := []byte{0x10, 0, 0, 0, 0x9d, 0x01, 0x2a, 0xa0, 0, 0x78, 0}, []byte{0x10, 0x01, 0, 0, 1}
	for i := range 30 * 25 {
		h := rtpHeader{pt: 96, ssrc: 9, seq: uint16(i), ts: uint32(i * 3000), marker: true, payload: delta}
		if i%(30*12) == 0 {
			h.payload = key
		}
		h.payload = append(append([]byte(nil), h.payload...), byte(i), byte(i>>8)) // distinct payloads
		l.add(t0+int64(i)*int64(time.Second)/30, int32(i), &h, d)
	}
	l.analyse()
	fs := l.findings(l.events, nil)
	if len(fs) != 1 || fs[0].Class != "keyframe-interval" || !strings.Contains(fs[0].Evidence, "12s between keyframes after seq 0") {
		t.Fatalf("%+v", fs)
	}
}

func TestReportJSON(t *testing.T) {
	in := loadCorpus(t, "vp8_opus")
	vw := in.viewer(defaultSFU)
	drop("video", 40, 3)(vw)
	rep, err := Run(Options{Ingest: in.write(t, "ingest"), Viewer: vw.write(t, "viewer-1")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || len(obj) != 2 || obj["verdict"] == nil || obj["findings"] == nil {
		t.Fatalf("want exactly {verdict, findings}: %s", b)
	}
	var fs []map[string]any
	if err := json.Unmarshal(obj["findings"], &fs); err != nil || len(fs) == 0 {
		t.Fatal(err)
	}
	for _, k := range []string{"class", "level", "leg", "side", "stream", "kind", "ssrc", "from_s", "to_s", "from", "to", "count", "evidence"} {
		if _, ok := fs[0][k]; !ok {
			t.Errorf("finding lacks %q: %s", k, b)
		}
	}
}

func TestHTML(t *testing.T) {
	in := loadCorpus(t, "h264_opus")
	drop("video", 40, 5)(in)
	vw := in.viewer(defaultSFU)
	drop("video", 100, 3)(vw)
	editFrom("video", 0, func(p *tpkt) { _ = p.p.SetExtension(12, []byte{0x42}) })(vw)
	feedback(time.Second, 500*time.Millisecond, 100*time.Millisecond, func(int) rtcp.Packet {
		return &rtcp.PictureLossIndication{MediaSSRC: defaultSFU.vSSRC}
	})(vw)
	rep, err := Run(Options{Ingest: in.write(t, "ingest"), Viewer: vw.write(t, "viewer-1")})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<svg", "ingest leg", "viewer leg", "<polyline", `class="verdict both"`, "extension-not-negotiated",
		"seq 2120–2124", "keyframe, video 0x11223344", "keyframe, video 0xaaaa0001", `fill="#d62728"`, `fill="#ff9f40"`, `fill="#9467bd"`,
		"packets lost on the way to the viewer", "already on the ingest leg where not marked red", "present in ingest, absent in viewer"} {
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

func TestWriteText(t *testing.T) {
	in := loadCorpus(t, "vp8_opus")
	vw := in.viewer(defaultSFU)
	drop("video", 40, 2)(vw)
	rep, err := Run(Options{Ingest: in.write(t, "ingest"), Viewer: vw.write(t, "viewer-1")})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || lines[0] != "verdict: viewer-side" ||
		!strings.HasPrefix(lines[1], "- loss on the viewer leg (viewer-side), video 0xaaaa0001: 2 of 189 packets missing: seq ") ||
		!strings.HasSuffix(lines[2], "count 2") {
		t.Fatalf("%s", b.String())
	}
}
