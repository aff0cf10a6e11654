package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/h264writer"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/bcastdev/bcast/dump"
)

// rtpSink is what the pion media writers have in common.
type rtpSink interface {
	WriteRTP(*rtp.Packet) error
	Close() error
}

// openSink creates the writer for the output file once the codec is known.
func openSink(path string, codec webrtc.RTPCodecParameters) (rtpSink, error) {
	ext := strings.ToLower(filepath.Ext(path))
	mime := strings.ToLower(codec.MimeType)
	switch {
	case ext == ".ivf" && (mime == "video/vp8" || mime == "video/vp9" || mime == "video/av1"):
		return ivfwriter.New(path, ivfwriter.WithCodec(codec.MimeType))
	case ext == ".h264" && mime == "video/h264":
		return h264writer.New(path)
	case (ext == ".ogg" || ext == ".opus") && mime == "audio/opus":
		return oggwriter.New(path, codec.ClockRate, codec.Channels)
	}
	return nil, nil
}

func wantsKind(path string) webrtc.RTPCodecType {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ogg", ".opus":
		return webrtc.RTPCodecTypeAudio
	case ".ivf", ".h264":
		return webrtc.RTPCodecTypeVideo
	}
	return 0
}

type watchStats struct {
	packets, bytes atomic.Uint64
	codec          atomic.Value
}

// Watch joins a WHEP endpoint as a viewer, prints receive statistics to w
// every second and, when out is set, saves what arrives until ctx is done:
// .pcapng records the whole leg exactly as received (decrypted RTP and RTCP
// both ways, with the session's SDP, like the server's dumps) — the
// viewer-side evidence for `bcast diagnose`; .ivf (VP8/VP9/AV1), .h264 or
// .ogg/.opus save one track's media.
func Watch(ctx context.Context, url, out string, w io.Writer) error {
	capture := strings.EqualFold(filepath.Ext(out), ".pcapng")
	if out != "" && !capture && wantsKind(out) == 0 {
		return fmt.Errorf("-o %s: unknown extension; use .pcapng, .ivf, .h264, .ogg or .opus", out)
	}
	tap := &dump.Tap{}
	var first []interceptor.Factory
	if capture {
		first = append(first, tap) // only then: an unset tap would hold packets
	}
	var rec *legRecorder
	if capture {
		var err error
		if rec, err = newLegRecorder(out); err != nil {
			return err
		}
		defer rec.discard()
	}
	pc, err := newPeer(nil, first...)
	if err != nil {
		return err
	}
	defer pc.Close()
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fmt.Errorf("transceiver: %w", err)
		}
	}
	stats := map[webrtc.RTPCodecType]*watchStats{webrtc.RTPCodecTypeVideo: {}, webrtc.RTPCodecTypeAudio: {}}
	var (
		sinkMu  sync.Mutex
		sink    rtpSink
		sinkErr error
	)
	pc.OnTrack(func(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
		st := stats[tr.Kind()]
		st.codec.Store(tr.Codec().MimeType)
		go func() {
			for {
				if _, _, err := rc.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		var mine rtpSink
		if out != "" && !capture && wantsKind(out) == tr.Kind() {
			s, err := openSink(out, tr.Codec())
			sinkMu.Lock()
			switch {
			case err != nil:
				sinkErr = err
			case s == nil:
				sinkErr = fmt.Errorf("-o %s cannot hold %s", out, tr.Codec().MimeType)
			default:
				sink, mine = s, s
			}
			sinkMu.Unlock()
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			st.packets.Add(1)
			st.bytes.Add(uint64(len(p.Payload)))
			if mine != nil {
				sinkMu.Lock()
				if err := mine.WriteRTP(p); err != nil && sinkErr == nil {
					sinkErr = err
				}
				sinkMu.Unlock()
			}
		}
	})
	failed := make(chan struct{})
	var failOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected && rec != nil {
			rec.start(pc, tap)
		}
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			failOnce.Do(func() { close(failed) })
		}
	})
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	sess, err := Signal(sctx, nil, url, "", pc)
	cancel()
	if err != nil {
		return err
	}
	defer func() { _ = sess.Close(context.Background()) }()
	fmt.Fprintf(w, "watching %s\n", url)

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastV, lastA uint64
	var lostConn bool
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-failed:
			lostConn = true
			break loop
		case <-tick.C:
			v, a := stats[webrtc.RTPCodecTypeVideo], stats[webrtc.RTPCodecTypeAudio]
			vb, ab := v.bytes.Load(), a.bytes.Load()
			fmt.Fprintf(w, "%s  video %s %d pkts %.0f kbit/s  audio %s %d pkts %.0f kbit/s\n",
				pc.ConnectionState(), codecName(v), v.packets.Load(), float64(vb-lastV)*8/1000,
				codecName(a), a.packets.Load(), float64(ab-lastA)*8/1000)
			lastV, lastA = vb, ab
		}
	}
	_ = pc.Close()
	sinkMu.Lock()
	defer sinkMu.Unlock()
	if rec != nil {
		sinkErr = rec.finish()
	} else if sink != nil {
		if err := sink.Close(); err != nil && sinkErr == nil {
			sinkErr = err
		}
	} else if out != "" && sinkErr == nil {
		sinkErr = fmt.Errorf("no %s track arrived; %s not written", wantsKind(out).String(), out)
	}
	if rec != nil && sinkErr == nil {
		fmt.Fprintf(w, "recorded %s\n", out)
	}
	if lostConn && sinkErr == nil {
		return errors.New("connection to the server was lost")
	}
	return sinkErr
}

func codecName(s *watchStats) string {
	if c, ok := s.codec.Load().(string); ok {
		return c
	}
	return "-"
}

// legRecorder records a viewer leg through a dump.Tap into a temporary dump
// directory next to the output, then joins the segments into the one file
// asked for (pcapng files may hold several sections one after another).
type legRecorder struct {
	out, dir string
	store    *dump.Store
	mu       sync.Mutex
	w        *dump.Writer
}

func newLegRecorder(out string) (*legRecorder, error) {
	dir, err := os.MkdirTemp(filepath.Dir(out), ".bcast-watch-")
	if err != nil {
		return nil, fmt.Errorf("-o %s: %w", out, err)
	}
	store, err := dump.NewStore(dump.Options{Root: dir, SegmentBytes: 1 << 40, SegmentAge: 1 << 40})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &legRecorder{out: out, dir: dir, store: store}, nil
}

// start opens the writer once the connection is up: the negotiated SDP and
// the addresses of the selected candidate pair are known then.
func (r *legRecorder) start(pc *webrtc.PeerConnection, tap *dump.Tap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		return
	}
	leg := dump.Leg{Stream: "watch", Name: "viewer"}
	if d := pc.RemoteDescription(); d != nil {
		leg.SDP = d.SDP // the server's answer: the payload types and extmaps in use
	}
	leg.Peer, leg.Server = dump.Addrs(pc)
	w, err := r.store.NewWriter(leg)
	if err != nil || !tap.SetWriter(w) {
		return
	}
	r.w = w
}

// finish closes the recording and writes the output file.
func (r *legRecorder) finish() error {
	r.mu.Lock()
	w := r.w
	r.mu.Unlock()
	if w == nil {
		return fmt.Errorf("the connection never came up; %s not written", r.out)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	_ = r.store.Close()
	segs, _ := filepath.Glob(filepath.Join(r.dir, "watch", "*.pcapng"))
	sort.Strings(segs)
	f, err := os.Create(r.out)
	if err != nil {
		return fmt.Errorf("-o %s: %w", r.out, err)
	}
	for _, s := range segs {
		in, err := os.Open(s)
		if err != nil {
			_ = f.Close()
			return err
		}
		_, err = io.Copy(f, in)
		_ = in.Close()
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("-o %s: %w", r.out, err)
		}
	}
	return f.Close()
}

// discard removes the temporary directory.
func (r *legRecorder) discard() {
	_ = r.store.Close()
	_ = os.RemoveAll(r.dir)
}
