package loadtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/pionlog"
)

// nackRetries is how often one missing packet is NACKed; libwebrtc's
// NackRequester gives up after 10 tries too.
const nackRetries = 10

// peers builds the viewers' PeerConnections. Everything that can be shared
// is shared, so that a viewer costs what a browser tab costs the server but
// little more than its sockets and goroutines here: one API (media engine,
// setting engine, interceptor registry) and one DTLS certificate.
type peers struct {
	api  *webrtc.API
	cert webrtc.Certificate
	rtcp *rtcpCountFactory
	// mu serialises NewPeerConnection so that the counting interceptor
	// the registry builds inside it goes to the right viewer.
	mu sync.Mutex
}

func newPeers(host string, log *slog.Logger, h hooks) (*peers, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, err
	}
	counts := &rtcpCountFactory{}
	gen, err := nack.NewGeneratorInterceptor(
		nack.GeneratorMaxNacksPerPacket(nackRetries),
		nack.WithGeneratorLoggerFactory(pionlog.Factory(log)),
	)
	if err != nil {
		return nil, fmt.Errorf("NACK generator: %w", err)
	}
	rr, err := report.NewReceiverInterceptor(report.WithReceiverLoggerFactory(pionlog.Factory(log)))
	if err != nil {
		return nil, fmt.Errorf("receiver reports: %w", err)
	}
	ir := &interceptor.Registry{}
	// The counter comes first: the chain wraps the RTCP writer in
	// registration order, so every later interceptor's NACKs and the
	// viewer's own PLIs (pc.WriteRTCP) pass through it.
	ir.Add(counts)
	for _, f := range h.interceptors {
		ir.Add(f)
	}
	ir.Add(gen)
	ir.Add(rr)

	se := webrtc.SettingEngine{LoggerFactory: pionlog.Factory(log)}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	// mDNS would add a multicast socket and a goroutine per viewer for
	// candidates nobody sends us.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	if isLoopback(host) {
		// A server on this machine is reached over loopback: gathering on
		// the other interfaces too would double the sockets and the ICE
		// checks the server answers, for pairs it never selects.
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	if h.settings != nil {
		h.settings(&se)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("DTLS key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("DTLS certificate: %w", err)
	}
	return &peers{
		api:  webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)),
		cert: *cert,
		rtcp: counts,
	}, nil
}

// registerCodecs offers what a browser offers for receiving, minus RTX
// (bcast retransmits on the original SSRC), ulpfec/red and TWCC: VP8, VP9,
// H.264 in the common profiles, AV1 and Opus, with NACK and PLI feedback,
// and the header extensions a browser negotiates, so that the server does
// its per-viewer extension work for us as it would for a browser.
func registerCodecs(m *webrtc.MediaEngine) error {
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	video := func(pt uint8, mime, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: fb},
			PayloadType:        webrtc.PayloadType(pt),
		}
	}
	for _, c := range []webrtc.RTPCodecParameters{
		video(96, webrtc.MimeTypeVP8, ""),
		video(98, webrtc.MimeTypeVP9, "profile-id=0"),
		video(102, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
		video(106, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
		video(112, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
		video(127, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"),
		video(45, webrtc.MimeTypeAV1, ""),
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("codec %s: %w", c.MimeType, err)
		}
	}
	opus := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("codec %s: %w", opus.MimeType, err)
	}
	for kind, uris := range map[webrtc.RTPCodecType][]string{
		webrtc.RTPCodecTypeVideo: {codec.ExtAbsSendTime, codec.ExtVideoOrientation, codec.ExtPlayoutDelay,
			codec.ExtVideoContentType, codec.ExtVideoTiming, codec.ExtColorSpace},
		webrtc.RTPCodecTypeAudio: {codec.ExtAbsSendTime, codec.ExtAudioLevel},
	} {
		for _, uri := range uris {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				return fmt.Errorf("extension %s: %w", uri, err)
			}
		}
	}
	return nil
}

// isLoopback reports whether host (from a URL, without port) names this
// machine's loopback interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newPeerConnection creates one viewer's PeerConnection and returns the
// counters of the RTCP it will send.
func (p *peers) newPeerConnection() (*webrtc.PeerConnection, *rtcpCounts, error) {
	counts := &rtcpCounts{}
	p.mu.Lock()
	p.rtcp.pending = counts
	pc, err := p.api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{p.cert}})
	p.rtcp.pending = nil
	p.mu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("peer connection: %w", err)
	}
	return pc, counts, nil
}

// rtcpCounts are the feedback packets one viewer sent.
type rtcpCounts struct {
	nacks atomic.Uint64
	plis  atomic.Uint64
}

// rtcpCountFactory builds the counting interceptor of each PeerConnection.
// The registry calls NewInterceptor inside api.NewPeerConnection, which
// peers.newPeerConnection runs under its mutex with pending set.
type rtcpCountFactory struct {
	pending *rtcpCounts
}

func (f *rtcpCountFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	c := f.pending
	if c == nil {
		c = &rtcpCounts{} // a PeerConnection not made by newPeerConnection
	}
	return &rtcpCounter{counts: c}, nil
}

// rtcpCounter counts the NACK and PLI packets a viewer writes. It does not
// look at anything else, so it costs nothing on the RTP path.
type rtcpCounter struct {
	interceptor.NoOp
	counts *rtcpCounts
}

func (c *rtcpCounter) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		n, err := w.Write(pkts, a)
		if err != nil {
			return n, err
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.TransportLayerNack:
				c.counts.nacks.Add(1)
			case *rtcp.PictureLossIndication:
				c.counts.plis.Add(1)
			}
		}
		return n, nil
	})
}
