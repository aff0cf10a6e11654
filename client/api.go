package client

import (
	"fmt"
	"log/slog"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/pionlog"
)

// NewAPI returns a pion API that behaves like a browser peer: default
// codecs, NACK generation and response, RTCP reports, TWCC, and the common
// media-level header extensions. Interceptors in first run before those
// (closest to the network), e.g. a dump.Tap.
func NewAPI(log *slog.Logger, first ...interceptor.Factory) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	for _, e := range []struct {
		uri  string
		kind webrtc.RTPCodecType
	}{
		{codec.ExtAbsSendTime, webrtc.RTPCodecTypeVideo},
		{codec.ExtVideoOrientation, webrtc.RTPCodecTypeVideo},
		{codec.ExtAudioLevel, webrtc.RTPCodecTypeAudio},
	} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.kind); err != nil {
			return nil, fmt.Errorf("extension %s: %w", e.uri, err)
		}
	}
	ir := &interceptor.Registry{}
	for _, f := range first {
		ir.Add(f)
	}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	if log != nil {
		se.LoggerFactory = pionlog.Factory(log)
	}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// newPeer is a PeerConnection on NewAPI(log, first...): the publishers'
// and the watcher's common start.
func newPeer(log *slog.Logger, first ...interceptor.Factory) (*webrtc.PeerConnection, error) {
	api, err := NewAPI(log, first...)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	return pc, nil
}
