package server

import (
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
	leg.Peer, leg.Server = dump.Addrs(p.pc)
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
