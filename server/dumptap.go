package server

import (
	"net/netip"

	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/dump"
)

// startDump opens the ingest leg's dump once the connection is up and the
// addresses of the selected candidate pair are known.
func (s *Server) startDump(st *stream, p *publisher, tap *dump.Tap) {
	if s.dumps == nil {
		return
	}
	leg := dump.Leg{Stream: st.name, Name: "ingest"}
	if d := p.pc.LocalDescription(); d != nil {
		leg.SDP = d.SDP
	}
	for _, tr := range p.pc.GetTransceivers() {
		if pair, err := tr.Receiver().Transport().ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			leg.Peer = addrPort(pair.Remote)
			leg.Server = addrPort(pair.Local)
			break
		}
	}
	w, err := s.dumps.NewWriter(leg)
	if err != nil {
		s.log.Error("cannot dump ingest; streaming continues", "stream", st.name, "err", err)
		return
	}
	if !tap.SetWriter(w) {
		_ = w.Close()
		return
	}
	p.mu.Lock()
	closed := p.closed
	p.dump = w
	p.mu.Unlock()
	if closed { // the session ended while the writer was being opened
		_ = w.Close()
	}
}

func addrPort(c *webrtc.ICECandidate) netip.AddrPort {
	if c == nil {
		return netip.AddrPort{}
	}
	a, err := netip.ParseAddr(c.Address)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), c.Port)
}
