package server

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/forward"
	"github.com/bcastdev/bcast/litepeer"
	"github.com/bcastdev/bcast/server/status"
)

// stream is one named stream: at most one publisher session at a time and
// any number of viewers, who stay across publisher changes.
type stream struct {
	srv     *Server
	name    string
	fwd     *forward.Stream
	created time.Time

	mu        sync.Mutex
	pub       *publisher
	liveSince time.Time
	viewers   map[string]*viewer

	video, audio  rateMeter
	nextNum       int // numbers viewers as they join
	captured      int // viewers captured automatically (--dump-viewers)
	frames        uint64
	framesAt      time.Time
	fps           atomic.Uint64 // float64 bits
	egressPackets uint64        // of viewers that left, for monotonic metrics
	egressBytes   uint64

	lat latencyWindow // recent joins and first frames, for the console
}

func newStream(srv *Server, name string) *stream {
	return &stream{srv: srv, name: name, fwd: forward.NewStream(), created: time.Now(), viewers: make(map[string]*viewer)}
}

// publisher is one ingest session (WHIP or in-process source).
type publisher struct {
	id     string
	remote string
	since  time.Time
	pc     *webrtc.PeerConnection // nil for in-process sources
	cancel context.CancelFunc     // stops an in-process source
	dump   *dump.Writer           // ingest dump, nil until connected or when dumping failed
	nacks  *nackCounter           // NACKs sent to the streamer; nil for in-process sources

	mu     sync.Mutex
	tracks []*forward.Track
	closed bool
}

// viewer is one WHEP session.
type viewer struct {
	id      string // secret: it is the capability in the session URL
	num     int    // per-stream number, safe for logs and file names
	remote  string
	since   time.Time
	peer    *litepeer.Peer
	fv      *forward.Viewer
	clock   forward.SRClock
	state   atomic.Value // string: "connecting", "connected"
	capture atomic.Pointer[dump.Writer]
	meter   rateMeter

	closeOnce sync.Once
	mu        sync.Mutex // orders attaching to the fan-out with removal
	gone      bool
}

// attach joins v to the stream's fan-out, unless it already left, and
// reports whether it did.
func (v *viewer) attach(st *stream) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.gone {
		st.fwd.AddViewer(v.fv)
	}
	return !v.gone
}

func (v *viewer) downTracks() []*forward.DownTrack {
	var out []*forward.DownTrack
	if v.fv.Video != nil {
		out = append(out, v.fv.Video)
	}
	if v.fv.Audio != nil {
		out = append(out, v.fv.Audio)
	}
	return out
}

// setPublisher makes p the stream's publisher; a previous one is closed:
// the newest authenticated publish wins, as when OBS reconnects after a
// network blip before the old session timed out.
func (st *stream) setPublisher(p *publisher) {
	st.mu.Lock()
	old := st.pub
	st.pub = p
	st.liveSince = time.Now()
	st.mu.Unlock()
	text := "stream live"
	if p.remote != "" {
		text += " from " + p.remote
	}
	if old != nil {
		text += " (replaced the previous publisher)"
	}
	st.srv.events.Publish(status.Event{Kind: status.EventLive, Stream: st.name, Level: "info", Text: text})
	if old != nil {
		st.srv.log.Info("publisher replaced", "stream", st.name, "old", short(old.id), "new", short(p.id))
		st.closePublisher(old)
	}
}

// addTrack registers an ingest track of p and routes it to viewers if p is
// still the stream's publisher. It returns why not otherwise ("" when
// routed); the caller then does not forward the track.
func (st *stream) addTrack(p *publisher, t *forward.Track) (reason string) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return "session closed"
	}
	for _, x := range p.tracks {
		if x.Kind() == t.Kind() {
			// A second track of one kind is a simulcast layer (or a second
			// camera): viewers get one, so keep the first rather than
			// switching them back and forth.
			p.mu.Unlock()
			return "extra " + t.Kind().String() + " track (simulcast layers are not forwarded; publish one layer)"
		}
	}
	p.tracks = append(p.tracks, t)
	p.mu.Unlock()
	st.mu.Lock()
	current := st.pub == p
	st.mu.Unlock()
	if !current {
		return "session replaced"
	}
	st.fwd.SetTrack(t)
	return ""
}

// closePublisher ends p and unroutes its tracks (unless a newer publisher
// already replaced them).
func (st *stream) closePublisher(p *publisher) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	tracks := p.tracks
	dw := p.dump
	p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
	}
	if p.pc != nil {
		_ = p.pc.Close()
	}
	for _, t := range tracks {
		st.fwd.RemoveTrack(t)
	}
	if dw != nil {
		_ = dw.Close()
	}
}

// endPublisher is called when p's session ends by itself (DELETE, ICE
// failure, source finished).
func (st *stream) endPublisher(p *publisher) {
	st.mu.Lock()
	if st.pub == p {
		st.pub = nil
		st.srv.log.Info("stream offline", "stream", st.name, "session", short(p.id))
		st.srv.events.Publish(status.Event{Kind: status.EventOff, Stream: st.name, Level: "warn", Text: "stream offline: publisher left"})
	}
	st.mu.Unlock()
	st.closePublisher(p)
	st.srv.forget(st)
}

// publisherByID returns the current publisher if its id matches.
func (st *stream) publisherByID(id string) *publisher {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != nil && st.pub.id == id {
		return st.pub
	}
	return nil
}

// newViewerNum numbers a viewer before its connection callbacks can run.
func (st *stream) newViewerNum() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.nextNum++
	return st.nextNum
}

// addViewer registers v with the stream; it joins the fan-out when it
// connects (viewer.attach).
func (st *stream) addViewer(v *viewer) {
	st.mu.Lock()
	st.viewers[v.id] = v
	st.mu.Unlock()
}

func (st *stream) viewerByID(id string) *viewer {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.viewers[id]
}

// removeViewer ends v's session; safe to call more than once.
func (st *stream) removeViewer(v *viewer, reason string) {
	v.closeOnce.Do(func() {
		st.mu.Lock()
		delete(st.viewers, v.id)
		for _, d := range v.downTracks() {
			s := d.Stats()
			st.egressPackets += s.Packets
			st.egressBytes += s.Bytes
		}
		st.mu.Unlock()
		v.mu.Lock()
		v.gone = true
		st.fwd.RemoveViewer(v.fv)
		v.mu.Unlock()
		st.srv.stopCapture(st, v)
		v.peer.Close()
		st.srv.viewers.Add(-1)
		st.srv.metrics.viewerLeft(st.name)
		st.srv.log.Info("viewer left", "stream", st.name, "viewer", v.num, "reason", reason)
		st.srv.events.Publish(status.Event{Kind: status.EventLeave, Stream: st.name, Level: "info", Text: fmt.Sprintf("viewer %d left: %s", v.num, reason)})
		st.srv.forget(st)
	})
}

// autoCapture reports whether the viewer joining now is among the first n
// of the stream to be captured (--dump-viewers).
func (st *stream) autoCapture(n int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.captured >= n {
		return false
	}
	st.captured++
	return true
}

// idle reports whether nothing uses the stream any more.
func (st *stream) idle() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pub == nil && len(st.viewers) == 0
}

// closeAll ends every session of the stream (server shutdown).
func (st *stream) closeAll() {
	st.mu.Lock()
	p := st.pub
	st.pub = nil
	vs := make([]*viewer, 0, len(st.viewers))
	for _, v := range st.viewers {
		vs = append(vs, v)
	}
	st.mu.Unlock()
	if p != nil {
		st.closePublisher(p)
	}
	for _, v := range vs {
		st.removeViewer(v, "server shutdown")
	}
}

// tick runs once a second: samples bitrates and sends each connected viewer
// a sender report per track (RFC 3550 §6.2 suggests ≥ 5 s for large
// sessions; one per second keeps browsers' lip-sync and RTT fresh at a cost
// of two small packets per viewer per second).
//
// It returns the stream's egress bitrate (all viewers).
func (st *stream) tick(now time.Time) (egressBPS int64) {
	video, audio := st.fwd.Tracks()
	if video != nil {
		s := video.Stats()
		st.video.sample(s.Bytes, now)
		if !st.framesAt.IsZero() && s.Frames >= st.frames {
			fps := float64(s.Frames-st.frames) / now.Sub(st.framesAt).Seconds()
			st.fps.Store(math.Float64bits(fps))
		}
		st.frames, st.framesAt = s.Frames, now
	} else {
		st.video = rateMeter{}
		st.frames, st.framesAt = 0, time.Time{}
		st.fps.Store(0)
	}
	if audio != nil {
		st.audio.sample(audio.Stats().Bytes, now)
	} else {
		st.audio = rateMeter{}
	}

	st.mu.Lock()
	vs := make([]*viewer, 0, len(st.viewers))
	for _, v := range st.viewers {
		vs = append(vs, v)
	}
	st.mu.Unlock()
	for _, v := range vs {
		if v.state.Load() != "connected" {
			continue
		}
		var pkts []rtcp.Packet
		var bytes uint64
		for _, d := range v.downTracks() {
			if sr := d.SenderReport(now, &v.clock); sr != nil {
				pkts = append(pkts, sr)
			}
			bytes += d.Stats().Bytes
		}
		v.meter.sample(bytes, now)
		egressBPS += v.meter.bps.Load()
		if len(pkts) > 0 {
			_ = v.peer.WriteRTCP(pkts)
			if v.capture.Load() != nil {
				if b, err := rtcp.Marshal(pkts); err == nil {
					captureRTCP(v, dump.ToPeer, b)
				}
			}
		}
	}
	return egressBPS
}

// timelineLine is the stream's second in the metrics timeline.
func (st *stream) timelineLine(now time.Time) timelineLine {
	video, audio := st.fwd.Tracks()
	st.mu.Lock()
	line := timelineLine{Time: now.UTC(), Live: st.pub != nil, Viewers: len(st.viewers)}
	var dw *dump.Writer
	if st.pub != nil {
		st.pub.mu.Lock()
		dw = st.pub.dump
		st.pub.mu.Unlock()
	}
	st.mu.Unlock()
	if video != nil {
		line.VideoBPS, line.VideoLost = st.video.bps.Load(), video.Stats().Lost
		line.FPS = math.Float64frombits(st.fps.Load())
	}
	if audio != nil {
		line.AudioBPS, line.AudioLost = st.audio.bps.Load(), audio.Stats().Lost
	}
	if dw != nil {
		ds := dw.Stats()
		line.DumpDropped = ds.DroppedQueue + ds.DroppedError
		line.DumpErrorMsg = ds.LastError
	}
	return line
}

// status reports the stream for GET /api/streams.
func (st *stream) status(admin bool) status.Stream {
	video, audio := st.fwd.Tracks()
	st.mu.Lock()
	out := status.Stream{Name: st.name, Live: st.pub != nil, Viewers: len(st.viewers)}
	var nacks *nackCounter
	if st.pub != nil {
		nacks = st.pub.nacks
		out.UptimeSeconds = time.Since(st.liveSince).Seconds()
		if admin {
			out.Publisher = &status.Session{ID: st.pub.id, Remote: st.pub.remote, Since: st.pub.since, State: "live"}
			st.pub.mu.Lock()
			dw := st.pub.dump
			st.pub.mu.Unlock()
			if dw != nil {
				ds := dw.Stats()
				out.Dump = &status.Dump{Segment: ds.Segment, SegmentBytes: ds.SegmentBytes, Packets: ds.Packets,
					Dropped: ds.DroppedQueue + ds.DroppedError, BytesPerSecond: ds.BytesPerSecond, Error: ds.LastError}
			}
		}
	}
	st.mu.Unlock()
	out.Joins = st.lat.summary(time.Now())
	out.Video = trackStatus(video, &st.video, math.Float64frombits(st.fps.Load()))
	out.Audio = trackStatus(audio, &st.audio, 0)
	if nacks != nil {
		for _, m := range []*status.Media{out.Video, out.Audio} {
			if m != nil {
				m.NACKsSent = nacks.get(m.SSRC)
			}
		}
	}
	return out
}

// short is a session id cut to a log-safe prefix: the full id is the
// capability that ends the session (DELETE on its URL).
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
