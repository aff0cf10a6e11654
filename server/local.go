package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/forward"
	"github.com/bcastdev/bcast/media"
	"github.com/bcastdev/bcast/server/status"
)

// PublishLocal publishes in-process media sources (the demo clip) as stream
// name. It goes through the same fan-out as a WHIP publisher, takes over the
// stream like one, and returns when ctx is done, a source ends or fails, or
// a WHIP publisher takes the stream over.
func (s *Server) PublishLocal(ctx context.Context, name string, sources ...media.Source) error {
	if !status.ValidStreamName(name) {
		return fmt.Errorf("invalid stream name %q", name)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := s.getStream(name, true)
	p := &publisher{id: newID(), remote: "local", since: time.Now(), cancel: cancel}
	st.setPublisher(p)
	defer st.endPublisher(p)

	var wg sync.WaitGroup
	errs := make([]error, len(sources))
	for i, src := range sources {
		pay, pt, err := payloaderFor(src.MimeType())
		if err != nil {
			return err
		}
		kind := webrtc.RTPCodecTypeVideo
		if !codec.FromMime(src.MimeType()).IsVideo() {
			kind = webrtc.RTPCodecTypeAudio
		}
		params := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: src.MimeType(), ClockRate: src.ClockRate(), Channels: src.Channels()},
			PayloadType:        pt,
		}
		if codec.FromMime(src.MimeType()) == codec.H264 {
			params.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
		}
		// A file cannot make a keyframe on request: viewers wait for the
		// next one in the clip (the demo clip has one every two seconds).
		t := forward.NewTrack(forward.TrackInfo{Kind: kind, Codec: params}, nil, forward.WithBatcher(s.tr.batch), forward.WithObserver(streamObserver{s.metrics, st}))
		if st.addTrack(p, t) != "" {
			return nil
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			errs[i] = publishSource(ctx, src, t, pay, uint8(pt))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// publishSource packetizes samples in real time into t.
func publishSource(ctx context.Context, src media.Source, t *forward.Track, pay rtp.Payloader, pt uint8) error {
	clock := src.ClockRate()
	pk := rtp.NewPacketizer(1200, pt, rand.Uint32(), pay, rtp.NewRandomSequencer(), clock)
	buf := make([]byte, 1500)
	return media.Pace(ctx, src, func(smp media.Sample) error {
		n := uint32(smp.Duration.Seconds() * float64(clock))
		for _, pkt := range pk.Packetize(smp.Data, n) {
			m, err := pkt.MarshalTo(buf)
			if err != nil {
				return fmt.Errorf("marshal RTP: %w", err)
			}
			t.Write(pkt, buf[:m])
		}
		return nil
	})
}

// payloaderFor returns the RTP payloader and payload type for a codec.
func payloaderFor(mime string) (rtp.Payloader, webrtc.PayloadType, error) {
	switch codec.FromMime(mime) {
	case codec.VP8:
		return &codecs.VP8Payloader{EnablePictureID: true}, 96, nil
	case codec.VP9:
		return &codecs.VP9Payloader{}, 98, nil
	case codec.AV1:
		return &codecs.AV1Payloader{}, 45, nil
	case codec.H264:
		return &codecs.H264Payloader{}, 102, nil
	case codec.Opus:
		return &codecs.OpusPayloader{}, 111, nil
	}
	return nil, 0, fmt.Errorf("cannot publish codec %q", mime)
}
