package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/client"
	"github.com/bcastdev/bcast/codec"
)

// Join deadlines. A browser player shows an error after about as long.
const (
	signalTimeout  = 15 * time.Second // offer, ICE gathering and POST
	connectTimeout = 10 * time.Second // answer to ICE+DTLS connected
	mediaTimeout   = 10 * time.Second // connected to the first RTP packet
)

// readBufferSize holds any RTP packet pion delivers (its receive MTU is 1460).
const readBufferSize = 1500

// viewer is one WHEP session: a PeerConnection, its tracks and what
// happened to it.
type viewer struct {
	r    *runner
	http *http.Client
	c    counters

	// Set by the join goroutine; read by the end phase after the joins
	// have returned.
	pc       *webrtc.PeerConnection
	sess     *client.Session
	rtcp     *rtcpCounts
	failure  string // why the join failed; "" if it did not
	aborted  bool   // the run ended before the join completed
	received bool   // joined, connected and got media
	// Moments in nanoseconds since the run started.
	joinAt, postStart, postEnd time.Duration

	joined      atomic.Bool // the server answered 201
	failed      atomic.Bool
	connectedAt atomic.Int64
	dropped     atomic.Bool // the connection failed after it had been up

	connected chan struct{} // closed when ICE and DTLS are up
	down      chan struct{} // closed when the connection failed or closed
	media     chan struct{} // closed at the first RTP packet
	connOnce  sync.Once
	downOnce  sync.Once
	arrive    func() // at the burst gate; once

	mu      sync.Mutex
	closing bool
	tracks  []*trackReader
}

func newViewer(r *runner) *viewer {
	v := &viewer{
		r:         r,
		connected: make(chan struct{}),
		down:      make(chan struct{}),
		media:     make(chan struct{}),
		arrive:    func() {},
	}
	if r.gate != nil {
		v.arrive = sync.OnceFunc(r.gate.arrive)
	}
	v.http = &http.Client{Transport: &viewerTransport{base: r.transport, v: v}}
	return v
}

// join connects the viewer after delay and returns when it receives media,
// failed, or ctx ended.
func (v *viewer) join(ctx context.Context, delay time.Duration) {
	defer v.arrive() // a viewer that fails before its POST must not hold the others
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			v.aborted = true
			return
		}
	}
	if ctx.Err() != nil {
		v.aborted = true
		return
	}
	v.joinAt = v.r.now()
	pc, counts, err := v.r.peers.newPeerConnection()
	if err != nil {
		v.fail(err.Error())
		return
	}
	v.pc, v.rtcp = pc, counts
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			v.fail(fmt.Sprintf("transceiver: %v", err))
			return
		}
	}
	pc.OnConnectionStateChange(v.onState)
	pc.OnTrack(v.onTrack)

	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	sess, err := client.Signal(sctx, v.http, v.r.cfg.URL, "", pc)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			v.aborted = true
			return
		}
		v.fail(joinFailure(err))
		return
	}
	v.sess = sess
	v.joined.Store(true)

	t := time.NewTimer(connectTimeout)
	defer t.Stop()
	select {
	case <-v.connected:
	case <-v.down:
		v.fail("ICE/DTLS failed")
		return
	case <-t.C:
		v.fail(fmt.Sprintf("ICE/DTLS not connected within %s", connectTimeout))
		return
	case <-ctx.Done():
		v.aborted = true
		return
	}
	t.Reset(mediaTimeout)
	select {
	case <-v.media:
	case <-v.down:
		v.fail("connection lost before media")
		return
	case <-t.C:
		v.fail(fmt.Sprintf("no media within %s", mediaTimeout))
		return
	case <-ctx.Done():
		v.aborted = true
		return
	}
	v.received = true
}

// fail records why the join failed and leaves at once, as a browser player
// giving up would, so that the server's slot is freed.
func (v *viewer) fail(reason string) {
	v.failure = reason
	v.failed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	v.close(ctx, v.r.now())
}

// joinFailure names a signalling error the way the report groups them:
// without the per-viewer parts (session URLs, ports).
func joinFailure(err error) string {
	var se *client.StatusError
	var op *net.OpError
	switch {
	case errors.As(err, &se):
		if se.Reason != "" {
			return fmt.Sprintf("HTTP %d: %s", se.Code, se.Reason)
		}
		return fmt.Sprintf("HTTP %d %s", se.Code, http.StatusText(se.Code))
	case errors.Is(err, client.ErrGatherTimeout):
		return "ICE gathering did not complete"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", signalTimeout)
	case errors.As(err, &op):
		return "HTTP: " + op.Err.Error()
	}
	return err.Error()
}

func (v *viewer) onState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		v.connOnce.Do(func() {
			mark(&v.connectedAt, v.r.now())
			close(v.connected)
		})
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		v.mu.Lock()
		closing := v.closing
		v.mu.Unlock()
		if !closing && v.connectedAt.Load() != 0 {
			v.dropped.Store(true)
		}
		v.downOnce.Do(func() { close(v.down) })
	}
}

func (v *viewer) onTrack(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
	t := &trackReader{v: v, tr: tr, done: make(chan struct{})}
	if tr.Kind() == webrtc.RTPCodecTypeVideo {
		t.frames = newFrameTracker(&v.c)
	}
	v.mu.Lock()
	if v.closing {
		v.mu.Unlock()
		return
	}
	v.tracks = append(v.tracks, t)
	v.mu.Unlock()
	go drainRTCP(rc)
	defer close(t.done)
	t.run()
}

// drainRTCP reads the sender reports the server sends, so that the
// receiver-report interceptor sees them (for its LSR/DLSR fields) and
// pion's buffer does not fill.
func drainRTCP(rc *webrtc.RTPReceiver) {
	buf := make([]byte, readBufferSize)
	for {
		if _, _, err := rc.Read(buf); err != nil {
			return
		}
	}
}

// trackReader reads one remote track. It owns seq and frames until done
// is closed.
type trackReader struct {
	v      *viewer
	tr     *webrtc.TrackRemote
	seq    seqCounter
	frames *frameTracker // video only
	done   chan struct{}
}

// run is the per-packet path: one read into a reused buffer, a header
// parse into a reused packet, a payload inspection, the frame tracker; no
// allocation.
func (t *trackReader) run() {
	v := t.v
	buf := make([]byte, readBufferSize)
	var p rtp.Packet
	pt := t.tr.PayloadType()
	c := codec.FromMime(t.tr.Codec().MimeType)
	for {
		n, _, err := t.tr.Read(buf)
		if err != nil {
			return
		}
		now := v.r.now()
		if err := p.Unmarshal(buf[:n]); err != nil {
			continue
		}
		v.c.packets.Add(1)
		v.c.bytes.Add(uint64(n))
		if v.c.firstPacket.CompareAndSwap(0, max(int64(now), 1)) {
			close(v.media)
		}
		ext := t.seq.push(p.SequenceNumber)
		if t.frames == nil {
			v.c.audioPackets.Add(1)
			continue
		}
		if p.PayloadType != uint8(pt) {
			// The server picked another codec (a new publisher); pion
			// has updated the track's codec by now.
			pt = webrtc.PayloadType(p.PayloadType)
			c = codec.FromMime(t.tr.Codec().MimeType)
		}
		info, _ := codec.Inspect(c, p.Payload) // unparsable: not a frame start
		pkt := packet{ext: ext, ts: p.Timestamp, marker: p.Marker, padding: len(p.Payload) == 0, info: info}
		if t.frames.push(now, pkt) {
			v.sendPLI(uint32(t.tr.SSRC()))
		}
	}
}

func (v *viewer) sendPLI(ssrc uint32) {
	if err := v.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		v.r.log.Debug("PLI not sent", "err", err)
	}
}

// close ends the session (DELETE), closes the PeerConnection and, once the
// track readers have returned, ends their frame tracking at end. It reports
// whether the DELETE failed.
func (v *viewer) close(ctx context.Context, end time.Duration) (deleteFailed bool) {
	v.mu.Lock()
	v.closing = true
	tracks := v.tracks
	v.mu.Unlock()
	if v.sess != nil {
		if err := v.sess.Close(ctx); err != nil {
			v.r.log.Debug("DELETE failed", "err", err)
			deleteFailed = true
		}
		v.sess = nil
	}
	if v.pc != nil {
		if err := v.pc.Close(); err != nil {
			v.r.log.Debug("close peer connection", "err", err)
		}
	}
	for _, t := range tracks {
		select {
		case <-t.done:
			if t.frames != nil {
				t.frames.finish(end)
			}
		case <-ctx.Done():
			return deleteFailed
		}
	}
	return deleteFailed
}

// lossCounts adds up the tracks' RFC 3550 loss estimates. Call it only
// after close has seen the readers return.
func (v *viewer) lossCounts() (expected, lost uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range v.tracks {
		select {
		case <-t.done:
			expected += t.seq.expected()
			lost += t.seq.lost()
		default: // still reading: its counters are not ours to look at
		}
	}
	return expected, lost
}

// viewerTransport is each viewer's view of the shared HTTP transport: it
// times the POST and, in burst mode, holds it at the gate until every
// viewer is ready to send its own.
type viewerTransport struct {
	base http.RoundTripper
	v    *viewer
}

func (t *viewerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost {
		return t.base.RoundTrip(req)
	}
	v := t.v
	v.arrive()
	if g := v.r.gate; g != nil {
		select {
		case <-g.open:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	v.postStart = v.r.now()
	resp, err := t.base.RoundTrip(req)
	v.postEnd = v.r.now()
	return resp, err
}

// gate releases all viewers' POSTs at once, when each has arrived (or
// given up before it could).
type gate struct {
	remaining atomic.Int64
	open      chan struct{}
}

func newGate(n int) *gate {
	g := &gate{open: make(chan struct{})}
	g.remaining.Store(int64(n))
	return g
}

func (g *gate) arrive() {
	if g.remaining.Add(-1) == 0 {
		close(g.open)
	}
}
