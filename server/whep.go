package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/forward"
	"github.com/bcastdev/bcast/litepeer"
	"github.com/bcastdev/bcast/server/status"
	"github.com/bcastdev/bcast/sysinfo"
)

// Join protection figures.
const (
	// retryAfter is what a refused viewer is told to wait, in seconds.
	retryAfter = 5
	// fdReserve is kept free for the operator, dumps and the HTTP accept
	// loop: below it new viewers are refused instead of the process failing.
	fdReserve = 64
)

// errFull is returned when the viewer limit or the fd headroom is reached.
var errFull = errors.New("server full")

// fdCountTTL is how old the open-descriptor count behind the join guard
// may be.
const fdCountTTL = 100 * time.Millisecond

// fdCount is the open-descriptor count for the join guard, read from /proc
// at most every fdCountTTL. A read costs about half a microsecond per open
// descriptor, so reading it on every join made a burst quadratic: 1000
// joins at ~2000 descriptors spent 16 % of the CPU listing /proc/self/fd.
// Between reads each join counts as one more descriptor (its HTTP
// connection), so the estimate errs towards refusing.
type fdCount struct {
	mu    sync.Mutex
	at    time.Time
	n     int // -1: unknown on this platform
	since int // joins counted since the read
	read  func() int
}

func (c *fdCount) estimate(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= fdCountTTL || now.Before(c.at) {
		c.n, c.at, c.since = c.read(), now, 0
	}
	if c.n < 0 {
		return -1
	}
	n := c.n + c.since
	c.since++
	return n
}

// reserveViewer takes a viewer slot, or fails when the limit is reached.
func (s *Server) reserveViewer() error {
	for {
		n := s.viewers.Load()
		if limit := s.maxViewers.Load(); limit > 0 && n >= limit {
			return fmt.Errorf("%w: viewer limit %d reached", errFull, limit)
		}
		if s.viewers.CompareAndSwap(n, n+1) {
			break
		}
	}
	if limit := sysinfo.FDLimit(); limit > 0 {
		if open := s.fds.estimate(time.Now()); open >= 0 && uint64(open)+fdReserve >= limit {
			s.viewers.Add(-1)
			return fmt.Errorf("%w: %d of %d file descriptors in use", errFull, open, limit)
		}
	}
	return nil
}

// handleWHEP answers a viewer's recvonly offer. Joins run in parallel: no
// server-wide lock is held, and the answer needs no ICE gathering (the
// viewer peer is ICE-lite and lists the server's sockets), so the POST
// returns in well under a millisecond of CPU.
func (s *Server) handleWHEP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name, ok := checkStream(w, r)
	if !ok {
		return
	}
	offer, ok := readOffer(w, r)
	if !ok {
		return
	}
	d, reason := parseOffer(offer, "recvonly", "sendrecv")
	if reason != "" {
		s.logReject(r, http.StatusBadRequest, reason)
		httpError(w, http.StatusBadRequest, reason)
		return
	}
	if err := s.reserveViewer(); err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		s.metrics.refused.Inc()
		s.logReject(r, http.StatusServiceUnavailable, err.Error())
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	reserved := true
	defer func() {
		if reserved {
			s.viewers.Add(-1)
		}
	}()

	peer, err := s.tr.viewers.NewPeer(d)
	if err != nil {
		reason := err.Error()
		s.logReject(r, http.StatusBadRequest, reason)
		httpError(w, http.StatusBadRequest, reason)
		return
	}
	// Refuse now, with the reason, rather than send packets the viewer's
	// decoder cannot take. A viewer that arrived before the stream went live
	// learns it from the stream's status instead.
	st := s.getStream(name, true)
	if err := checkViewerCodecs(st, peer.Media()); err != nil {
		s.forget(st)
		s.logReject(r, http.StatusNotAcceptable, err.Error())
		httpError(w, http.StatusNotAcceptable, err.Error())
		return
	}
	v := &viewer{id: newID(), remote: s.clientAddr(r), since: start, peer: peer, fv: &forward.Viewer{}}
	v.state.Store("connecting")
	for i, m := range peer.Media() {
		dt := forward.NewDownTrack(m.Kind, "bcast")
		if _, err := dt.Bind(peer.TrackContext(i)); err != nil {
			s.forget(st)
			httpError(w, http.StatusInternalServerError, "binding track: "+err.Error())
			return
		}
		if m.Kind == webrtc.RTPCodecTypeVideo {
			v.fv.Video = dt
		} else {
			v.fv.Audio = dt
		}
	}
	v.num = st.newViewerNum()
	// --dump-viewers counts viewers in the order they joined, not the
	// order their handshakes happened to finish.
	capture := st.autoCapture(s.cfg.DumpViewers)
	err = peer.Start(litepeer.Handlers{
		// The viewer joins the fan-out once it can receive: the keyframe
		// its video track asks for on attaching then arrives when it is
		// useful, not while DTLS is still in flight.
		Connected: func() {
			if v.state.Swap("connected") == "connected" {
				return
			}
			if !v.attach(st) {
				return // removed while DTLS finished
			}
			s.metrics.join.Observe(time.Since(start).Seconds())
			st.lat.join(time.Since(start), time.Now())
			s.log.Debug("viewer connected", "stream", name, "viewer", v.num, "after", time.Since(start))
			if capture {
				if _, err := s.startCapture(st, v); err != nil {
					s.log.Warn("viewer capture failed; streaming continues", "stream", name, "viewer", v.num, "err", err)
				}
			}
		},
		Closed: func(reason string) { st.removeViewer(v, reason) },
		RTCP:   func(b []byte) { v.handleRTCP(b) },
	})
	if err != nil {
		s.forget(st)
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	reserved = false
	st.addViewer(v)
	s.metrics.viewerJoined(name)
	s.log.Info("viewer joined", "stream", name, "viewer", v.num, "remote", v.remote)
	s.events.Publish(status.Event{Kind: status.EventJoin, Stream: name, Level: "info", Text: fmt.Sprintf("viewer %d joined from %s", v.num, v.remote)})
	time.AfterFunc(s.reap, func() {
		if v.state.Load() != "connected" {
			st.removeViewer(v, "ICE/DTLS did not complete within "+s.reap.String())
		}
	})

	s.iceLinks(w)
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/api/whep/"+name+"/"+v.id)
	w.Header().Set("ETag", `"`+v.id+`"`)
	// A viewer's next request (DELETE) may come hours later: an idle
	// keep-alive connection until then would cost every viewer a file
	// descriptor, a goroutine and ~8 KiB of buffers on the server.
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, peer.Answer())
}

// checkViewerCodecs fails when the stream is live and a kind the viewer asked
// for cannot carry the stream's codec.
func checkViewerCodecs(st *stream, media []litepeer.Media) error {
	video, audio := st.fwd.Tracks()
	for _, m := range media {
		src := audio
		if m.Kind == webrtc.RTPCodecTypeVideo {
			src = video
		}
		if src == nil {
			continue
		}
		if err := forward.CheckCodecs(src.Info().Codec, m.Codecs); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) handleWHEPDelete(w http.ResponseWriter, r *http.Request) {
	st := s.getStream(r.PathValue("stream"), false)
	var v *viewer
	if st != nil {
		v = st.viewerByID(r.PathValue("id"))
	}
	if v == nil {
		httpError(w, http.StatusNotFound, "no such viewer session")
		return
	}
	st.removeViewer(v, "DELETE")
	w.WriteHeader(http.StatusOK)
}
