package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/forward"
)

// gatherTimeout bounds how long an answer waits for ICE candidates. With
// the shared UDP mux host candidates are known at once; the bound only
// matters when something is wrong.
const gatherTimeout = 3 * time.Second

// handleWHIP accepts a streamer's offer (RFC 9725 §4.2).
func (s *Server) handleWHIP(w http.ResponseWriter, r *http.Request) {
	name, ok := checkStream(w, r)
	if !ok {
		return
	}
	if !bearer(r, s.cfg.PublishToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bcast"`)
		s.logReject(r, http.StatusUnauthorized, "bad or missing publish token")
		httpError(w, http.StatusUnauthorized, "missing or wrong publish token (Authorization: Bearer <token>)")
		return
	}
	offer, ok := readOffer(w, r)
	if !ok {
		return
	}
	if _, reason := parseOffer(offer, "sendonly", "sendrecv"); reason != "" {
		s.logReject(r, http.StatusBadRequest, reason)
		httpError(w, http.StatusBadRequest, reason)
		return
	}
	st := s.getStream(name, true)
	p := &publisher{id: newID(), remote: s.clientAddr(r), since: time.Now(), nacks: newNACKCounter()}
	tap := &dump.Tap{}
	api, err := s.tr.ingestAPI(tap, p.nacks)
	if err != nil {
		s.forget(st)
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{s.tr.cert}})
	if err != nil {
		s.forget(st)
		httpError(w, http.StatusInternalServerError, "creating peer connection: "+err.Error())
		return
	}
	p.pc = pc
	pc.OnTrack(func(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) { s.ingestTrack(st, p, tr, rc) })
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		s.log.Debug("publisher state", "stream", name, "session", short(p.id), "state", state.String())
		switch state {
		case webrtc.PeerConnectionStateConnected:
			s.startDump(st, p, tap)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			st.endPublisher(p)
		}
	})
	answer, err := answerOffer(r.Context(), pc, offer)
	if err != nil {
		_ = pc.Close()
		s.forget(st)
		s.logReject(r, http.StatusBadRequest, err.Error())
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	st.setPublisher(p)
	s.log.Info("publisher connected", "stream", name, "session", short(p.id), "remote", p.remote)
	s.iceLinks(w)
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/api/whip/"+name+"/"+p.id)
	w.Header().Set("ETag", `"`+p.id+`"`)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
	// A publisher that never completes ICE would hold the stream forever.
	time.AfterFunc(s.reap, func() {
		if pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			st.endPublisher(p)
		}
	})
}

func (s *Server) handleWHIPDelete(w http.ResponseWriter, r *http.Request) {
	st := s.getStream(r.PathValue("stream"), false)
	var p *publisher
	if st != nil {
		p = st.publisherByID(r.PathValue("id"))
	}
	if p == nil {
		httpError(w, http.StatusNotFound, "no such publish session")
		return
	}
	st.endPublisher(p)
	w.WriteHeader(http.StatusOK)
}

// parseOffer validates an SDP offer and checks that it has at least one
// audio or video section with one of the wanted directions.
func parseOffer(offer string, dirs ...string) (*sdp.SessionDescription, string) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, "invalid SDP offer: " + err.Error()
	}
	kinds := offerKinds(&d)
	if len(kinds) == 0 {
		return nil, "SDP offer has no audio or video section"
	}
	for _, dir := range kinds {
		for _, want := range dirs {
			if dir == want {
				return &d, ""
			}
		}
	}
	return nil, "SDP offer has no media section with direction " + joinOr(dirs)
}

func joinOr(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " or "
		}
		out += x
	}
	return out
}

// answerOffer applies the offer, creates the answer and waits for ICE
// gathering, since bcast does not trickle: the answer carries the
// candidates.
func answerOffer(ctx context.Context, pc *webrtc.PeerConnection, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", errors.New("cannot apply SDP offer: " + err.Error())
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", errors.New("cannot answer SDP offer: " + err.Error())
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", errors.New("cannot apply SDP answer: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, gatherTimeout)
	defer cancel()
	select {
	case <-gathered:
	case <-ctx.Done():
	}
	return pc.LocalDescription().SDP, nil
}

// ingestTrack reads one of the streamer's tracks into the fan-out.
func (s *Server) ingestTrack(st *stream, p *publisher, tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
	info := forward.TrackInfo{Kind: tr.Kind(), Codec: tr.Codec(), Extensions: rc.GetParameters().HeaderExtensions}
	ssrc := uint32(tr.SSRC())
	t := forward.NewTrack(info, func() {
		_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}, forward.WithBatcher(s.tr.batch), forward.WithObserver(streamObserver{s.metrics, st}))
	if reason := st.addTrack(p, t); reason != "" {
		s.log.Warn("ingest track not forwarded", "stream", st.name, "kind", tr.Kind().String(), "rid", tr.RID(), "reason", reason)
		drain(tr)
		return
	}
	s.log.Info("ingest track", "stream", st.name, "session", short(p.id), "kind", tr.Kind().String(),
		"codec", tr.Codec().MimeType, "ssrc", ssrc)
	go func() {
		for {
			pkts, _, err := rc.ReadRTCP()
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				if sr, ok := pkt.(*rtcp.SenderReport); ok && sr.SSRC == ssrc {
					t.HandleSenderReport(sr)
				}
			}
		}
	}()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		t.Write(&pkt, buf[:n])
	}
}

// drain reads and discards a track nobody forwards, so pion's buffers do not
// fill and stall the connection's other tracks.
func drain(tr *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := tr.Read(buf); err != nil {
			return
		}
	}
}
