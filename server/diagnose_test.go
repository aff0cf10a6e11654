package server_test

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/diagnose"
	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/inspect"
)

// upstreamLoss drops every video packet whose sequence number is 3 mod 50
// on the publisher's side of the network — and its retransmissions (RTX
// carries the original sequence number first, RFC 4588) — so the loss is
// permanent, as on a bad uplink.
type upstreamLoss struct{ interceptor.NoOp }

func (u *upstreamLoss) NewInterceptor(string) (interceptor.Interceptor, error) { return u, nil }

func (u *upstreamLoss) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if !strings.HasPrefix(strings.ToLower(info.MimeType), "video/") {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, p []byte, a interceptor.Attributes) (int, error) {
		seq := h.SequenceNumber
		if h.SSRC != info.SSRC && len(p) >= 2 { // RTX: the original sequence number
			seq = uint16(p[0])<<8 | uint16(p[1])
		}
		if seq%50 == 3 {
			return len(p), nil
		}
		return w.Write(h, p, a)
	})
}

// TestDiagnoseUpstreamLoss: a publisher on a lossy uplink, the server's
// ingest dump and a capture of a viewer's leg; diagnose blames the
// streamer's side and cites the missing packets.
func TestDiagnoseUpstreamLoss(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, func(c *config.Server) { c.DumpDir = dir; c.DumpViewers = 1 })
	pub := publishVia(t, peerAPI(t, nil, &upstreamLoss{}), srv.base, "lossy", vp8Cap, vp8Frames(t), opusPayloads(1000))
	v := watch(t, srv.base, "lossy", nil)
	waitFor(t, 10*time.Second, "video at the viewer", func() bool { _, p := v.video.snapshot(); return len(p) > 200 })
	time.Sleep(2 * time.Second)
	pub.stop()
	_ = v.sess.Close(t.Context())
	waitFor(t, 5*time.Second, "the stream to end", func() bool { return len(getStreams(t, srv.base, "")) == 0 })

	all, err := inspect.Expand([]string{filepath.Join(dir, "lossy")})
	if err != nil {
		t.Fatal(err)
	}
	var ingest, viewer []string
	for _, f := range all {
		if strings.HasPrefix(filepath.Base(f), "viewer-") {
			viewer = append(viewer, f)
		} else {
			ingest = append(ingest, f)
		}
	}
	if len(ingest) == 0 || len(viewer) == 0 {
		t.Fatalf("captures: %v", all)
	}
	rep, err := diagnose.Run(diagnose.Options{Ingest: ingest, Viewer: viewer})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != diagnose.StreamerSide {
		t.Fatalf("verdict %s, want streamer-side: %+v", rep.Verdict, rep.Findings)
	}
	var loss *diagnose.Finding
	for i, f := range rep.Findings {
		if f.Class == "loss" && f.Leg == "ingest" && strings.HasPrefix(f.Stream, "video") {
			loss = &rep.Findings[i]
		}
	}
	if loss == nil || loss.Count == 0 || !strings.Contains(loss.Evidence, "seq ") {
		t.Fatalf("no ingest video loss with evidence: %+v", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Side == diagnose.ViewerSide {
			t.Errorf("the viewer side is blamed for %+v", f)
		}
	}
}

// downstreamLoss drops, on the viewer's side of the network, every video
// packet whose sequence number is 7 mod 40, retransmissions included (the
// server resends on the same SSRC; an RTX packet carries the original
// sequence number first, RFC 4588), so NACKs never repair it. Registered
// before the viewer's dump.Tap, it makes the viewer's capture lack packets
// the server's ingest dump has.
type downstreamLoss struct {
	interceptor.NoOp
	dropped atomic.Int64
}

func (d *downstreamLoss) NewInterceptor(string) (interceptor.Interceptor, error) { return d, nil }

func (d *downstreamLoss) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	if !strings.HasPrefix(strings.ToLower(info.MimeType), "video/") {
		return r
	}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := r.Read(b, a)
			if err != nil {
				return n, attr, err
			}
			var h rtp.Header
			hl, herr := h.Unmarshal(b[:n])
			if herr != nil {
				return n, attr, err
			}
			seq := h.SequenceNumber
			if h.SSRC != info.SSRC && n >= hl+2 { // RTX
				seq = uint16(b[hl])<<8 | uint16(b[hl+1])
			}
			if seq%40 != 7 {
				return n, attr, err
			}
			d.dropped.Add(1)
		}
	})
}

// TestDiagnoseDownstreamLoss: a clean publisher, and loss between the
// server and one viewer that records its own leg (as `bcast watch -o
// leg.pcapng` does, with the loss in front of its capture). Diagnose blames
// the viewer's side, cites the packets the ingest has and the viewer lacks
// in both numberings, and does not blame the streamer.
func TestDiagnoseDownstreamLoss(t *testing.T) {
	dir, vdir := t.TempDir(), t.TempDir()
	srv := startServer(t, func(c *config.Server) { c.DumpDir = dir })
	pub := publish(t, srv.base, "down", vp8Cap, vp8Frames(t), opusPayloads(1000))

	// The viewer: loss, then the tap, then pion's NACK generator and
	// receiver reports.
	loss, tap := &downstreamLoss{}, &dump.Tap{}
	store, err := dump.NewStore(dump.Options{Root: vdir})
	if err != nil {
		t.Fatal(err)
	}
	pc := newPC(t, peerAPI(t, nil, loss, tap))
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		once   sync.Once
		w      atomic.Pointer[dump.Writer]
		videoN atomic.Int64
	)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s != webrtc.PeerConnectionStateConnected {
			return
		}
		once.Do(func() {
			leg := dump.Leg{Stream: "watch", Name: "viewer", SDP: pc.RemoteDescription().SDP}
			leg.Peer, leg.Server = dump.Addrs(pc)
			wr, err := store.NewWriter(leg)
			if err != nil {
				t.Error(err)
				return
			}
			tap.SetWriter(wr)
			w.Store(wr)
		})
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
		go func() {
			for {
				if _, _, err := rc.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				videoN.Add(1)
			}
		}
	})
	sess := signal(t, pc, srv.base+"/api/whep/down", "")
	waitFor(t, 10*time.Second, "video at the viewer", func() bool { return videoN.Load() > 150 && loss.dropped.Load() > 3 })
	time.Sleep(time.Second)
	pub.stop()
	_ = sess.Close(t.Context())
	_ = pc.Close()
	waitFor(t, 5*time.Second, "the stream to end", func() bool { return len(getStreams(t, srv.base, "")) == 0 })
	if wr := w.Load(); wr == nil {
		t.Fatal("the viewer's capture never started")
	} else if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	_ = store.Close()

	ingest, err := inspect.Expand([]string{filepath.Join(dir, "down")})
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := inspect.Expand([]string{vdir})
	if err != nil || len(ingest) == 0 || len(viewer) == 0 {
		t.Fatalf("captures: %v %v %v", ingest, viewer, err)
	}
	rep, err := diagnose.Run(diagnose.Options{Ingest: ingest, Viewer: viewer})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != diagnose.ViewerSide {
		t.Fatalf("verdict %s, want viewer-side: %+v", rep.Verdict, rep.Findings)
	}
	var lossF *diagnose.Finding
	for i, f := range rep.Findings {
		if f.Class == "loss" && f.Leg == "viewer" && f.Kind == "video" {
			lossF = &rep.Findings[i]
		}
		if f.Side == diagnose.StreamerSide {
			t.Errorf("the streamer side is blamed for %+v", f)
		}
	}
	if lossF == nil || lossF.Count == 0 || lossF.Side != diagnose.ViewerSide ||
		!strings.Contains(lossF.Evidence, "present in ingest, absent in viewer (viewer seq ") {
		t.Fatalf("no viewer-side video loss with packet evidence: %+v", rep.Findings)
	}
	if lossF.Count > loss.dropped.Load() {
		t.Errorf("%d packets reported lost, %d dropped", lossF.Count, loss.dropped.Load())
	}
	for _, f := range rep.Findings {
		t.Logf("%s %s %s %s: %s", f.Level, f.Class, f.Leg, f.Stream, f.Evidence)
	}
}
