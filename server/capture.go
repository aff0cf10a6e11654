package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/rtcp"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/forward"
	"github.com/bcastdev/bcast/server/status"
)

// errNoDumps is returned when capture is asked for but dumping is off.
var errNoDumps = errors.New("dumps are disabled")

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
	if d := v.pc.LocalDescription(); d != nil {
		leg.SDP = d.SDP
	}
	leg.Peer, leg.Server = dump.Addrs(v.pc)
	w, err := s.dumps.NewWriter(leg)
	if err != nil {
		return nil, err
	}
	if !v.capture.CompareAndSwap(nil, w) {
		_ = w.Close()
		return v.capture.Load(), nil
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

// readViewerRTCP feeds a viewer's RTCP (NACK, PLI, receiver reports) to its
// down track until the connection closes, recording it when captured.
func readViewerRTCP(v *viewer, read func([]byte) (int, error), dt *forward.DownTrack) {
	buf := make([]byte, 1500)
	for {
		n, err := read(buf)
		if err != nil {
			return
		}
		captureRTCP(v, dump.FromPeer, buf[:n])
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		dt.HandleRTCP(pkts, &v.clock)
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
