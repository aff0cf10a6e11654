package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/client"
	"github.com/bcastdev/bcast/media"
)

func newPublishCmd() *cobra.Command {
	var (
		url, token string
		loop       bool
	)
	cmd := &cobra.Command{
		Use:   "publish --url URL --token T FILE...",
		Short: "Publish IVF (VP8/VP9/AV1), H264 Annex-B and Ogg/Opus files over WHIP in real time",
		Example: "  bcast publish --url http://localhost:8080/api/whip/live --token $TOKEN video.ivf audio.ogg\n" +
			"  bcast publish --url http://localhost:8080/api/whip/live --token $TOKEN --loop clip.h264",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if url == "" {
				return errors.New("--url is required (the WHIP endpoint, e.g. http://host:8080/api/whip/live)")
			}
			if token == "" {
				token = os.Getenv("BCAST_PUBLISH_TOKEN")
			}
			log := newLogger(cmd.ErrOrStderr(), "info")
			return runPublish(cmd.Context(), log, url, token, files, loop)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "WHIP endpoint URL")
	cmd.Flags().StringVar(&token, "token", "", "publish token (default $BCAST_PUBLISH_TOKEN)")
	cmd.Flags().BoolVar(&loop, "loop", false, "start over at the end of the files")
	return cmd
}

func runPublish(ctx context.Context, log *slog.Logger, url, token string, files []string, loop bool) error {
	sources := make([]media.Source, 0, len(files))
	defer func() {
		for _, s := range sources {
			_ = s.Close()
		}
	}()
	kinds := map[bool]string{}
	for _, f := range files {
		open := func() (media.Source, error) { return media.Open(f) }
		src, err := open()
		if err != nil {
			return err
		}
		video := src.Channels() == 0
		if prev, dup := kinds[video]; dup {
			_ = src.Close()
			return fmt.Errorf("%s and %s are both %s: give at most one video and one audio file", prev, f, kindName(video))
		}
		kinds[video] = f
		if loop {
			_ = src.Close()
			src = media.Loop(open)
		}
		sources = append(sources, src)
	}

	api, err := client.NewAPI(log)
	if err != nil {
		return err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
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
			return fmt.Errorf("track for %s: %w", files[i], err)
		}
		tx, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("transceiver for %s: %w", files[i], err)
		}
		go func() { // RTCP must be read for NACK/PLI handling to run
			for {
				if _, _, err := tx.Sender().ReadRTCP(); err != nil {
					return
				}
			}
		}()
		tracks[i] = tr
	}
	connected := make(chan struct{})
	failed := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			select {
			case <-failed:
			default:
				close(failed)
			}
		}
	})
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	sess, err := client.Signal(sctx, nil, url, token, pc)
	cancel()
	if err != nil {
		return err
	}
	defer func() { _ = sess.Close(context.Background()) }()
	select {
	case <-connected:
	case <-failed:
		return errors.New("connection to the server failed (ICE/DTLS)")
	case <-time.After(15 * time.Second):
		return errors.New("connection to the server did not complete within 15 s (is the ICE UDP port reachable?)")
	case <-ctx.Done():
		return nil
	}
	log.Info("publishing", "url", url, "session", sess.Location, "files", files)

	ctx, cancel = context.WithCancel(ctx)
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
	log.Info("finished publishing")
	return nil
}

func kindName(video bool) string {
	if video {
		return "video"
	}
	return "audio"
}
