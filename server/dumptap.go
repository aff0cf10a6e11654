package server

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/dump"
)

// dumpTap is the first interceptor of an ingest connection: it sees every
// RTP and RTCP packet right after SRTP decryption (RTX and padding included,
// exactly what the streamer sent) and every RTCP packet the server sends back
// (NACK, PLI, receiver reports, transport-wide feedback), and copies them to
// the leg's dump writer. Copies are non-blocking; the writer drops and counts
// when its queue is full.
type dumpTap struct {
	interceptor.NoOp
	w atomic.Pointer[dump.Writer]

	// Until the writer exists (it needs the selected candidate pair, known
	// once connected) packets wait here, so the first keyframe is not lost.
	mu      sync.Mutex
	pending []tapped
}

type tapped struct {
	dir  dump.Direction
	rtcp bool
	at   time.Time
	b    []byte
}

// maxPending bounds what waits for the writer: about a second of video.
const maxPending = 512

// put hands a packet to the writer, or keeps a copy until there is one.
func (t *dumpTap) put(dir dump.Direction, rtcp bool, b []byte) {
	now := time.Now()
	w := t.w.Load()
	if w == nil {
		t.mu.Lock()
		if w = t.w.Load(); w == nil {
			if len(t.pending) < maxPending {
				t.pending = append(t.pending, tapped{dir, rtcp, now, append([]byte(nil), b...)})
			}
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
	}
	if rtcp {
		w.WriteRTCP(dir, now, b)
	} else {
		w.WriteRTP(dir, now, b)
	}
}

// setWriter installs w and writes what waited for it, in order.
func (t *dumpTap) setWriter(w *dump.Writer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w.Load() != nil {
		return false
	}
	for _, p := range t.pending {
		if p.rtcp {
			w.WriteRTCP(p.dir, p.at, p.b)
		} else {
			w.WriteRTP(p.dir, p.at, p.b)
		}
	}
	t.pending = nil
	t.w.Store(w)
	return true
}

// NewInterceptor makes the tap its own factory: one tap per connection.
func (t *dumpTap) NewInterceptor(string) (interceptor.Interceptor, error) { return t, nil }

func (t *dumpTap) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil {
			t.put(dump.FromPeer, false, b[:n])
		}
		return n, a, err
	})
}

func (t *dumpTap) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil {
			t.put(dump.FromPeer, true, b[:n])
		}
		return n, a, err
	})
}

func (t *dumpTap) BindRTCPWriter(wr interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		if b, err := rtcp.Marshal(pkts); err == nil {
			t.put(dump.ToPeer, true, b)
		}
		return wr.Write(pkts, a)
	})
}

// startDump opens the ingest leg's dump once the connection is up and the
// addresses of the selected candidate pair are known.
func (s *Server) startDump(st *stream, p *publisher, tap *dumpTap) {
	if s.dumps == nil || tap.w.Load() != nil {
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
	if !tap.setWriter(w) {
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
