package forward

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
)

// fakeContext stands in for pion's binding of a viewer transceiver.
type fakeContext struct {
	codecs []webrtc.RTPCodecParameters
	exts   []webrtc.RTPHeaderExtensionParameter
	ssrc   webrtc.SSRC
	w      *captureWriter
}

func (c *fakeContext) CodecParameters() []webrtc.RTPCodecParameters           { return c.codecs }
func (c *fakeContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return c.exts }
func (c *fakeContext) SSRC() webrtc.SSRC                                      { return c.ssrc }
func (c *fakeContext) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (c *fakeContext) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c *fakeContext) WriteStream() webrtc.TrackLocalWriter                   { return c.w }
func (c *fakeContext) ID() string                                             { return "x" }
func (c *fakeContext) RTCPReader() interceptor.RTCPReader                     { return nil }

// captureWriter records marshalled packets, as SRTP would see them.
type captureWriter struct {
	mu   sync.Mutex
	pkts []*rtp.Packet
	keep bool
	n    int
}

func (w *captureWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if !w.keep {
		return len(payload), nil
	}
	raw, err := (&rtp.Packet{Header: *h, Payload: payload}).Marshal()
	if err != nil {
		return 0, err
	}
	p := &rtp.Packet{}
	if err := p.Unmarshal(raw); err != nil {
		return 0, err
	}
	w.pkts = append(w.pkts, p)
	return len(raw), nil
}

func (w *captureWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *captureWriter) packets() []*rtp.Packet {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*rtp.Packet(nil), w.pkts...)
}

var (
	vp8  = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
	h264 = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "packetization-mode=1;profile-level-id=42e01f"}, PayloadType: 102}
	vp8Key   = []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0xaa, 0xbb}
	vp8Delta = []byte{0x10, 0x01, 0x00, 0x00, 0xcc}
	vp8Cont  = []byte{0x00, 0xdd, 0xee}
)

// viewerFor binds a down track with the given viewer-side codec payload type
// and extensions.
func viewerFor(t testing.TB, src *Track, viewerPT webrtc.PayloadType, exts []webrtc.RTPHeaderExtensionParameter) (*DownTrack, *captureWriter) {
	t.Helper()
	w := &captureWriter{keep: true}
	c := vp8
	c.PayloadType = viewerPT
	d := NewDownTrack(webrtc.RTPCodecTypeVideo, "s")
	if _, err := d.Bind(&fakeContext{codecs: []webrtc.RTPCodecParameters{h264, c}, exts: exts, ssrc: 777, w: w}); err != nil {
		t.Fatal(err)
	}
	if src != nil {
		d.SetSource(src)
	}
	return d, w
}

// feed writes packets with consecutive sequence numbers starting at seq.
func feed(tr *Track, ssrc uint32, seq uint16, ts uint32, payloads ...[]byte) {
	for i, pl := range payloads {
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq + uint16(i), Timestamp: ts, SSRC: ssrc, Marker: i == len(payloads)-1}, Payload: pl}
		raw, _ := p.Marshal()
		tr.Write(p, raw)
	}
}

func TestRewriteAndKeyframeWait(t *testing.T) {
	src := vp8
	src.PayloadType = 100
	var plis int
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: src}, func() { plis++ })
	d, w := viewerFor(t, tr, 120, nil)
	if plis != 1 {
		t.Fatalf("joining viewer sent %d keyframe requests, want 1", plis)
	}
	feed(tr, 5, 65530, 1000, vp8Delta, vp8Cont)        // before any keyframe: held back
	feed(tr, 5, 65532, 4000, vp8Key, vp8Cont, vp8Cont) // keyframe across the sequence wrap
	feed(tr, 5, 65535, 7000, vp8Delta, vp8Cont)
	got := w.packets()
	if len(got) != 5 {
		t.Fatalf("forwarded %d packets, want 5 (from the keyframe on)", len(got))
	}
	if !bytes.Equal(got[0].Payload, vp8Key) {
		t.Fatal("first forwarded packet is not the keyframe")
	}
	for i, p := range got {
		if p.SSRC != 777 || p.PayloadType != 120 {
			t.Fatalf("packet %d: SSRC %d PT %d, want viewer's 777/120", i, p.SSRC, p.PayloadType)
		}
		if i > 0 && p.SequenceNumber != got[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, p.SequenceNumber, got[i-1].SequenceNumber)
		}
	}
	if got[3].Timestamp-got[0].Timestamp != 3000 {
		t.Fatalf("timestamp delta %d, want 3000 (source spacing kept)", got[3].Timestamp-got[0].Timestamp)
	}
	if s := d.Stats(); s.Packets != 5 || s.Codec != "VP8" {
		t.Fatalf("stats %+v", s)
	}
}

func TestSourceSwitchIsSeamless(t *testing.T) {
	st := NewStream()
	a := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8}, nil)
	st.SetTrack(a)
	d, w := viewerFor(t, nil, 96, nil)
	st.AddViewer(&Viewer{Video: d})
	feed(a, 1, 100, 50000, vp8Key, vp8Cont)
	feed(a, 1, 102, 53000, vp8Delta)
	time.Sleep(20 * time.Millisecond)

	b := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8}, nil) // reconnect: new SSRC, sequence, timestamps
	st.SetTrack(b)
	st.RemoveTrack(a)
	feed(b, 2, 40000, 9, vp8Delta) // not a keyframe: waits
	feed(b, 2, 40001, 3009, vp8Key, vp8Cont)
	feed(a, 1, 103, 56000, vp8Delta) // late packet of the old source: dropped
	got := w.packets()
	if len(got) != 5 {
		t.Fatalf("got %d packets, want 5", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].SequenceNumber != got[i-1].SequenceNumber+1 || got[i].SSRC != got[0].SSRC {
			t.Fatalf("packet %d: seq %d after %d, ssrc %d", i, got[i].SequenceNumber, got[i-1].SequenceNumber, got[i].SSRC)
		}
	}
	gap := got[3].Timestamp - got[2].Timestamp
	if gap == 0 || gap > 1<<31 {
		t.Fatalf("timestamp across the switch moved by %d; want forward", gap)
	}
	if gap < 20*90 { // 20 ms of wall time elapsed between the two
		t.Fatalf("timestamp gap %d smaller than the elapsed wall time", gap)
	}
}

func TestIncompatibleCodec(t *testing.T) {
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000}, PayloadType: 45}}, nil)
	d, w := viewerFor(t, tr, 96, nil)
	feed(tr, 1, 1, 1, []byte{0x18, 0x0a, 0x0b})
	if len(w.packets()) != 0 {
		t.Fatal("packets sent to a viewer that cannot decode them")
	}
	if p := d.Problem(); p == "" || !bytes.Contains([]byte(p), []byte("AV1")) || !bytes.Contains([]byte(p), []byte("VP8")) {
		t.Fatalf("problem %q should name both codecs", p)
	}
	if err := CheckCodecs(tr.Info().Codec, []webrtc.RTPCodecParameters{vp8, h264}); err == nil {
		t.Fatal("CheckCodecs accepted AV1 for a VP8/H264 viewer")
	}
}

func TestExtensionTranslation(t *testing.T) {
	srcExts := []webrtc.RTPHeaderExtensionParameter{
		{URI: codec.ExtVideoOrientation, ID: 3},
		{URI: codec.ExtTransportCC, ID: 5},
		{URI: codec.ExtPlayoutDelay, ID: 6},
	}
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8, Extensions: srcExts}, nil)
	viewerExts := []webrtc.RTPHeaderExtensionParameter{
		{URI: codec.ExtAbsSendTime, ID: 2},
		{URI: codec.ExtVideoOrientation, ID: 11},
		{URI: codec.ExtTransportCC, ID: 3}, // the streamer's CVO ID means transport-cc here
	}
	_, w := viewerFor(t, tr, 96, viewerExts)
	p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1, Timestamp: 1, SSRC: 9}, Payload: vp8Key}
	_ = p.SetExtension(3, []byte{0x03})       // CVO 270°
	_ = p.SetExtension(5, []byte{0x00, 0x07}) // transport-cc of the ingest leg
	_ = p.SetExtension(6, []byte{1, 2, 3})    // playout delay, not negotiated by viewer
	_ = p.SetExtension(9, []byte{0xff})       // unknown
	raw, _ := p.Marshal()
	tr.Write(p, raw)
	got := w.packets()
	if len(got) != 1 {
		t.Fatalf("%d packets", len(got))
	}
	ids := got[0].GetExtensionIDs()
	want := map[uint8]bool{2: true, 11: true}
	if len(ids) != len(want) {
		t.Fatalf("extension ids %v, want exactly abs-send-time(2) and CVO(11)", ids)
	}
	for _, id := range ids {
		if !want[id] {
			t.Fatalf("unexpected extension id %d", id)
		}
	}
	if b := got[0].GetExtension(11); !bytes.Equal(b, []byte{0x03}) {
		t.Fatalf("CVO %x, want 03", b)
	}
	if got[0].GetExtension(3) != nil {
		t.Fatal("streamer's CVO bytes leaked under the viewer's transport-cc ID")
	}
}

func TestNACKFromSharedCache(t *testing.T) {
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8}, nil)
	d1, w1 := viewerFor(t, tr, 96, nil)
	d2, w2 := viewerFor(t, tr, 97, nil)
	feed(tr, 1, 500, 1, vp8Key, vp8Cont, vp8Cont, vp8Cont)
	for _, c := range []struct {
		d *DownTrack
		w *captureWriter
	}{{d1, w1}, {d2, w2}} {
		sent := c.w.packets()
		lost := sent[2]
		c.d.HandleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: 777,
			Nacks: []rtcp.NackPair{{PacketID: lost.SequenceNumber}, {PacketID: lost.SequenceNumber + 100}}}}, nil)
		all := c.w.packets()
		if len(all) != len(sent)+1 {
			t.Fatalf("retransmissions: %d, want 1", len(all)-len(sent))
		}
		re := all[len(all)-1]
		if re.SequenceNumber != lost.SequenceNumber || re.Timestamp != lost.Timestamp || !bytes.Equal(re.Payload, lost.Payload) || re.PayloadType != lost.PayloadType {
			t.Fatalf("retransmission %v differs from original %v", re.Header, lost.Header)
		}
		s := c.d.Stats()
		if s.NACKs != 2 || s.Retransmits != 1 || s.NACKMisses != 1 {
			t.Fatalf("stats %+v", s)
		}
	}
}

func TestKeyframeRequesterCoalesces(t *testing.T) {
	var mu sync.Mutex
	sent := 0
	k := NewKeyframeRequester(50*time.Millisecond, func() { mu.Lock(); sent++; mu.Unlock() })
	for range 100 {
		k.Request()
	}
	mu.Lock()
	if sent != 1 {
		t.Fatalf("%d PLIs sent at once, want 1", sent)
	}
	mu.Unlock()
	time.Sleep(120 * time.Millisecond)
	mu.Lock()
	if sent != 2 {
		t.Fatalf("%d PLIs after the interval, want 2 (one deferred for the coalesced requests)", sent)
	}
	mu.Unlock()
	// A keyframe arriving before a deferred request satisfies it.
	k.Request() // interval passed: sent at once
	k.Request() // deferred
	k.KeyframeArrived()
	time.Sleep(120 * time.Millisecond)
	if req, s := k.Counts(); req != 102 || s != 3 {
		t.Fatalf("counts %d requested / %d sent, want 102 / 3", req, s)
	}
}

func TestSenderReportFollowsStreamer(t *testing.T) {
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8}, nil)
	d, _ := viewerFor(t, tr, 96, nil)
	var clock SRClock
	if d.SenderReport(time.Now(), &clock) != nil {
		t.Fatal("sender report before any packet")
	}
	feed(tr, 1, 1, 90000, vp8Key)
	tr.HandleSenderReport(&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, RTPTime: 90000})
	sr := d.SenderReport(time.Now(), &clock)
	if sr == nil || sr.SSRC != 777 || sr.PacketCount != 1 {
		t.Fatalf("sender report %+v", sr)
	}
	first := w0(d)
	if diff := int64(sr.RTPTime - first); diff < 0 || diff > 900 {
		t.Fatalf("SR RTP time %d is %d away from the packet sent at the SR's moment", sr.RTPTime, diff)
	}
	// The viewer's report echoes our SR: RTT is measurable.
	d.HandleRTCP([]rtcp.Packet{&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: 777, FractionLost: 26,
		LastSenderReport: uint32(sr.NTPTime >> 16), Delay: 0}}}}, &clock)
	if s := d.Stats(); s.FractionLost != 26 || s.LastReceiverReport.IsZero() {
		t.Fatalf("receiver report not recorded: %+v", s)
	}
}

func w0(d *DownTrack) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastTS
}

// BenchmarkFanout is the per-packet·viewer cost of forwarding above pion's
// write path (rewrite, extension translation, locking), for packets written
// as they come and for frames of five held and written viewer by viewer
// (the path taken with UDP GSO batching).
func BenchmarkFanout(b *testing.B) {
	for _, held := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "held"}[held], func(b *testing.B) { benchFanout(b, held) })
	}
}

type nopBatcher struct{}

func (nopBatcher) Cork()           {}
func (nopBatcher) Uncork()         {}
func (nopBatcher) Coalesces() bool { return true }

func benchFanout(b *testing.B, held bool) {
	const viewers = 100
	var opts []TrackOption
	if held {
		opts = append(opts, WithBatcher(nopBatcher{}))
	}
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8, Extensions: []webrtc.RTPHeaderExtensionParameter{
		{URI: codec.ExtVideoOrientation, ID: 3}}}, nil, opts...)
	defer tr.Close()
	for range viewers {
		w := &captureWriter{}
		d := NewDownTrack(webrtc.RTPCodecTypeVideo, "s")
		_, _ = d.Bind(&fakeContext{codecs: []webrtc.RTPCodecParameters{vp8}, ssrc: 5,
			exts: []webrtc.RTPHeaderExtensionParameter{{URI: codec.ExtVideoOrientation, ID: 7}, {URI: codec.ExtAbsSendTime, ID: 2}}, w: w})
		d.SetSource(tr)
	}
	payload := make([]byte, 1100)
	copy(payload, vp8Key)
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, Timestamp: 1}, Payload: payload}
	_ = p.SetExtension(3, []byte{0x01})
	raw := make([]byte, 1500)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.SequenceNumber = uint16(i)
		p.Timestamp = uint32(i / 5 * 3000)
		p.Marker = i%5 == 4
		n, _ := p.MarshalTo(raw)
		tr.Write(p, raw[:n])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*viewers), "ns/pkt·viewer")
}
