package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/client"
	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/server/status"
)

var (
	vp8Cap  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	h264Cap = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	opusCap = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
)

// testPublisher is a pion WHIP publisher sending samples in real time.
type testPublisher struct {
	pc     *webrtc.PeerConnection
	sess   *client.Session
	plis   *countMu
	cancel context.CancelFunc
}

func (p *testPublisher) stop() {
	p.cancel()
	_ = p.sess.Close(context.Background())
	_ = p.pc.Close()
}

func publish(t *testing.T, base, stream string, videoCap webrtc.RTPCodecCapability, video [][]byte, audio [][]byte) *testPublisher {
	t.Helper()
	return publishVia(t, peerAPI(t, nil), base, stream, videoCap, video, audio)
}

// publishVia publishes with a given pion API (e.g. one that injects loss).
func publishVia(t *testing.T, api *webrtc.API, base, stream string, videoCap webrtc.RTPCodecCapability, video [][]byte, audio [][]byte) *testPublisher {
	t.Helper()
	pc := newPC(t, api)
	p := &testPublisher{pc: pc, plis: &countMu{}}
	vt, err := webrtc.NewTrackLocalStaticSample(videoCap, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	at, err := webrtc.NewTrackLocalStaticSample(opusCap, "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{vt, at} {
		tx, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go drainRTCP(tx.Sender(), p.plis)
	}
	p.sess = signal(t, pc, base+"/api/whip/"+stream, pubToken)
	waitConnected(t, pc)
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	t.Cleanup(p.stop)
	go publishSamples(ctx, vt, video, time.Second/30)
	go publishSamples(ctx, at, audio, 20*time.Millisecond)
	return p
}

// checkAudio asserts that the synthetic Opus packets arrived in order and intact.
func checkAudio(t *testing.T, r *receiver, min int) {
	t.Helper()
	_, pkts := r.snapshot()
	if len(pkts) < min {
		t.Fatalf("audio: %d packets, want at least %d", len(pkts), min)
	}
	payloads := make([][]byte, len(pkts))
	for i, p := range pkts {
		payloads[i] = p.Payload
	}
	if _, err := matchContiguous(payloads, opusPayloads(1000), bytes.Equal); err != nil {
		t.Fatalf("audio: %v", err)
	}
}

// checkSequence asserts one SSRC, payload type and a gapless sequence with
// non-decreasing timestamps (after loopback there is no loss to excuse a gap).
func checkSequence(t *testing.T, kind string, pkts []*rtp.Packet) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		a, b := pkts[i-1], pkts[i]
		if a.SSRC != b.SSRC || a.PayloadType != b.PayloadType {
			t.Fatalf("%s packet %d: SSRC/PT changed %d/%d -> %d/%d", kind, i, a.SSRC, a.PayloadType, b.SSRC, b.PayloadType)
		}
		if b.SequenceNumber != a.SequenceNumber+1 {
			t.Fatalf("%s packet %d: sequence %d follows %d", kind, i, b.SequenceNumber, a.SequenceNumber)
		}
		if d := b.Timestamp - a.Timestamp; d > 1<<31 {
			t.Fatalf("%s packet %d: timestamp went backwards %d -> %d", kind, i, a.Timestamp, b.Timestamp)
		}
	}
}

// TestVP8ViewerBeforeLive: a viewer waits for a stream that is not live yet,
// then receives every VP8 frame byte-identical and the audio in order.
func TestVP8ViewerBeforeLive(t *testing.T) {
	srv := startServer(t, nil)
	v := watch(t, srv.base, "live", nil)
	waitConnected(t, v.pc)

	frames := vp8Frames(t)
	pub := publish(t, srv.base, "live", vp8Cap, frames, opusPayloads(1000))
	waitFor(t, 15*time.Second, "60 video frames", func() bool { f, _ := v.video.snapshot(); return len(f) >= 60 })
	got, pkts := v.video.snapshot()
	if _, err := matchContiguous(got, frames, bytes.Equal); err != nil {
		t.Fatalf("video: %v", err)
	}
	first, err := codec.Inspect(codec.VP8, pkts[0].Payload)
	if err != nil || !first.Keyframe {
		t.Fatalf("first forwarded video packet is not a keyframe start: %+v %v", first, err)
	}
	checkSequence(t, "video", pkts)
	checkAudio(t, v.audio, 50)
	if pub.plis.get() == 0 {
		t.Error("the joining viewer's keyframe request never reached the publisher")
	}
}

// TestH264JoinLive: a viewer joins a live H264 stream and gets access units
// identical to the source, starting at a keyframe.
func TestH264JoinLive(t *testing.T) {
	srv := startServer(t, nil)
	aus := h264AccessUnits(t)
	samples := make([][]byte, len(aus))
	for i, au := range aus {
		samples[i] = annexB(au)
	}
	publish(t, srv.base, "h", h264Cap, samples, opusPayloads(1000))
	time.Sleep(300 * time.Millisecond)
	v := watch(t, srv.base, "h", nil)
	waitFor(t, 15*time.Second, "45 H264 frames", func() bool { f, _ := v.video.snapshot(); return len(f) >= 45 })
	got, pkts := v.video.snapshot()
	gotNALs := make([][]byte, 0, len(got))
	for _, f := range got {
		gotNALs = append(gotNALs, bytes.Join(splitAnnexB(f), []byte{0xff, 0xff, 0xff}))
	}
	srcNALs := make([][]byte, len(aus))
	for i, au := range aus {
		srcNALs[i] = bytes.Join(au, []byte{0xff, 0xff, 0xff})
	}
	if _, err := matchContiguous(gotNALs, srcNALs, bytes.Equal); err != nil {
		t.Fatalf("H264: %v", err)
	}
	if info, _ := codec.Inspect(codec.H264, pkts[0].Payload); !info.Keyframe {
		t.Fatal("first forwarded H264 packet is not a keyframe")
	}
	checkSequence(t, "video", pkts)
	checkAudio(t, v.audio, 25)
}

// TestPublisherTakeover: a second publish to a live stream replaces the
// first (new SSRC, new random sequence and timestamps); the viewer keeps its
// SSRC, a gapless sequence and growing timestamps, and never renegotiates.
func TestPublisherTakeover(t *testing.T) {
	srv := startServer(t, nil)
	frames := vp8Frames(t)
	pub1 := publish(t, srv.base, "s", vp8Cap, frames, opusPayloads(1000))
	v := watch(t, srv.base, "s", nil)
	waitFor(t, 10*time.Second, "frames from publisher 1", func() bool { f, _ := v.video.snapshot(); return len(f) >= 30 })
	_, before := v.video.snapshot()

	pub2 := publish(t, srv.base, "s", vp8Cap, frames, opusPayloads(1000))
	waitFor(t, 5*time.Second, "publisher 1 to be closed", func() bool {
		return pub1.pc.ConnectionState() == webrtc.PeerConnectionStateClosed ||
			pub1.pc.ConnectionState() == webrtc.PeerConnectionStateFailed ||
			pub1.pc.ConnectionState() == webrtc.PeerConnectionStateDisconnected
	})
	waitFor(t, 10*time.Second, "frames from publisher 2", func() bool {
		_, p := v.video.snapshot()
		return len(p) > len(before)+200
	})
	_, pkts := v.video.snapshot()
	checkSequence(t, "video", pkts)
	_, apkts := v.audio.snapshot()
	checkSequence(t, "audio", apkts)
	if n := v.tracks.get(); n != 2 {
		t.Fatalf("viewer saw %d tracks, want 2 (no renegotiation)", n)
	}
	streams := getStreams(t, srv.base, adminToken)
	if len(streams) != 1 || !streams[0].Live || streams[0].Viewers != 1 || streams[0].Publisher == nil {
		t.Fatalf("streams after takeover: %+v", streams)
	}
	if streams[0].Publisher.ID != strings.TrimPrefix(pub2.sess.Location[strings.LastIndex(pub2.sess.Location, "/"):], "/") {
		t.Fatalf("publisher %s is not the second session %s", streams[0].Publisher.ID, pub2.sess.Location)
	}
}

func getStreams(t *testing.T, base, token string) []status.Stream {
	t.Helper()
	resp, body := httpDo(t, "GET", base+"/api/streams", token, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/streams: %d %s", resp.StatusCode, body)
	}
	var out []status.Stream
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestViewerLimit: with --max-viewers 1 the second viewer gets 503 with
// Retry-After, and a slot frees when the first leaves.
func TestViewerLimit(t *testing.T) {
	srv := startServer(t, func(c *config.Server) { c.MaxViewers = 1 })
	v := watch(t, srv.base, "x", nil)
	pc := newPC(t, peerAPI(t, nil))
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.Signal(ctx, nil, srv.base+"/api/whep/x", "", pc)
	se, ok := err.(*client.StatusError)
	if !ok || se.Code != http.StatusServiceUnavailable || se.RetryAfter <= 0 {
		t.Fatalf("second viewer: got %v, want 503 with Retry-After", err)
	}
	if err := v.sess.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the slot to free", func() bool {
		s := getStreams(t, srv.base, "")
		return len(s) == 0
	})
	watch(t, srv.base, "x", nil)
}

// TestExtensionRewrite: publisher and viewer negotiate different extmap IDs.
// Every extension on the viewer's packets must be one the viewer negotiated,
// under the viewer's ID, and video-orientation must keep its value.
func TestExtensionRewrite(t *testing.T) {
	srv := startServer(t, nil)
	// Publisher order puts video-orientation on a low ID next to
	// extensions the viewer never negotiates.
	pubExts := []string{codec.ExtVideoOrientation, codec.ExtAbsSendTime, codec.ExtAudioLevel, codec.ExtPlayoutDelay}
	viewExts := []string{codec.ExtAudioLevel, codec.ExtAbsSendTime, codec.ExtAbsCaptureTime, codec.ExtVideoOrientation}

	pc := newPC(t, peerAPI(t, pubExts))
	vt, err := webrtc.NewTrackLocalStaticRTP(vp8Cap, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pc.AddTransceiverFromTrack(vt, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	go drainRTCP(tx.Sender(), nil)
	signal(t, pc, srv.base+"/api/whip/ext", pubToken)
	waitConnected(t, pc)
	pubIDs := map[string]uint8{}
	for _, e := range tx.Sender().GetParameters().HeaderExtensions {
		pubIDs[e.URI] = uint8(e.ID)
	}
	cvoPub := pubIDs[codec.ExtVideoOrientation]
	if cvoPub == 0 {
		t.Fatalf("publisher did not negotiate video-orientation: %v", pubIDs)
	}

	v := watch(t, srv.base, "ext", viewExts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		frames := vp8Frames(t)
		pk := rtp.NewPacketizer(1200, 96, 1234, vp8Payloader(), rtp.NewRandomSequencer(), 90000)
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, p := range pk.Packetize(frames[i%len(frames)], 3000) {
				_ = p.SetExtension(cvoPub, []byte{0x01})                           // 90°: a rotation the viewer must see as is
				_ = p.SetExtension(pubIDs[codec.ExtPlayoutDelay], []byte{0, 1, 2}) // not negotiated by the viewer
				_ = p.SetExtension(13, []byte{0xde, 0xad})                         // negotiated by nobody
				_ = vt.WriteRTP(p)
			}
		}
	}()
	waitFor(t, 10*time.Second, "video packets at the viewer", func() bool { _, p := v.video.snapshot(); return len(p) >= 100 })
	_, pkts := v.video.snapshot()
	v.video.mu.Lock()
	params := v.video.params
	v.video.mu.Unlock()
	viewIDs := map[uint8]string{}
	for _, e := range params.HeaderExtensions {
		viewIDs[uint8(e.ID)] = e.URI
	}
	cvoView := uint8(0)
	for id, uri := range viewIDs {
		if uri == codec.ExtVideoOrientation {
			cvoView = id
		}
	}
	if cvoView == 0 || cvoView == cvoPub {
		t.Fatalf("test setup: viewer CVO id %d, publisher %d; want both set and different (viewer exts %v)", cvoView, cvoPub, viewIDs)
	}
	for i, p := range pkts {
		for _, id := range p.GetExtensionIDs() {
			if _, ok := viewIDs[id]; !ok {
				t.Fatalf("packet %d carries extension id %d the viewer never negotiated (viewer has %v)", i, id, viewIDs)
			}
		}
		if b := p.GetExtension(cvoView); !bytes.Equal(b, []byte{0x01}) {
			t.Fatalf("packet %d: video-orientation under viewer id %d = %x, want 01", i, cvoView, b)
		}
	}
}

// TestIncompatibleViewerRefused: a viewer that can only decode VP8 asks for
// a live H264 stream and is refused with 406 naming both sides' codecs,
// never sent H264 under a VP8 payload type.
func TestIncompatibleViewerRefused(t *testing.T) {
	srv := startServer(t, nil)
	aus := h264AccessUnits(t)
	samples := make([][]byte, len(aus))
	for i, au := range aus {
		samples[i] = annexB(au)
	}
	publish(t, srv.base, "h", h264Cap, samples, opusPayloads(1000))
	waitFor(t, 5*time.Second, "the H264 track", func() bool {
		s := getStreams(t, srv.base, "")
		return len(s) == 1 && s[0].Video != nil
	})

	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8Cap, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m))
	pc := newPC(t, api)
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.Signal(ctx, nil, srv.base+"/api/whep/h", "", pc)
	se, ok := err.(*client.StatusError)
	if !ok || se.Code != http.StatusNotAcceptable || !strings.Contains(se.Reason, "H264") || !strings.Contains(se.Reason, "VP8") {
		t.Fatalf("got %v, want 406 naming H264 and VP8", err)
	}
	if s := getStreams(t, srv.base, ""); len(s) != 1 || s[0].Viewers != 0 {
		t.Fatalf("refused viewer still counted: %+v", s)
	}
}

// TestVP9AndAV1: the other browser codecs go through the same path; frames
// arrive byte-identical (AV1: as the same OBUs, see below), starting at a
// keyframe.
func TestVP9AndAV1(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		cap        webrtc.RTPCodecCapability
		codec      codec.Codec
	}{
		{"VP9", "testdata/clip-vp9.ivf", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0"}, codec.VP9},
		{"AV1", "testdata/clip-av1.ivf", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000}, codec.AV1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, nil)
			frames := ivfFrames(t, tc.file)
			v := watch(t, srv.base, "c", nil)
			publish(t, srv.base, "c", tc.cap, frames, opusPayloads(1000))
			waitFor(t, 15*time.Second, "30 frames", func() bool { f, _ := v.video.snapshot(); return len(f) >= 30 })
			got, pkts := v.video.snapshot()
			if tc.codec == codec.AV1 {
				// RTP carries OBUs without temporal delimiters and with
				// obu_size fields rewritten (AV1 RTP spec §5); compare the
				// OBU payloads.
				got, frames = mapFrames(got, av1OBUs), mapFrames(frames, av1OBUs)
			}
			if _, err := matchContiguous(got, frames, bytes.Equal); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if info, _ := codec.Inspect(tc.codec, pkts[0].Payload); !info.Keyframe {
				t.Fatalf("first forwarded %s packet is not a keyframe", tc.name)
			}
			checkSequence(t, "video", pkts)
			if s := getStreams(t, srv.base, ""); s[0].Video == nil || s[0].Video.Codec != tc.name {
				t.Fatalf("status codec %+v", s[0].Video)
			}
		})
	}
}

func mapFrames(frames [][]byte, f func([]byte) []byte) [][]byte {
	out := make([][]byte, len(frames))
	for i, fr := range frames {
		out[i] = f(fr)
	}
	return out
}

// av1OBUs reduces a temporal unit in low-overhead format to its OBU headers
// (without the size flag) and payloads, dropping temporal delimiters.
func av1OBUs(tu []byte) []byte {
	var out []byte
	for len(tu) > 0 {
		h := tu[0]
		ext := h&0x04 != 0
		hasSize := h&0x02 != 0
		hl := 1
		if ext {
			hl = 2
		}
		if len(tu) < hl {
			return append(out, 0xee)
		}
		size, n := len(tu)-hl, 0
		if hasSize {
			v, shift := 0, 0
			for n < 8 && hl+n < len(tu) {
				b := tu[hl+n]
				v |= int(b&0x7f) << shift
				n++
				shift += 7
				if b&0x80 == 0 {
					break
				}
			}
			size = v
		}
		start := hl + n
		if start+size > len(tu) {
			return append(out, 0xef)
		}
		if typ := (h >> 3) & 0x0f; typ != 2 { // 2 = temporal delimiter
			out = append(out, h&^0x02)
			if ext {
				out = append(out, tu[1])
			}
			out = append(out, tu[start:start+size]...)
		}
		tu = tu[start+size:]
	}
	return out
}
