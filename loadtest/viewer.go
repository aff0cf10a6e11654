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

	"github.com/bcastdev/bcast/client"
)

// Join deadlines. A browser player shows an error after about as long.
const (
	signalTimeout  = 15 * time.Second // POST to answer
	connectTimeout = 10 * time.Second // answer to ICE+DTLS connected
	mediaTimeout   = 10 * time.Second // connected to the first RTP packet
)

// viewer is one WHEP session: its transport (peer), its tracks and what
// happened to it.
type viewer struct {
	r    *runner
	http *http.Client
	c    counters
	rtcp rtcpCounts

	// Set by the join goroutine; read by the end phase after the joins
	// have returned.
	peer     *peer
	sess     *client.Session
	failure  string // why the join failed; "" if it did not
	aborted  bool   // the run ended before the join completed
	received bool   // joined, connected and got media
	// Moments in nanoseconds since the run started.
	joinAt, postStart, postEnd time.Duration

	joined      atomic.Bool // the server answered 201
	failed      atomic.Bool
	connectedAt atomic.Int64
	dropped     atomic.Bool // the connection failed after it had been up

	media  chan struct{} // closed at the first RTP packet
	arrive func()        // at the burst gate; once
}

func newViewer(r *runner) *viewer {
	v := &viewer{
		r:      r,
		media:  make(chan struct{}),
		arrive: func() {},
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
	p, err := newPeer(v.r.peers, v)
	if err != nil {
		v.fail(err.Error())
		return
	}
	v.peer = p

	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	sess, err := client.Post(sctx, v.http, v.r.cfg.URL, "", p.offer())
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
	if err := p.applyAnswer(sess.Answer); err != nil {
		v.fail(err.Error())
		return
	}
	p.start()

	t := time.NewTimer(connectTimeout)
	defer t.Stop()
	select {
	case <-p.connected:
		mark(&v.connectedAt, v.r.now())
	case <-p.down:
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
	case <-p.down:
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
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", signalTimeout)
	case errors.As(err, &op):
		return "HTTP: " + op.Err.Error()
	}
	return err.Error()
}

// close ends the session (DELETE), closes the transport and, once its
// reader has returned, ends the tracks' frame tracking at end. It reports
// whether the DELETE failed.
func (v *viewer) close(ctx context.Context, end time.Duration) (deleteFailed bool) {
	if v.peer != nil {
		v.peer.leaving()
	}
	if v.sess != nil {
		if err := v.sess.Close(ctx); err != nil {
			v.r.log.Debug("DELETE failed", "err", err)
			deleteFailed = true
		}
		v.sess = nil
	}
	if v.peer == nil {
		return deleteFailed
	}
	v.peer.close()
	for _, t := range v.peer.tracks { // the reader has returned: ours now
		if t.frames != nil {
			t.frames.finish(end)
		}
	}
	return deleteFailed
}

// lossCounts adds up the tracks' RFC 3550 loss estimates. Call it only
// after close has returned.
func (v *viewer) lossCounts() (expected, lost uint64) {
	if v.peer == nil {
		return 0, 0
	}
	v.peer.mu.Lock()
	defer v.peer.mu.Unlock()
	for _, t := range v.peer.tracks {
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
