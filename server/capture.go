package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/rtcp"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/server/status"
)

// errNoDumps is returned when capture is asked for but dumping is off.
var errNoDumps = errors.New("dumps are disabled")

// errViewerGone is returned when the viewer left while its capture started.
var errViewerGone = errors.New("viewer left")

// startCapture records v's leg — every packet sent to the viewer after
// rewriting, the sender reports, and the RTCP the viewer sends back — into
// its own dump files (<stream>/viewer-<num>-<UTC start>-<n>.pcapng), the
// evidence `bcast diagnose` compares with the ingest dump.
func (s *Server) startCapture(st *stream, v *viewer) (*dump.Writer, error) {
	if s.dumps == nil {
		return nil, errNoDumps
	}
	if w := v.capture.Load(); w != nil {
		return w, nil
	}
	leg := dump.Leg{Stream: st.name, Name: fmt.Sprintf("viewer-%d", v.num)}
	leg.SDP = v.peer.Answer()
	leg.Peer, leg.Server = v.peer.Addrs()
	w, err := s.dumps.NewWriter(leg)
	if err != nil {
		return nil, err
	}
	if !v.capture.CompareAndSwap(nil, w) {
		_ = w.Close()
		return v.capture.Load(), nil
	}
	// A viewer removed meanwhile has had its stopCapture already.
	v.mu.Lock()
	gone := v.gone
	v.mu.Unlock()
	if gone {
		s.stopCapture(st, v)
		return nil, errViewerGone
	}
	for _, d := range v.downTracks() {
		d.SetTap(func(at time.Time, pkt []byte) { w.WriteRTP(dump.ToPeer, at, pkt) })
	}
	s.log.Info("viewer capture started", "stream", st.name, "viewer", v.num)
	return w, nil
}

// stopCapture ends v's capture, if any.
func (s *Server) stopCapture(st *stream, v *viewer) {
	w := v.capture.Swap(nil)
	if w == nil {
		return
	}
	for _, d := range v.downTracks() {
		d.SetTap(nil)
	}
	_ = w.Close()
	s.log.Info("viewer capture stopped", "stream", st.name, "viewer", v.num)
}

// captureRTCP records RTCP of a captured viewer leg.
func captureRTCP(v *viewer, dir dump.Direction, b []byte) {
	if w := v.capture.Load(); w != nil {
		w.WriteRTCP(dir, time.Now(), b)
	}
}

// handleRTCP feeds a viewer's RTCP (NACK, PLI, receiver reports) to the
// down tracks it is about, recording it when captured.
func (v *viewer) handleRTCP(b []byte) {
	captureRTCP(v, dump.FromPeer, b)
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, d := range v.downTracks() {
		ssrc := d.SSRC()
		var mine []rtcp.Packet
		for _, p := range pkts {
			for _, dst := range p.DestinationSSRC() {
				if dst == ssrc {
					mine = append(mine, p)
					break
				}
			}
		}
		if len(mine) > 0 {
			d.HandleRTCP(mine, &v.clock)
		}
	}
}

// viewerStatus is the admin view of one viewer.
func (v *viewer) status() status.Viewer {
	out := status.Viewer{ID: v.id, Num: v.num, Remote: v.remote, Since: v.since, State: v.state.Load().(string)}
	for _, d := range v.downTracks() {
		ds := d.Stats()
		out.Packets += ds.Packets
		out.Bytes += ds.Bytes
		out.NACKs += ds.NACKs
		out.PLIs += ds.PLIs
		if ds.Problem != "" {
			out.Problem = ds.Problem
		}
		if d == v.fv.Video {
			out.VideoCodec = ds.Codec
			out.LossPercent = float64(ds.FractionLost) * 100 / 256
			out.RTTMS = float64(ds.RTT.Microseconds()) / 1000
		} else {
			out.AudioCodec = ds.Codec
			if out.RTTMS == 0 {
				out.RTTMS = float64(ds.RTT.Microseconds()) / 1000
			}
		}
	}
	out.BitrateBPS = v.meter.bps.Load()
	if w := v.capture.Load(); w != nil {
		out.Capture = w.Stats().Segment
		if out.Capture == "" {
			out.Capture = "(starting)"
		}
	}
	return out
}
