package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/bcastdev/bcast/client"
	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/server"
)

const (
	pubToken   = "test-publish-token"
	adminToken = "test-admin-token"
)

// testServer is a server on loopback with an ephemeral HTTP and UDP port.
type testServer struct {
	*server.Server
	base string
}

func startServer(t *testing.T, mutate func(*config.Server)) *testServer {
	t.Helper()
	return startServerOpts(t, mutate, server.Options{})
}

func startServerOpts(t *testing.T, mutate func(*config.Server), opts server.Options) *testServer {
	t.Helper()
	cfg := config.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.ICEUDPPort = 0
	cfg.PublishToken = pubToken
	cfg.AdminToken = adminToken
	cfg.DumpDir = t.TempDir()
	if mutate != nil {
		mutate(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("BCAST_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	opts.Config, opts.Logger = cfg, log
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = srv.Close()
	})
	return &testServer{Server: srv, base: "http://" + ln.Addr().String()}
}

// peerAPI builds a pion API whose header extensions are registered in the
// given order, so that the negotiated IDs differ between peers.
func peerAPI(t *testing.T, exts []string, first ...interceptor.Factory) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	for _, uri := range exts {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				t.Fatal(err)
			}
		}
	}
	ir := &interceptor.Registry{}
	for _, f := range first {
		ir.Add(f)
	}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

func newPC(t *testing.T, api *webrtc.API) *webrtc.PeerConnection {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

func signal(t *testing.T, pc *webrtc.PeerConnection, url, token string) *client.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := client.Signal(ctx, nil, url, token, pc)
	if err != nil {
		t.Fatalf("signal %s: %v", url, err)
	}
	return sess
}

// waitConnected waits for the peer connection to connect.
func waitConnected(t *testing.T, pc *webrtc.PeerConnection) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("peer connection did not connect: %s", pc.ConnectionState())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drainRTCP reads a sender's RTCP so pion's interceptors run; it counts PLIs.
func drainRTCP(s *webrtc.RTPSender, plis *countMu) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if _, ok := p.(*rtcp.PictureLossIndication); ok && plis != nil {
				plis.add()
			}
		}
	}
}

type countMu struct {
	mu sync.Mutex
	n  int
}

func (c *countMu) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *countMu) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// vp8Frames reads the demo clip's frames.
func vp8Frames(t *testing.T) [][]byte {
	t.Helper()
	return ivfFrames(t, "../demo/clip.ivf")
}

// ivfFrames reads the frames of an IVF file.
func ivfFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame)
	}
}

// h264AccessUnits reads testdata/clip.h264 as access units (lists of NALs).
func h264AccessUnits(t *testing.T) [][][]byte {
	t.Helper()
	f, err := os.Open("testdata/clip.h264")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][][]byte
	var cur [][]byte
	hasVCL := false
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		typ := nal.Data[0] & 0x1f
		vcl := typ == 1 || typ == 5
		firstSlice := vcl && len(nal.Data) > 1 && nal.Data[1]&0x80 != 0
		if hasVCL && (!vcl || firstSlice) {
			aus = append(aus, cur)
			cur, hasVCL = nil, false
		}
		cur = append(cur, append([]byte(nil), nal.Data...))
		hasVCL = hasVCL || vcl
	}
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	return aus
}

func annexB(nals [][]byte) []byte {
	var b bytes.Buffer
	for _, n := range nals {
		b.Write([]byte{0, 0, 0, 1})
		b.Write(n)
	}
	return b.Bytes()
}

// splitAnnexB splits an Annex-B buffer into NAL units.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte{0, 0, 1})
		if i < 0 {
			break
		}
		b = b[i+3:]
		j := bytes.Index(b, []byte{0, 0, 1})
		if j < 0 {
			out = append(out, b)
			break
		}
		n := b[:j]
		n = bytes.TrimRight(n, "\x00")
		out = append(out, n)
		b = b[j:]
	}
	return out
}

// publishSamples writes samples to track in real time until ctx ends,
// looping over them.
func publishSamples(ctx context.Context, track *webrtc.TrackLocalStaticSample, samples [][]byte, d time.Duration) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_ = track.WriteSample(media.Sample{Data: samples[i%len(samples)], Duration: d})
	}
}

// opusPayloads are synthetic 20 ms Opus packets numbered in their bytes, so
// the receiver can check order and identity.
func opusPayloads(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte{0xfc, 0xff, 0xfe, byte(i >> 8), byte(i)}
	}
	return out
}

// receiver collects what a viewer receives on one track.
type receiver struct {
	mu      sync.Mutex
	frames  [][]byte
	packets []*rtp.Packet
	track   *webrtc.TrackRemote
	params  webrtc.RTPParameters
}

func (r *receiver) snapshot() (frames [][]byte, packets []*rtp.Packet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...), append([]*rtp.Packet(nil), r.packets...)
}

// viewer is a pion WHEP viewer that reassembles frames.
type viewer struct {
	pc           *webrtc.PeerConnection
	sess         *client.Session
	video, audio *receiver
	tracks       *countMu
}

func watch(t *testing.T, base, stream string, exts []string) *viewer {
	t.Helper()
	pc := newPC(t, peerAPI(t, exts))
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	v := &viewer{pc: pc, video: &receiver{}, audio: &receiver{}, tracks: &countMu{}}
	pc.OnTrack(func(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
		v.tracks.add()
		r := v.audio
		var sb *samplebuilder.SampleBuilder
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			r = v.video
			switch strings.ToLower(tr.Codec().MimeType) {
			case "video/vp8":
				sb = samplebuilder.New(256, &codecs.VP8Packet{}, tr.Codec().ClockRate)
			case "video/h264":
				sb = samplebuilder.New(256, &codecs.H264Packet{}, tr.Codec().ClockRate)
			case "video/vp9":
				sb = samplebuilder.New(256, &codecs.VP9Packet{}, tr.Codec().ClockRate)
			case "video/av1":
				sb = samplebuilder.New(256, &codecs.AV1Depacketizer{}, tr.Codec().ClockRate)
			}
		}
		r.mu.Lock()
		r.track = tr
		r.params = rc.GetParameters()
		r.mu.Unlock()
		go func() {
			for {
				if _, _, err := rc.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.packets = append(r.packets, p)
			if sb != nil {
				sb.Push(p.Clone())
				for s := sb.Pop(); s != nil; s = sb.Pop() {
					r.frames = append(r.frames, s.Data)
				}
			}
			r.mu.Unlock()
		}
	})
	v.sess = signal(t, pc, base+"/api/whep/"+stream, "")
	return v
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// matchContiguous checks that got is a contiguous run of the looped source
// sequence src and returns the index in src where it starts.
func matchContiguous(got, src [][]byte, eq func(a, b []byte) bool) (int, error) {
	if len(got) == 0 {
		return 0, errors.New("nothing received")
	}
	start := -1
	for i, s := range src {
		if eq(got[0], s) {
			start = i
			break
		}
	}
	if start < 0 {
		return 0, fmt.Errorf("first received item (%d bytes) is not in the source", len(got[0]))
	}
	for i, g := range got {
		if want := src[(start+i)%len(src)]; !eq(g, want) {
			return start, fmt.Errorf("item %d (source %d) differs: got %d bytes, want %d", i, (start+i)%len(src), len(g), len(want))
		}
	}
	return start, nil
}

func httpDo(t *testing.T, method, url, token, ctype string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func vp8Payloader() rtp.Payloader { return &codecs.VP8Payloader{EnablePictureID: true} }
