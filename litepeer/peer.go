// Package litepeer is the server's WebRTC endpoint for viewers: a
// send-only peer that is ICE-lite (RFC 8445 §2.5), DTLS-SRTP (RFC 5764)
// and carries RTP and RTCP on one bundled, rtcp-muxed transport
// (RFC 8843, RFC 5761), built from pion's stun, dtls and srtp.
//
// Why not a pion PeerConnection: a viewer only ever receives one audio
// and one video track from a server with public addresses, so most of a
// PeerConnection is unused weight — a full ICE agent gathering and
// checking, an SCTP association, ~15 goroutines and ~150 KB of heap each,
// and every packet sent passes through five layers (interceptors, SRTP
// session, DTLS/SRTP mux, ICE conn, candidate) with their locks. A peer
// here is one goroutine per ICE socket, one for DTLS, and a send path
// that encrypts into the track's own buffer and hands the datagram to
// the socket.
//
// The peer shares the server's ICE sockets through pion's UDP mux, so
// publishers (full PeerConnections) and viewers use the same port.
package litepeer

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/randutil"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v4/packetio"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/dtlssrtp"
)

// Timing.
const (
	// ConsentTimeout ends a session whose viewer stopped proving it still
	// wants the media: no authenticated check or RTCP for this long.
	// Browsers check every 2.5-6 s; RFC 7675 §5.1 allows 30 s, a
	// broadcast server frees the slot sooner.
	ConsentTimeout = 15 * time.Second
	// handshakeTimeout bounds DTLS once the first record arrived.
	handshakeTimeout = 15 * time.Second
	// handshakesPerCPU bounds the DTLS handshakes under way at once. A
	// handshake is ~0.3 ms of CPU between network round trips: 32 per core
	// keeps a burst's run-queue wait near 10 ms while still completing
	// ~600 handshakes a second per core at 50 ms round trips.
	handshakesPerCPU = 32
	// slotHold is how long one handshake may keep its slot while it waits
	// on the network.
	slotHold = 2 * time.Second
	// hostPriority is a host candidate's priority (RFC 8445 §5.1.2.1),
	// carried by our own checks.
	hostPriority = 126<<24 | 65535<<8 | 255
	// closeGrace is how long after an alert record the viewer must stay
	// silent for the session to end: the record's type is readable by
	// anyone, so a forged one must not end a session that goes on.
	closeGrace = 2 * time.Second
	// maxValidated bounds the addresses a peer accepts media packets
	// from (one per candidate pair the viewer checked).
	maxValidated = 8
)

// Host is what every peer of a server shares: the ICE sockets (pion's UDP
// mux), the DTLS certificate and what viewers may receive.
type Host struct {
	mux         ice.UDPMux
	sockets     map[netip.AddrPort]AddrPortWriter
	locals      []net.Addr
	candidates  []netip.AddrPort
	cert        tls.Certificate
	fingerprint string
	caps        Capabilities
	logs        logging.LoggerFactory
	log         *slog.Logger
	slots       chan struct{} // DTLS handshakes under way
}

// HostConfig configures a Host.
type HostConfig struct {
	Mux ice.UDPMux
	// Sockets are the mux's own sockets by local address, when the
	// caller has them: media is written straight to them, skipping the
	// mux's per-write bookkeeping (~7 % of the CPU at 1000 viewers).
	// Checks and DTLS still go through the mux, whose replies register
	// the viewer's address with it.
	Sockets map[netip.AddrPort]AddrPortWriter
	NATIP   netip.Addr // advertised instead of the host's own addresses of its family (1:1 NAT)
	Cert    tls.Certificate
	Caps    Capabilities
	Logs    logging.LoggerFactory
	Log     *slog.Logger
}

// NewHost prepares peers on cfg.Mux's sockets.
func NewHost(cfg HostConfig) (*Host, error) {
	if len(cfg.Cert.Certificate) == 0 || cfg.Cert.Leaf == nil {
		return nil, errors.New("litepeer: certificate with parsed leaf required")
	}
	fp, err := dtlssrtp.Of(cfg.Cert.Leaf)
	if err != nil {
		return nil, err
	}
	h := &Host{
		mux: cfg.Mux, sockets: cfg.Sockets, locals: cfg.Mux.GetListenAddresses(), cert: cfg.Cert, fingerprint: fp, caps: cfg.Caps,
		logs: cfg.Logs, log: cfg.Log, slots: make(chan struct{}, handshakesPerCPU*runtime.GOMAXPROCS(0)),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.candidates = candidates(h.locals, cfg.NATIP)
	if len(h.candidates) == 0 {
		return nil, errors.New("litepeer: no local address to advertise")
	}
	return h, nil
}

// candidates lists the addresses viewers are told to check: public before
// loopback, IPv4 before IPv6, the NAT address in place of its family's.
func candidates(locals []net.Addr, nat netip.Addr) []netip.AddrPort {
	var out []netip.AddrPort
	add := func(a netip.AddrPort) {
		for _, x := range out {
			if x == a {
				return
			}
		}
		out = append(out, a)
	}
	for pass := 0; pass < 4; pass++ {
		for _, l := range locals {
			ua, ok := l.(*net.UDPAddr)
			if !ok {
				continue
			}
			a := ua.AddrPort()
			a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
			rank := 0
			if a.Addr().IsLoopback() {
				rank += 2
			}
			if a.Addr().Is6() {
				rank++
			}
			if rank != pass {
				continue
			}
			if nat.IsValid() && nat.Is4() == a.Addr().Is4() {
				a = netip.AddrPortFrom(nat, a.Port())
			}
			add(a)
		}
	}
	return out
}

// Handlers are a peer's callbacks. They run on the peer's goroutines and
// must not block for long.
type Handlers struct {
	// Connected: DTLS is up and media can flow.
	Connected func()
	// Closed: the session ended by itself (the viewer's DTLS close,
	// consent lost, handshake failure); the peer is closed already. Not
	// called after Close.
	Closed func(reason string)
	// RTCP receives each decrypted compound RTCP packet from the viewer.
	// The slice is only valid during the call.
	RTCP func(b []byte)
}

// Peer is one viewer's session.
type Peer struct {
	h          *Host
	sess       *session
	ufrag, pwd string
	cname      string
	tiebreaker uint64
	tracks     []*trackContext
	hd         Handlers

	mu        sync.Mutex
	conns     []*localConn
	validated []netip.AddrPort
	verifying map[[stun.TransactionIDSize]byte]route // our checks of a newly nominated address
	closingAt time.Time                              // an alert record arrived (see handleDTLS)
	dtlsOn    bool
	dtls      *dtlssrtp.Session
	closed    bool
	rtcpIn    *srtp.Context // under rtcpInMu once set
	rtcpInMu  sync.Mutex
	rtcpDec   []byte // under rtcpInMu
	rtcpOut   *srtp.Context
	rtcpOutMu sync.Mutex
	rtcpBuf   []byte

	isClosed  atomic.Bool // closed, for the send path
	detached  atomic.Bool // DTLS let go (dtlssrtp.Session.Detach)
	route     atomic.Pointer[route]
	keys      atomic.Pointer[dtlssrtp.Keys]
	lastAlive atomic.Int64 // unix nanoseconds of the last authenticated check or RTCP
	timer     *time.Timer
	dtlsIn    *packetio.Buffer
	done      chan struct{}
	failOnce  sync.Once
}

// localConn is the peer's view of one ICE socket.
type localConn struct {
	checked bool // a check arrived on this socket; under Peer.mu
	pc      net.PacketConn
	ap      addrPortConn   // nil when the socket has no netip API
	media   AddrPortWriter // the socket itself, or nil: write through pc
	local   netip.AddrPort
}

// AddrPortWriter writes a datagram to an address.
type AddrPortWriter interface {
	WriteToAddrPort(b []byte, to netip.AddrPort) (int, error)
}

type addrPortConn interface {
	ReadFromAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToAddrPort(b []byte, to netip.AddrPort) (int, error)
}

func (c *localConn) writeTo(b []byte, to netip.AddrPort) (int, error) {
	if c.ap != nil {
		return c.ap.WriteToAddrPort(b, to)
	}
	return c.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
}

// route is the selected candidate pair.
type route struct {
	c      *localConn
	remote netip.AddrPort
}

// NewPeer negotiates offer. Nothing is sent or received until Start.
func (h *Host) NewPeer(offer *sdp.SessionDescription) (*Peer, error) {
	sess, err := negotiate(offer, h.caps)
	if err != nil {
		return nil, err
	}
	p := &Peer{h: h, sess: sess, ufrag: randomString(16), pwd: randomString(32), cname: randomString(16), tiebreaker: randomUint64(), done: make(chan struct{})}
	for i := range sess.media {
		p.tracks = append(p.tracks, &trackContext{p: p, m: &sess.media[i], w: &writer{p: p}})
	}
	return p, nil
}

// Answer is the SDP answer to send back. It is written anew on each call
// (for the response, and for a capture of the viewer's leg): keeping its
// text would cost every viewer ~2.5 KB.
func (p *Peer) Answer() string {
	return p.sess.answer(p.ufrag, p.pwd, p.h.fingerprint, p.cname, p.h.candidates)
}

// Media lists the negotiated sections.
func (p *Peer) Media() []Media { return p.sess.media }

// TrackContext is what a webrtc.TrackLocal binds to for section i of
// Media: its codecs, extensions, SSRC and writer.
func (p *Peer) TrackContext(i int) webrtc.TrackLocalContext { return p.tracks[i] }

// Start opens the peer on every ICE socket and answers the viewer's
// checks.
func (p *Peer) Start(hd Handlers) error {
	p.hd = hd
	p.dtlsIn = packetio.NewBuffer()
	p.dtlsIn.SetLimitSize(256 << 10)
	for _, l := range p.h.locals {
		pc, err := p.h.mux.GetConn(p.ufrag, l)
		if err != nil {
			p.Close()
			return fmt.Errorf("ICE socket %s: %w", l, err)
		}
		c := &localConn{pc: pc}
		c.ap, _ = pc.(addrPortConn)
		if ua, ok := l.(*net.UDPAddr); ok {
			c.local = ua.AddrPort()
			c.media = p.h.sockets[c.local]
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		go p.read(c)
	}
	p.lastAlive.Store(time.Now().UnixNano())
	p.mu.Lock()
	if !p.closed {
		p.timer = time.AfterFunc(ConsentTimeout, p.checkConsent)
	}
	p.mu.Unlock()
	return nil
}

// Close ends the session: a DTLS close_notify goes to the viewer, the
// ICE sockets forget the peer.
func (p *Peer) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	dc, conns, t := p.dtls, p.conns, p.timer
	p.mu.Unlock()
	close(p.done)
	if t != nil {
		t.Stop()
	}
	if dc != nil {
		_ = dc.Close() // sends close_notify
	}
	p.isClosed.Store(true)
	if p.dtlsIn != nil {
		_ = p.dtlsIn.Close()
	}
	for _, c := range conns {
		_ = c.pc.Close()
	}
}

// fail ends a session that ended by itself and tells the owner why.
func (p *Peer) fail(reason string) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return
	}
	p.failOnce.Do(func() {
		p.Close()
		if p.hd.Closed != nil {
			p.hd.Closed(reason)
		}
	})
}

// Addrs returns the selected pair: the viewer's address and the server
// socket's, zero until a check arrived.
func (p *Peer) Addrs() (remote, local netip.AddrPort) {
	if r := p.route.Load(); r != nil {
		return r.remote, r.c.local
	}
	return netip.AddrPort{}, netip.AddrPort{}
}

// Connected reports whether media can flow.
func (p *Peer) Connected() bool { return p.keys.Load() != nil }

func (p *Peer) alive(now time.Time) { p.lastAlive.Store(now.UnixNano()) }

func (p *Peer) checkConsent() {
	since := time.Since(time.Unix(0, p.lastAlive.Load()))
	if since >= ConsentTimeout {
		p.fail(fmt.Sprintf("no ICE consent or RTCP from the viewer for %s", since.Round(time.Second)))
		return
	}
	p.mu.Lock()
	if !p.closed {
		p.timer.Reset(ConsentTimeout - since)
	}
	p.mu.Unlock()
}

// read handles what arrives on one ICE socket for this peer.
func (p *Peer) read(c *localConn) {
	buf := make([]byte, 2048)
	for {
		var (
			n    int
			from netip.AddrPort
			err  error
		)
		if c.ap != nil {
			n, from, err = c.ap.ReadFromAddrPort(buf)
		} else {
			var a net.Addr
			n, a, err = c.pc.ReadFrom(buf)
			if ua, ok := a.(*net.UDPAddr); ok {
				from = ua.AddrPort()
			}
		}
		if errors.Is(err, io.ErrShortBuffer) {
			continue // not a datagram of ours: checks, DTLS and RTCP are small
		}
		if err != nil {
			return
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		p.handle(c, buf[:n], from)
	}
}

func (p *Peer) handle(c *localConn, b []byte, from netip.AddrPort) {
	if len(b) == 0 {
		return
	}
	// RFC 7983 §7: the first byte tells STUN, DTLS and SRTP apart.
	switch b0 := b[0]; {
	case b0 < 4:
		p.handleSTUN(c, b, from)
	case b0 >= 20 && b0 <= 63:
		p.handleDTLS(b, from)
	case b0 >= 128 && b0 <= 191:
		if len(b) >= 2 && b[1] >= 192 && b[1] <= 223 && p.isValidated(from) { // RTCP (RFC 5761 §4)
			p.handleRTCP(b)
		}
		// RTP from a viewer: a recvonly peer sends none; ignored.
	}
}

// handleSTUN answers a connectivity or consent check (RFC 8445 §7.3,
// RFC 7675). A lite agent never checks itself: the viewer's
// authenticated request proves the pair works, and the pair it nominates
// (USE-CANDIDATE) — or the first it checks, until it nominates one —
// carries the media.
func (p *Peer) handleSTUN(c *localConn, b []byte, from netip.AddrPort) {
	m := &stun.Message{Raw: b}
	if err := m.Decode(); err != nil {
		return
	}
	switch m.Type {
	case stun.BindingRequest:
	case stun.BindingSuccess:
		p.handleVerified(m, from)
		return
	default:
		return
	}
	var user stun.Username
	if user.GetFrom(m) != nil || string(user) != p.ufrag+":"+p.sess.remote.ufrag {
		return
	}
	if stun.NewShortTermIntegrity(p.pwd).Check(m) != nil {
		return
	}
	if m.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(m) != nil {
		return
	}
	resp, err := stun.Build(m, stun.BindingSuccess,
		&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())},
		stun.NewShortTermIntegrity(p.pwd), stun.Fingerprint)
	if err != nil {
		return
	}
	nominated := m.Contains(stun.AttrUseCandidate)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.validate(c, from)
	cur := p.route.Load()
	differs := cur != nil && (cur.remote != from || cur.c != c)
	verify := false
	switch {
	case cur == nil, nominated && differs && p.keys.Load() == nil:
		p.route.Store(&route{c: c, remote: from})
		cur = p.route.Load()
	case nominated && differs:
		// Media already flows: move it only to an address that answers
		// a check of ours. The viewer knows its own credentials, so
		// without this one check with a forged source address would
		// aim the stream at anyone.
		verify = true
	}
	if cur.remote == from && cur.c == c {
		// Consent (RFC 7675) is refreshed by the pair that carries the
		// media, not by checks arriving from elsewhere.
		p.alive(time.Now())
	}
	startClient := !p.sess.remote.dtlsServer && !p.dtlsOn
	if startClient {
		p.dtlsOn = true
	}
	p.mu.Unlock()
	// The state is in place before the viewer can act on the reply. The
	// reply also registers from with the mux, which then routes its DTLS
	// and SRTCP to this peer.
	if _, err := c.writeTo(resp.Raw, from); err != nil {
		return
	}
	if verify {
		p.sendVerification(c, from)
	}
	if startClient {
		go p.handshake(from)
	}
}

// validate records that from passed a check on c; p.mu held. The oldest
// address that is not the route makes room when the list is full.
func (p *Peer) validate(c *localConn, from netip.AddrPort) {
	c.checked = true
	if containsAddr(p.validated, from) {
		return
	}
	if len(p.validated) >= maxValidated {
		cur := p.route.Load()
		for i, a := range p.validated {
			if cur == nil || a != cur.remote {
				p.validated = append(p.validated[:i], p.validated[i+1:]...)
				break
			}
		}
	}
	p.validated = append(p.validated, from)
}

// sendVerification checks the viewer's newly nominated address with a
// Binding request of our own (RFC 8445 §7.2.2, the controlled side's
// credentials); the route moves when its authenticated answer comes back.
func (p *Peer) sendVerification(c *localConn, to netip.AddrPort) {
	m, err := stun.Build(stun.TransactionID, stun.BindingRequest,
		stun.NewUsername(p.sess.remote.ufrag+":"+p.ufrag),
		ice.AttrControlled(p.tiebreaker),
		ice.PriorityAttr(hostPriority),
		stun.NewShortTermIntegrity(p.sess.remote.pwd), stun.Fingerprint)
	if err != nil {
		return
	}
	p.mu.Lock()
	if len(p.verifying) >= maxValidated {
		clear(p.verifying) // answers that never came
	}
	if p.verifying == nil {
		p.verifying = map[[stun.TransactionIDSize]byte]route{}
	}
	p.verifying[m.TransactionID] = route{c: c, remote: to}
	p.mu.Unlock()
	_, _ = c.writeTo(m.Raw, to)
}

// handleVerified moves the route to an address that answered our check.
func (p *Peer) handleVerified(m *stun.Message, from netip.AddrPort) {
	if stun.NewShortTermIntegrity(p.sess.remote.pwd).Check(m) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.verifying[m.TransactionID]
	if !ok || r.remote != from || p.closed {
		return
	}
	delete(p.verifying, m.TransactionID)
	p.route.Store(&route{c: r.c, remote: r.remote})
	p.alive(time.Now())
}

func (p *Peer) isValidated(from netip.AddrPort) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return containsAddr(p.validated, from)
}

func containsAddr(list []netip.AddrPort, a netip.AddrPort) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// handleDTLS passes a record from a checked address to DTLS, starting
// the server side of the handshake with the first one.
func (p *Peer) handleDTLS(b []byte, from netip.AddrPort) {
	p.mu.Lock()
	ok := containsAddr(p.validated, from) && !p.closed
	start := ok && p.sess.remote.dtlsServer && !p.dtlsOn
	if start {
		p.dtlsOn = true
	}
	p.mu.Unlock()
	if !ok {
		return
	}
	if p.keys.Load() != nil && b[0] == 21 {
		// An alert record once the handshake is done: WebRTC peers then
		// only send close_notify or a fatal alert, the end of the
		// session. The record is encrypted, its type is not: a forged
		// one must not end a session, so it ends only if the viewer
		// also falls silent.
		p.alertArrived()
	}
	if p.detached.Load() {
		return // nothing left for DTLS to do
	}
	_, _ = p.dtlsIn.Write(b)
	if start {
		go p.handshake(from)
	}
}

// alertArrived ends the session closeGrace after an alert record unless
// an authenticated check or RTCP shows the viewer is still there.
func (p *Peer) alertArrived() {
	now := time.Now()
	p.mu.Lock()
	if !p.closingAt.IsZero() || p.closed {
		p.mu.Unlock()
		return
	}
	p.closingAt = now
	p.mu.Unlock()
	time.AfterFunc(closeGrace, func() {
		p.mu.Lock()
		p.closingAt = time.Time{}
		p.mu.Unlock()
		if time.Unix(0, p.lastAlive.Load()).Before(now) {
			p.fail("DTLS closed by the viewer")
		}
	})
}

// handshake runs DTLS and installs the SRTP keys.
func (p *Peer) handshake(remote netip.AddrPort) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Take a handshake slot: a burst of joins must not put a thousand
	// handshakes on the run queues at once, where the forwarding
	// goroutines would wait behind them (frames stalled ~200 ms for every
	// viewer during a burst of 1000). A slot is given back when the
	// handshake ends, or after slotHold if it waits on a slow network.
	select {
	case p.h.slots <- struct{}{}:
	case <-ctx.Done():
		cancel()
		p.fail("DTLS: " + ctx.Err().Error())
		return
	}
	var once sync.Once
	release := func() { once.Do(func() { <-p.h.slots }) }
	t := time.AfterFunc(slotHold, release)
	defer func() {
		t.Stop()
		release()
	}()
	ra := net.UDPAddrFromAddrPort(remote)
	_, local := p.Addrs()
	pc := &dtlssrtp.PacketConn{In: p.dtlsIn, Remote: ra, Send: p.send, Local: net.UDPAddrFromAddrPort(local)}
	sess, err := dtlssrtp.Handshake(ctx, pc, ra, dtlssrtp.Config{
		Cert:            p.h.cert,
		Remote:          p.sess.remote.fp,
		Server:          p.sess.remote.dtlsServer,
		SkipHelloVerify: true,
		Logs:            p.h.logs,
	})
	cancel()
	if err != nil {
		p.fail(err.Error())
		return
	}
	in, err1 := sess.Keys.Remote()
	out, err2 := sess.Keys.Local()
	if err := errors.Join(err1, err2); err != nil {
		_ = sess.Close()
		p.fail(err.Error())
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = sess.Close()
		return
	}
	p.dtls = sess
	p.rtcpIn, p.rtcpOut = in, out
	p.mu.Unlock()
	p.keys.Store(&sess.Keys)
	p.dropUnselected()
	if !p.sess.remote.dtlsServer {
		// The client's last flight was answered: the server holds the
		// keys, nothing is left to retransmit.
		p.detach()
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if !closed && p.hd.Connected != nil {
		p.hd.Connected()
	}
}

// detach lets the DTLS connection go once the viewer holds the keys (see
// dtlssrtp.Session): three goroutines and ~20 KB less per viewer.
func (p *Peer) detach() {
	if p.detached.Swap(true) {
		return
	}
	p.mu.Lock()
	d := p.dtls
	p.mu.Unlock()
	if d != nil {
		_ = d.Detach()
	}
}

// dropUnselected closes the peer's ICE sockets on which no check arrived:
// each would keep a goroutine per viewer for nothing. Sockets the viewer
// checked stay, so it can move its pair there later (to IPv6, say).
func (p *Peer) dropUnselected() {
	r := p.route.Load()
	if r == nil {
		return
	}
	p.mu.Lock()
	var keep, drop []*localConn
	for _, c := range p.conns {
		if c == r.c || c.checked {
			keep = append(keep, c)
		} else {
			drop = append(drop, c)
		}
	}
	p.conns = keep
	p.mu.Unlock()
	for _, c := range drop {
		_ = c.pc.Close()
	}
}

// handleRTCP decrypts a compound RTCP packet from the viewer.
func (p *Peer) handleRTCP(b []byte) {
	if p.keys.Load() == nil {
		return
	}
	p.rtcpInMu.Lock()
	defer p.rtcpInMu.Unlock()
	plain, err := p.rtcpIn.DecryptRTCP(p.rtcpDec[:0], b, nil)
	if err != nil {
		return
	}
	p.rtcpDec = plain[:0]
	p.alive(time.Now())
	if !p.detached.Load() {
		// Authenticated SRTCP: the viewer finished the handshake and
		// will not ask for the server's last flight again.
		go p.detach()
	}
	if p.hd.RTCP != nil {
		p.hd.RTCP(plain)
	}
}

// WriteRTCP sends RTCP (sender reports) to the viewer.
func (p *Peer) WriteRTCP(pkts []rtcp.Packet) error {
	if p.keys.Load() == nil {
		return errNotConnected
	}
	plain, err := rtcp.Marshal(pkts)
	if err != nil {
		return err
	}
	p.rtcpOutMu.Lock()
	defer p.rtcpOutMu.Unlock()
	enc, err := p.rtcpOut.EncryptRTCP(p.rtcpBuf[:0], plain, nil)
	if err != nil {
		return err
	}
	p.rtcpBuf = enc[:0]
	return p.send(enc)
}

func (p *Peer) send(b []byte) error {
	r := p.route.Load()
	if r == nil {
		return errNotConnected
	}
	if r.c.media != nil {
		if p.isClosed.Load() {
			return net.ErrClosed
		}
		_, err := r.c.media.WriteToAddrPort(b, r.remote)
		return err
	}
	_, err := r.c.writeTo(b, r.remote)
	return err
}

var errNotConnected = errors.New("viewer not connected")

// trackContext binds a webrtc.TrackLocal (the forwarder's DownTrack) to
// one section.
type trackContext struct {
	p *Peer
	m *Media
	w *writer
}

func (t *trackContext) CodecParameters() []webrtc.RTPCodecParameters           { return t.m.Codecs }
func (t *trackContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return t.m.Exts }
func (t *trackContext) SSRC() webrtc.SSRC                                      { return webrtc.SSRC(t.m.SSRC) }
func (t *trackContext) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (t *trackContext) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (t *trackContext) WriteStream() webrtc.TrackLocalWriter                   { return t.w }
func (t *trackContext) ID() string                                             { return t.m.Mid }
func (t *trackContext) RTCPReader() interceptor.RTCPReader                     { return nil }

// writer protects and sends one track's packets. It is used by one
// goroutine at a time (the DownTrack writes under its own lock), so it
// owns an SRTP context and buffers without locking.
type writer struct {
	p     *Peer
	ctx   *srtp.Context
	plain []byte
	enc   []byte
	hdr   rtp.Header
}

// WriteRTP protects and sends one packet.
func (w *writer) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	keys := w.p.keys.Load()
	if keys == nil {
		return 0, errNotConnected
	}
	if w.ctx == nil {
		ctx, err := keys.Local()
		if err != nil {
			return 0, err
		}
		w.ctx = ctx
		w.enc = make([]byte, 0, 1500+keys.AuthTagLen())
	}
	hl := h.MarshalSize()
	n := hl + len(payload)
	if cap(w.plain) < n {
		w.plain = make([]byte, n, max(n, 1500))
	}
	plain := w.plain[:n]
	if _, err := h.MarshalTo(plain); err != nil {
		return 0, err
	}
	copy(plain[hl:], payload)
	enc, err := w.ctx.EncryptRTP(w.enc[:0], plain, h)
	if err != nil {
		return 0, err
	}
	w.enc = enc[:0]
	if err := w.p.send(enc); err != nil {
		return 0, err
	}
	return n, nil
}

// Write protects and sends one marshalled packet.
func (w *writer) Write(b []byte) (int, error) {
	n, err := w.hdr.Unmarshal(b)
	if err != nil {
		return 0, err
	}
	return w.WriteRTP(&w.hdr, b[n:])
}

// randomString returns n characters of the ICE alphabet (RFC 8839 §5.4).
func randomString(n int) string {
	s, err := randutil.GenerateCryptoRandomString(n, iceChars)
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return s
}

const iceChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"

func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

func randomUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}
