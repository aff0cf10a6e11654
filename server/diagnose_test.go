package server_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/diagnose"
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
