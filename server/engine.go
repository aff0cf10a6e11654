package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	piontransport "github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/dtlssrtp"
	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/litepeer"
	"github.com/bcastdev/bcast/pionlog"
	"github.com/bcastdev/bcast/udpbatch"
)

// viewerCodecs are what a viewer may receive. No RTX: retransmissions go on
// the original SSRC from the shared cache, which keeps the viewer leg one
// stream per kind. Feedback: NACK and PLI/FIR only (no REMB/TWCC: a broadcast
// forwards one bitrate and does not adapt per viewer).
func viewerCodecs() map[webrtc.RTPCodecType][]webrtc.RTPCodecParameters {
	video := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	v := func(pt uint8, mime, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: video},
			PayloadType:        webrtc.PayloadType(pt),
		}
	}
	return map[webrtc.RTPCodecType][]webrtc.RTPCodecParameters{webrtc.RTPCodecTypeVideo: {
		v(96, webrtc.MimeTypeVP8, ""),
		v(98, webrtc.MimeTypeVP9, "profile-id=0"),
		v(100, webrtc.MimeTypeVP9, "profile-id=2"),
		v(102, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
		v(104, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f"),
		v(106, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
		v(108, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
		v(112, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"),
		v(127, webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"),
		v(45, webrtc.MimeTypeAV1, ""),
	}, webrtc.RTPCodecTypeAudio: {{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}}}
}

// viewerExtensions are the header extensions a viewer may negotiate: the
// media-level ones we translate from the streamer (codec.EndToEnd) and
// abs-send-time, which we stamp ourselves per hop.
var viewerExtensions = map[webrtc.RTPCodecType][]string{
	webrtc.RTPCodecTypeVideo: {
		codec.ExtAbsSendTime, codec.ExtVideoOrientation, codec.ExtPlayoutDelay, codec.ExtColorSpace,
		codec.ExtVideoContentType, codec.ExtVideoTiming, codec.ExtAbsCaptureTime,
	},
	webrtc.RTPCodecTypeAudio: {codec.ExtAbsSendTime, codec.ExtAudioLevel, codec.ExtAbsCaptureTime},
}

// ingestExtensions are accepted from streamers in addition to what pion's
// default interceptors register (mid, rid, transport-cc).
var ingestExtensions = map[webrtc.RTPCodecType][]string{
	webrtc.RTPCodecTypeVideo: {
		codec.ExtAbsSendTime, codec.ExtVideoOrientation, codec.ExtPlayoutDelay, codec.ExtColorSpace,
		codec.ExtVideoContentType, codec.ExtVideoTiming, codec.ExtAbsCaptureTime,
	},
	webrtc.RTPCodecTypeAudio: {codec.ExtAbsSendTime, codec.ExtAudioLevel, codec.ExtAbsCaptureTime},
}

// transport is what every session of the server shares: one UDP socket
// per interface for all ICE traffic (publishers' PeerConnections and
// viewers' lite peers alike), one DTLS certificate, the setting engine of
// publishers and the host of viewers.
type transport struct {
	mux     *ice.MultiUDPMuxDefault
	batch   *udpbatch.Batcher // the mux's sockets: fan-outs cork them
	cert    webrtc.Certificate
	se      webrtc.SettingEngine
	viewers *litepeer.Host // viewers' sessions: send-only, ICE-lite
}

func newTransport(port int, natIP string, only []netip.Prefix, log *slog.Logger) (*transport, error) {
	lf := pionlog.Factory(log)
	std, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("network interfaces: %w", err)
	}
	batch := udpbatch.NewBatcher()
	mux, err := ice.NewMultiUDPMuxFromPort(port,
		ice.UDPMuxFromPortWithNet(batchNet{Net: std, batch: batch}),
		ice.UDPMuxFromPortWithLoopback(),
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4, ice.NetworkTypeUDP6),
		ice.UDPMuxFromPortWithLogger(lf.NewLogger("udpmux")),
		// Link-local IPv6 addresses need a zone and are unreachable from
		// anywhere that matters; each address costs every viewer a muxed
		// connection with its own goroutines.
		ice.UDPMuxFromPortWithIPFilter(func(ip net.IP) bool { return !ip.IsLinkLocalUnicast() && allowed(only, ip) }),
		ice.UDPMuxFromPortWithReadBufferSize(4<<20),
		ice.UDPMuxFromPortWithWriteBufferSize(4<<20),
	)
	if err == nil && len(mux.GetListenAddresses()) == 0 {
		_ = mux.Close()
		err = errors.New("no local address to listen on")
	}
	if err != nil && len(only) > 0 {
		return nil, fmt.Errorf("ICE UDP port %d on --ice-ips %v: %w", port, only, err)
	}
	if err != nil {
		return nil, fmt.Errorf("ICE UDP port %d: %w", port, err)
	}
	// One certificate for every connection: generating an ECDSA key per
	// viewer costs a millisecond of CPU each and serialises nothing useful.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		_ = mux.Close()
		return nil, fmt.Errorf("DTLS key: %w", err)
	}
	tlsCert, err := selfsign.SelfSign(key)
	if err == nil && tlsCert.Leaf == nil {
		tlsCert.Leaf, err = x509.ParseCertificate(tlsCert.Certificate[0])
	}
	if err != nil {
		_ = mux.Close()
		return nil, fmt.Errorf("DTLS certificate: %w", err)
	}
	cert := webrtc.CertificateFromX509(key, tlsCert.Leaf)
	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(mux)
	// One interface list for every ICE agent: without it each viewer's
	// agent lists the host's interfaces over netlink when it is created
	// (CPU on every join, ~8 KiB kept per viewer).
	se.SetNet(std)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetIncludeLoopbackCandidate(true)
	// No mDNS: a server advertises real addresses, and a browser's .local
	// candidates are not needed because its checks reach us and become
	// peer-reflexive. mDNS would cost every connection a socket (an fd) and
	// two goroutines.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	// AEAD AES-GCM first: cheaper than AES-CM + HMAC-SHA1 with AES-NI.
	se.SetSRTPProtectionProfiles(dtlssrtp.Profiles...)
	if natIP != "" {
		se.SetNAT1To1IPs([]string{natIP}, webrtc.ICECandidateTypeHost)
	}

	var nat netip.Addr
	if natIP != "" {
		if nat, err = netip.ParseAddr(natIP); err != nil {
			_ = mux.Close()
			return nil, fmt.Errorf("invalid NAT address %q: %w", natIP, err)
		}
	}
	sockets := map[netip.AddrPort]litepeer.AddrPortWriter{}
	for _, c := range batch.Conns() {
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
			sockets[a.AddrPort()] = c
		}
	}
	host, err := litepeer.NewHost(litepeer.HostConfig{
		Mux: mux, Sockets: sockets, NATIP: nat, Cert: tlsCert, Logs: lf, Log: log,
		Caps: litepeer.Capabilities{Codecs: viewerCodecs(), Extensions: viewerExtensions},
	})
	if err != nil {
		_ = mux.Close()
		return nil, err
	}
	return &transport{mux: mux, batch: batch, cert: cert, se: se, viewers: host}, nil
}

// batchNet is the host's network whose UDP sockets batch their writes
// (udpbatch): every ICE socket of the mux is one.
type batchNet struct {
	piontransport.Net
	batch *udpbatch.Batcher
}

func (n batchNet) ListenUDP(network string, laddr *net.UDPAddr) (piontransport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	if u, ok := c.(*net.UDPConn); ok {
		return n.batch.Wrap(u), nil
	}
	return c, nil
}

// ingestAPI builds the API of one publisher connection. Publishers are few,
// so each gets its own interceptor registry whose first interceptor is the
// dump tap of that session.
func (tr *transport) ingestAPI(tap *dump.Tap, nacks *nackCounter) (*webrtc.API, error) {
	se := tr.se
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("ingest codecs: %w", err)
	}
	for kind, uris := range ingestExtensions {
		for _, uri := range uris {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				return nil, fmt.Errorf("ingest extension %s: %w", uri, err)
			}
		}
	}
	ir := &interceptor.Registry{}
	ir.Add(tap)
	ir.Add(nacks)
	// NACK generator, receiver reports and transport-wide CC feedback toward
	// the streamer: its encoder needs them to recover losses and to ramp up.
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("ingest interceptors: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(ir)), nil
}

// offerKinds returns the direction of the first audio and video section of an offer.
func offerKinds(d *sdp.SessionDescription) map[webrtc.RTPCodecType]string {
	kinds := map[webrtc.RTPCodecType]string{}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Port.Value == 0 {
			continue // rejected / stopped section
		}
		dir := "sendrecv"
		for _, a := range m.Attributes {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				dir = a.Key
			}
		}
		switch m.MediaName.Media {
		case "video":
			if _, ok := kinds[webrtc.RTPCodecTypeVideo]; !ok {
				kinds[webrtc.RTPCodecTypeVideo] = dir
			}
		case "audio":
			if _, ok := kinds[webrtc.RTPCodecTypeAudio]; !ok {
				kinds[webrtc.RTPCodecTypeAudio] = dir
			}
		}
	}
	return kinds
}

// allowed reports whether ip is in one of the prefixes (--ice-ips); an
// empty list allows every address. Each allowed address is a socket and,
// per connection, a muxed conn with its goroutines: on a host with bridges
// and VPNs, listing the public address keeps viewers cheap.
func allowed(only []netip.Prefix, ip net.IP) bool {
	if len(only) == 0 {
		return true
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, p := range only {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
