package dump

import (
	"net/netip"

	"github.com/pion/webrtc/v4"
)

// Addrs returns the remote and local addresses of pc's selected ICE
// candidate pair — the real 5-tuple a leg's synthetic headers should show —
// or zero values before the connection is up (Leg then uses TEST-NET).
// Under BUNDLE every transceiver shares one transport, so the first with a
// pair answers.
func Addrs(pc *webrtc.PeerConnection) (remote, local netip.AddrPort) {
	for _, t := range pc.GetTransceivers() {
		dtls := t.Receiver().Transport()
		if dtls == nil && t.Sender() != nil {
			dtls = t.Sender().Transport()
		}
		if dtls == nil {
			continue
		}
		if pair, err := dtls.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			return candidateAddr(pair.Remote), candidateAddr(pair.Local)
		}
	}
	return netip.AddrPort{}, netip.AddrPort{}
}

func candidateAddr(c *webrtc.ICECandidate) netip.AddrPort {
	if c == nil {
		return netip.AddrPort{}
	}
	a, err := netip.ParseAddr(c.Address)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), c.Port)
}
