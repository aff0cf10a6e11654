package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/bcastdev/bcast/media"
)

// Publish sends the sources (at most one video and one audio) to a WHIP
// endpoint in real time until they end or ctx is done, then ends the
// session with DELETE. Keyframe requests cannot be honoured by files: the
// receiver waits for the next keyframe in the source.
func Publish(ctx context.Context, log *slog.Logger, url, token string, sources []media.Source) error {
	codecs := make([]string, len(sources))
	for i, s := range sources {
		codecs[i] = s.MimeType()
	}
	pc, err := newPeer(log)
	if err != nil {
		return err
	}
	defer pc.Close()
	tracks := make([]*webrtc.TrackLocalStaticSample, len(sources))
	for i, src := range sources {
		kind := "audio"
		if src.Channels() == 0 {
			kind = "video"
		}
		capability := webrtc.RTPCodecCapability{MimeType: src.MimeType(), ClockRate: src.ClockRate(), Channels: src.Channels()}
		if src.MimeType() == webrtc.MimeTypeH264 {
			capability.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
		}
		tr, err := webrtc.NewTrackLocalStaticSample(capability, kind, "bcast-publish")
		if err != nil {
			return fmt.Errorf("track for %s: %w", sources[i].MimeType(), err)
		}
		if err := addSender(pc, tr); err != nil {
			return fmt.Errorf("%s: %w", sources[i].MimeType(), err)
		}
		tracks[i] = tr
	}
	sess, failed, err := connect(ctx, pc, url, token)
	if err != nil || sess == nil {
		return err
	}
	defer func() { _ = sess.Close(context.Background()) }()
	log.Info("publishing", "url", url, "session", sess.Location, "codecs", codecs)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-failed:
			cancel()
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, len(sources))
	for i, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = media.Pace(ctx, src, func(s media.Sample) error {
				return tracks[i].WriteSample(pionmedia.Sample{Data: s.Data, Duration: s.Duration})
			})
		}()
	}
	wg.Wait()
	select {
	case <-failed:
		return errors.New("connection to the server was lost")
	default:
	}
	if err := errors.Join(errs...); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	// Packets written last may still be on their way: give them a moment
	// before DELETE tears the session down on the server.
	select {
	case <-time.After(tailDelay):
	case <-ctx.Done():
	}
	log.Info("finished publishing")
	return nil
}

// addSender adds track as a sendonly transceiver and reads its RTCP, which
// pion's NACK responder and report interceptors need to run.
func addSender(pc *webrtc.PeerConnection, track webrtc.TrackLocal) error {
	tx, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("transceiver: %w", err)
	}
	go func() {
		for {
			if _, _, err := tx.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	return nil
}

// tailDelay is how long a finished publisher keeps its session open so the
// last packets reach the server (and its dump) before DELETE.
const tailDelay = 500 * time.Millisecond

// connect signals pc to a WHIP endpoint and waits until media can flow. The
// returned channel closes when the connection later fails. A nil session
// with a nil error means ctx ended first.
func connect(ctx context.Context, pc *webrtc.PeerConnection, url, token string) (*Session, <-chan struct{}, error) {
	connected := make(chan struct{})
	failed := make(chan struct{})
	var connOnce, failOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			connOnce.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			failOnce.Do(func() { close(failed) })
		}
	})
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	sess, err := Signal(sctx, nil, url, token, pc)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Session, <-chan struct{}, error) {
		_ = sess.Close(context.Background())
		return nil, nil, err
	}
	select {
	case <-connected:
		return sess, failed, nil
	case <-failed:
		return fail(errors.New("connection to the server failed (ICE/DTLS)"))
	case <-time.After(15 * time.Second):
		return fail(errors.New("connection to the server did not complete within 15 s (is the ICE UDP port reachable?)"))
	case <-ctx.Done():
		return fail(nil)
	}
}
