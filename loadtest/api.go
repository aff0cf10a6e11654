package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/logging"
	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/dtlssrtp"
	"github.com/bcastdev/bcast/pionlog"
)

// nackRetries is how often one missing packet is NACKed; libwebrtc's
// NackRequester gives up after 10 tries too.
const nackRetries = 10

// peers is what every viewer's transport shares: one DTLS certificate
// (generating a key per viewer would cost the joins a millisecond of CPU
// each) and the local address that reaches the server.
type peers struct {
	cert        tls.Certificate
	fingerprint string // a=fingerprint value of cert
	localIP     netip.Addr
	loopback    bool // the server is this machine's loopback: only loopback candidates
	logs        logging.LoggerFactory
	// newDrop, when set (tests), gives each viewer a function that drops
	// received RTP after decryption, as a lossy network would before it.
	newDrop func() func(video bool, p *rtp.Packet) bool
}

func newPeers(host string, log *slog.Logger, h hooks) (*peers, error) {
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, fmt.Errorf("DTLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("DTLS certificate: %w", err)
	}
	fp, err := dtlssrtp.Of(leaf)
	if err != nil {
		return nil, err
	}
	ip, loopback, err := localIPFor(host)
	if err != nil {
		return nil, err
	}
	return &peers{
		cert:        cert,
		fingerprint: fp,
		localIP:     ip,
		loopback:    loopback,
		logs:        pionlog.Factory(log),
		newDrop:     h.newDrop,
	}, nil
}

// localIPFor returns the local address the route to host leaves from: the
// viewers' sockets bind to it, as a browser's host candidate would be.
func localIPFor(host string) (netip.Addr, bool, error) {
	if strings.EqualFold(host, "localhost") {
		return netip.MustParseAddr("127.0.0.1"), true, nil
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
		if lerr != nil || len(ips) == 0 {
			return netip.Addr{}, false, fmt.Errorf("resolve %s: %w", host, lerr)
		}
		ip = ips[0]
	}
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return ip, true, nil
	}
	// Connecting a UDP socket sends nothing; it asks the kernel for the
	// route's source address.
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 9)))
	if err != nil {
		return netip.Addr{}, false, fmt.Errorf("no route to %s: %w", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), false, nil
}

// rtcpCounts are the feedback packets one viewer sent.
type rtcpCounts struct {
	nacks atomic.Uint64
	plis  atomic.Uint64
}
