package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/randutil"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v4/packetio"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/dtlssrtp"
	"github.com/bcastdev/bcast/udpbatch"
)

// peer is one viewer's media transport, built from pion's protocol pieces
// (stun, dtls, srtp) rather than a PeerConnection.
//
// Why: a PeerConnection hands every received packet through three
// goroutines (candidate reader, DTLS/SRTP mux, SRTP session) before a track
// reader sees it, ~10 µs of CPU per packet here, so the load tester cost
// more than the server it measured and 1000 viewers could not share a
// machine with it. A peer reads its socket in one goroutine and decrypts,
// tracks frames, NACKs and reports inline.
//
// On the wire it is what a browser is to the server: ICE as the
// controlling agent with aggressive nomination (RFC 8445) and consent
// checks (RFC 7675), DTLS-SRTP (RFC 5764) checking the certificate against
// the answer's fingerprint, NACKs for gaps retried like libwebrtc's
// (RFC 4585 §6.2.1), a PLI after a loss it cannot repair, and receiver
// reports every second with LSR/DLSR so the server can measure RTT
// (RFC 3550 §6.4.2).
type peer struct {
	sh   *peers
	v    *viewer
	conn *net.UDPConn

	ufrag, pwd string
	tiebreaker uint64
	ssrc       uint32 // ours, as sender of RTCP

	// From the answer; fixed once start returns.
	rufrag, rpwd string
	remoteFP     dtlssrtp.Fingerprint // the answer's a=fingerprint (RFC 8122)
	dtlsServer   bool                 // the answer said a=setup:active
	candidates   []netip.AddrPort
	video, audio map[uint8]codec.Codec // payload types

	selected  chan struct{} // closed when a check succeeded; remote is set
	connected chan struct{} // closed when DTLS is up and keys are in
	down      chan struct{} // closed when the connection failed or closed
	downOnce  sync.Once

	mu      sync.Mutex // remote, keys, tracks, closing: shared with DTLS and close
	remote  netip.AddrPort
	keys    *srtpKeys
	tracks  []*track
	closed  bool
	started bool // the reader runs

	dtlsIn *packetio.Buffer
	dtls   *dtlssrtp.Session

	// Owned by the reader goroutine.
	pending     map[[stun.TransactionIDSize]byte]netip.AddrPort
	lastRecv    time.Time // any packet from the remote
	nextCheck   time.Time
	nextReport  time.Time
	sr          map[uint32]srInfo
	hdr         rtp.Header
	pkt         rtp.Packet
	dec, out    []byte
	nackSeqs    []uint16
	readerDone  chan struct{}
	drop        func(video bool, p *rtp.Packet) bool
	connectedAt time.Time
}

// srtpKeys are the two SRTP contexts of a session. Only the reader
// goroutine uses them once set.
type srtpKeys struct {
	in, out *srtp.Context
}

// srInfo is the last sender report of one of the server's SSRCs.
type srInfo struct {
	lsr uint32 // middle 32 bits of its NTP time
	at  time.Time
}

// Timing of the peer's own traffic, after browsers'.
const (
	checkInterval   = 50 * time.Millisecond // ICE checks until one succeeds
	consentInterval = 5 * time.Second       // RFC 7675 §5.1: 4-6 s
	consentTimeout  = 10 * time.Second      // silence that means the server is gone
	reportInterval  = time.Second           // receiver reports
	nackInterval    = 100 * time.Millisecond
	tickInterval    = 20 * time.Millisecond // NACK retries, reports, consent
)

func newPeer(sh *peers, v *viewer) (*peer, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: sh.localIP.AsSlice()})
	if err != nil {
		return nil, fmt.Errorf("UDP socket: %w", err)
	}
	_ = conn.SetReadBuffer(1 << 20)
	p := &peer{
		sh:         sh,
		v:          v,
		conn:       conn,
		ufrag:      randomString(8),
		pwd:        randomString(24),
		tiebreaker: randomUint64(),
		ssrc:       uint32(randomUint64()),
		selected:   make(chan struct{}),
		connected:  make(chan struct{}),
		down:       make(chan struct{}),
		dtlsIn:     packetio.NewBuffer(),
		pending:    map[[stun.TransactionIDSize]byte]netip.AddrPort{},
		sr:         map[uint32]srInfo{},
		dec:        make([]byte, 1500),
		out:        make([]byte, 0, 1500),
		readerDone: make(chan struct{}),
	}
	p.dtlsIn.SetLimitSize(1 << 20)
	if sh.newDrop != nil {
		p.drop = sh.newDrop()
	}
	return p, nil
}

// offer is the SDP a browser's recvonly audio+video offer would be, with
// the candidate of this peer's socket (no trickle).
func (p *peer) offer() string {
	local := p.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- %d 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", randomUint64()>>2)
	b.WriteString("a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n")
	for mid, m := range offerMedia {
		pts := make([]string, len(m.codecs))
		for i, c := range m.codecs {
			pts[i] = fmt.Sprint(c.pt)
		}
		fmt.Fprintf(&b, "m=%s 9 UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", m.kind, strings.Join(pts, " "))
		fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:actpass\r\na=mid:%d\r\n",
			p.ufrag, p.pwd, p.sh.fingerprint, mid)
		for _, e := range m.exts {
			fmt.Fprintf(&b, "a=extmap:%d %s\r\n", e.id, e.uri)
		}
		b.WriteString("a=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n")
		for _, c := range m.codecs {
			fmt.Fprintf(&b, "a=rtpmap:%d %s\r\n", c.pt, c.rtpmap)
			if m.kind == "video" {
				fmt.Fprintf(&b, "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n", c.pt, c.pt)
			}
			if c.fmtp != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", c.pt, c.fmtp)
			}
		}
		fmt.Fprintf(&b, "a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates\r\n", local.Addr().Unmap(), local.Port())
	}
	return b.String()
}

// offerCodec is one payload type of the offer.
type offerCodec struct {
	pt     uint8
	rtpmap string
	fmtp   string
}

type offerExt struct {
	id  int
	uri string
}

// offerMedia is what a browser offers for receiving, minus RTX (bcast
// retransmits on the original SSRC), ulpfec/red and TWCC: VP8, VP9, H.264
// in the common profiles, AV1 and Opus, with NACK and PLI feedback, and the
// header extensions a browser negotiates, so that the server does its
// per-viewer extension work for us as it would for a browser.
var offerMedia = []struct {
	kind   string
	codecs []offerCodec
	exts   []offerExt
}{
	{
		kind: "video",
		codecs: []offerCodec{
			{96, "VP8/90000", ""},
			{98, "VP9/90000", "profile-id=0"},
			{102, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"},
			{106, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
			{112, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"},
			{127, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"},
			{45, "AV1/90000", ""},
		},
		exts: []offerExt{
			{2, codec.ExtAbsSendTime}, {3, codec.ExtVideoOrientation}, {4, codec.ExtPlayoutDelay},
			{5, codec.ExtVideoContentType}, {6, codec.ExtVideoTiming}, {7, codec.ExtColorSpace},
		},
	},
	{
		kind:   "audio",
		codecs: []offerCodec{{111, "opus/48000/2", "minptime=10;useinbandfec=1"}},
		exts:   []offerExt{{1, codec.ExtAudioLevel}, {2, codec.ExtAbsSendTime}},
	},
}

// applyAnswer reads what the peer needs from the server's answer.
func (p *peer) applyAnswer(answer string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(answer); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	attr := func(m *sdp.MediaDescription, key string) string {
		if m != nil {
			if v, ok := m.Attribute(key); ok {
				return v
			}
		}
		v, _ := d.Attribute(key)
		return v
	}
	p.video, p.audio = map[uint8]codec.Codec{}, map[uint8]codec.Codec{}
	var first *sdp.MediaDescription
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Port.Value == 0 {
			continue // rejected
		}
		if first == nil {
			first = m
		}
		pts := p.audio
		if m.MediaName.Media == "video" {
			pts = p.video
		}
		for _, a := range m.Attributes {
			switch a.Key {
			case "rtpmap":
				ptStr, enc, _ := strings.Cut(a.Value, " ")
				var pt uint8
				if _, err := fmt.Sscan(ptStr, &pt); err == nil {
					name, _, _ := strings.Cut(enc, "/")
					pts[pt] = codec.FromMime(m.MediaName.Media + "/" + name)
				}
			case "candidate":
				c, err := ice.UnmarshalCandidate(a.Value)
				if err != nil || !c.NetworkType().IsUDP() {
					continue
				}
				addr, err := netip.ParseAddr(c.Address())
				if err != nil || addr.Is4() != p.sh.localIP.Is4() || p.sh.loopback && !addr.IsLoopback() {
					continue
				}
				ap := netip.AddrPortFrom(addr, uint16(c.Port()))
				if !containsAddr(p.candidates, ap) {
					p.candidates = append(p.candidates, ap)
				}
			}
		}
	}
	if first == nil {
		return errors.New("answer: no media accepted")
	}
	p.rufrag, p.rpwd = attr(first, "ice-ufrag"), attr(first, "ice-pwd")
	if p.rufrag == "" || p.rpwd == "" {
		return errors.New("answer: no ICE credentials")
	}
	fp, err := dtlssrtp.ParseFingerprint(attr(first, "fingerprint"))
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	p.remoteFP = fp
	switch attr(first, "setup") {
	case "active":
		p.dtlsServer = true
	case "passive", "actpass", "":
	default:
		return fmt.Errorf("answer: a=setup:%s", attr(first, "setup"))
	}
	if len(p.candidates) == 0 {
		return fmt.Errorf("answer: no UDP candidate reachable from %s", p.sh.localIP)
	}
	return nil
}

func containsAddr(list []netip.AddrPort, a netip.AddrPort) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// start runs the reader and the connection: ICE checks until one succeeds,
// then the DTLS handshake. connected or down is closed when it ends.
func (p *peer) start() {
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	go p.read()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
		defer cancel()
		go func() {
			select {
			case <-p.down:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := p.handshake(ctx); err != nil {
			p.v.r.log.Debug("viewer connection failed", "err", err)
			p.fail()
		}
	}()
}

func (p *peer) handshake(ctx context.Context) error {
	select {
	case <-p.selected:
	case <-ctx.Done():
		return fmt.Errorf("ICE: %w", ctx.Err())
	}
	p.mu.Lock()
	remote := net.UDPAddrFromAddrPort(p.remote)
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return errors.New("closed")
	}
	pc := &dtlssrtp.PacketConn{In: p.dtlsIn, Remote: remote, Local: p.conn.LocalAddr(), Send: func(b []byte) error {
		_, err := p.conn.WriteToUDPAddrPort(b, remote.AddrPort())
		return err
	}}
	sess, err := dtlssrtp.Handshake(ctx, pc, remote, dtlssrtp.Config{
		Cert: p.sh.cert, Remote: p.remoteFP, Server: p.dtlsServer, Logs: p.sh.logs,
	})
	if err != nil {
		return err
	}
	in, err1 := sess.Keys.Remote()
	out, err2 := sess.Keys.Local()
	if err := errors.Join(err1, err2); err != nil {
		_ = sess.Close()
		return err
	}
	p.mu.Lock()
	p.dtls = sess
	p.keys = &srtpKeys{in: in, out: out}
	closed = p.closed
	p.mu.Unlock()
	if closed {
		_ = sess.Close()
		return errors.New("closed")
	}
	// As the DTLS client whose last flight the server answered, nothing
	// is left for DTLS but the goodbye: let the connection go (three
	// goroutines and its buffers per viewer), as bcast's own peers do.
	_ = sess.Detach()
	close(p.connected)
	return nil
}

// fail marks the connection down (once); a connection that was up and
// that nobody closed has dropped.
func (p *peer) fail() {
	p.downOnce.Do(func() {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if !closed && p.v.connectedAt.Load() != 0 {
			p.v.dropped.Store(true)
		}
		close(p.down)
	})
}

// close ends the connection: the reader returns, DTLS closes.
// leaving marks the end as ours: what the server does after our DELETE
// (its close_notify, silence) is not a dropped connection.
func (p *peer) leaving() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

func (p *peer) close() {
	p.mu.Lock()
	p.closed = true
	dc, started := p.dtls, p.started
	p.mu.Unlock()
	_ = p.conn.Close()
	if dc != nil {
		_ = dc.Close()
	}
	_ = p.dtlsIn.Close()
	p.fail()
	if started {
		<-p.readerDone
	}
}

// read is the peer's one goroutine on the media path: every datagram from
// the server is handled here, and the periodic work (ICE checks, NACK
// retries, receiver reports, consent) runs between reads.
func (p *peer) read() {
	defer close(p.readerDone)
	defer p.fail() // a read error ends the connection; after close this is a no-op
	defer func() {
		p.mu.Lock()
		tracks := p.tracks
		p.mu.Unlock()
		for _, t := range tracks {
			close(t.done)
		}
	}()
	// With GRO a read may carry several datagrams of one GSO send (a
	// frame, from bcast): one system call instead of one per packet.
	gro := udpbatch.EnableGRO(p.conn)
	buf, oob := make([]byte, 1500), make([]byte, 64)
	if gro {
		buf = make([]byte, 64<<10)
	}
	now := time.Now()
	p.lastRecv = now
	next := now
	for {
		if !now.Before(next) {
			p.tick(now)
			next = now.Add(tickInterval)
			_ = p.conn.SetReadDeadline(next)
		}
		n, oobn, _, from, err := p.conn.ReadMsgUDPAddrPort(buf, oob)
		now = time.Now()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		addr, port := from.Addr().Unmap(), from.Port()
		seg := n
		if gro {
			if s := udpbatch.SegmentSize(oob[:oobn]); s > 0 {
				seg = s
			}
		}
		for b := buf[:n]; len(b) > 0; b = b[min(seg, len(b)):] {
			p.handle(b[:min(seg, len(b))], addr, port, now)
		}
	}
}

func (p *peer) handle(b []byte, addr netip.Addr, port uint16, now time.Time) {
	if len(b) == 0 {
		return
	}
	from := netip.AddrPortFrom(addr, port)
	// RFC 7983 §7: the first byte tells STUN, DTLS and SRTP apart.
	switch b0 := b[0]; {
	case b0 < 4:
		p.handleSTUN(b, from, now)
	case b0 >= 20 && b0 <= 63:
		if !p.isRemote(from) {
			return
		}
		p.lastRecv = now
		select {
		case <-p.connected:
			// After the handshake the server only sends an alert: its
			// close_notify when it ends the session (a kick), which a
			// browser notices at once too.
			if b0 == 21 {
				p.fail()
			}
		default:
			_, _ = p.dtlsIn.Write(b)
		}
	case b0 >= 128 && b0 <= 191:
		if !p.isRemote(from) {
			return
		}
		p.lastRecv = now
		p.mu.Lock()
		keys := p.keys
		p.mu.Unlock()
		if keys == nil {
			return
		}
		if len(b) >= 2 && b[1] >= 192 && b[1] <= 223 { // RFC 5761 §4
			p.handleRTCP(keys, b, now)
		} else {
			p.handleRTP(keys, b, now)
		}
	}
}

func (p *peer) isRemote(from netip.AddrPort) bool {
	select {
	case <-p.selected:
		return from == p.remote // written before selected was closed
	default:
		return false
	}
}

// handleSTUN answers the server's connectivity checks and takes the
// answers to ours.
func (p *peer) handleSTUN(b []byte, from netip.AddrPort, now time.Time) {
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil {
		return
	}
	switch m.Type {
	case stun.BindingRequest:
		var user stun.Username
		if user.GetFrom(m) != nil || string(user) != p.ufrag+":"+p.rufrag ||
			stun.NewShortTermIntegrity(p.pwd).Check(m) != nil {
			return
		}
		resp, err := stun.Build(m, stun.BindingSuccess,
			&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())},
			stun.NewShortTermIntegrity(p.pwd), stun.Fingerprint)
		if err == nil {
			_, _ = p.conn.WriteToUDPAddrPort(resp.Raw, from)
		}
		if p.isRemote(from) {
			p.lastRecv = now
		}
	case stun.BindingSuccess:
		to, ok := p.pending[m.TransactionID]
		if !ok || to != from || stun.NewShortTermIntegrity(p.rpwd).Check(m) != nil {
			return
		}
		delete(p.pending, m.TransactionID)
		p.lastRecv = now
		select {
		case <-p.selected:
		default:
			p.mu.Lock()
			p.remote = from
			p.mu.Unlock()
			close(p.selected)
			// Regular nomination (RFC 8445 §8.1.1): only the chosen pair
			// is nominated, so the server cannot settle on another one
			// (pion's controlled agent switches to the last nominated
			// pair that succeeds) and send from an address we ignore.
			p.sendCheck(from, true)
			p.nextCheck = now.Add(checkInterval)
		}
	}
}

// sendCheck sends a connectivity check (RFC 8445 §7.2.2) to to, with
// USE-CANDIDATE when it nominates the pair; once connected, checks are
// consent checks (RFC 7675).
func (p *peer) sendCheck(to netip.AddrPort, nominate bool) {
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest,
		stun.NewUsername(p.rufrag + ":" + p.ufrag),
		ice.PriorityAttr(1853824767), // peer-reflexive priority of a host candidate (RFC 8445 §7.1.1)
		ice.AttrControlling(p.tiebreaker),
	}
	if nominate {
		setters = append(setters, ice.UseCandidate())
	}
	setters = append(setters, stun.NewShortTermIntegrity(p.rpwd), stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		return
	}
	if len(p.pending) > 64 {
		clear(p.pending) // answers that never came
	}
	p.pending[m.TransactionID] = to
	_, _ = p.conn.WriteToUDPAddrPort(m.Raw, to)
}

// tick does the periodic work; reader goroutine.
func (p *peer) tick(now time.Time) {
	select {
	case <-p.selected:
	default:
		if !now.Before(p.nextCheck) {
			for _, c := range p.candidates {
				p.sendCheck(c, false)
			}
			p.nextCheck = now.Add(checkInterval)
		}
		return
	}
	if now.Sub(p.lastRecv) > consentTimeout {
		p.fail()
		return
	}
	p.mu.Lock()
	keys, tracks := p.keys, p.tracks
	p.mu.Unlock()
	if !now.Before(p.nextCheck) {
		if keys == nil {
			// Until DTLS is up the nomination may have been lost: repeat it.
			p.sendCheck(p.remote, true)
			p.nextCheck = now.Add(checkInterval)
		} else {
			p.sendCheck(p.remote, false)
			p.nextCheck = now.Add(consentInterval)
		}
	}
	if keys == nil {
		return
	}
	if p.connectedAt.IsZero() {
		p.connectedAt = now
		p.nextReport = now.Add(reportInterval)
	}
	for _, t := range tracks {
		p.sendNACKs(keys, t, now, false)
	}
	if !now.Before(p.nextReport) {
		p.sendReport(keys, tracks, now)
		// ±25 % as RFC 3550 §6.3.5 asks, so that viewers do not report in step.
		p.nextReport = now.Add(reportInterval*3/4 + time.Duration(randomUint64()%uint64(reportInterval/2)))
	}
}

// writeRTCP encrypts and sends one RTCP packet (RFC 5506 reduced size:
// rtcp-rsize is offered).
func (p *peer) writeRTCP(keys *srtpKeys, pkts ...rtcp.Packet) error {
	raw, err := rtcp.Marshal(pkts)
	if err != nil {
		return err
	}
	out, err := keys.out.EncryptRTCP(p.out[:0], raw, nil)
	if err != nil {
		return err
	}
	p.out = out[:0]
	_, err = p.conn.WriteToUDPAddrPort(out, p.remote)
	return err
}

func (p *peer) handleRTCP(keys *srtpKeys, b []byte, now time.Time) {
	out, err := keys.in.DecryptRTCP(p.dec[:0], b, nil)
	if err != nil {
		return
	}
	pkts, err := rtcp.Unmarshal(out)
	if err != nil {
		return
	}
	for _, pkt := range pkts {
		if sr, ok := pkt.(*rtcp.SenderReport); ok {
			p.sr[sr.SSRC] = srInfo{lsr: uint32(sr.NTPTime >> 16), at: now}
		}
	}
}

func (p *peer) handleRTP(keys *srtpKeys, b []byte, now time.Time) {
	out, err := keys.in.DecryptRTP(p.dec[:0], b, &p.hdr)
	if err != nil || p.pkt.Unmarshal(out) != nil {
		return
	}
	pk := &p.pkt
	c, video := p.video[pk.PayloadType]
	if !video {
		var ok bool
		if c, ok = p.audio[pk.PayloadType]; !ok {
			return
		}
	}
	if p.drop != nil && p.drop(video, pk) {
		return
	}
	t := p.track(pk.SSRC, video, now)
	t.receive(p, keys, pk, c, now)
}

// track returns the receive state of ssrc, creating it at its first packet.
func (p *peer) track(ssrc uint32, video bool, now time.Time) *track {
	for _, t := range p.tracks { // two at most; read without the lock: only this goroutine appends
		if t.ssrc == ssrc {
			return t
		}
	}
	t := &track{ssrc: ssrc, clock: 48000, done: make(chan struct{}), missing: map[int64]*nackState{}}
	if video {
		t.clock = 90000
		t.frames = newFrameTracker(&p.v.c)
	}
	p.mu.Lock()
	p.tracks = append(p.tracks, t)
	p.mu.Unlock()
	return t
}

// track is the receive state of one of the server's SSRCs; reader
// goroutine only until done is closed.
type track struct {
	ssrc    uint32
	clock   float64
	seq     seqCounter
	frames  *frameTracker // video only
	missing map[int64]*nackState
	done    chan struct{}

	// RFC 3550 A.3 interval counts and A.8 jitter.
	expectedPrior, receivedPrior uint64
	transit                      float64
	jitter                       float64
	haveTransit                  bool
	nacks, plis                  uint64
}

// nackState is one missing packet: NACKed tries times, last at sent.
type nackState struct {
	tries int
	sent  time.Time
}

// maxMissing bounds the NACK list, as libwebrtc's does (kMaxNackPackets).
const maxMissing = 1000

func (t *track) receive(p *peer, keys *srtpKeys, pk *rtp.Packet, c codec.Codec, now time.Time) {
	v := p.v
	at := v.r.now()
	v.c.packets.Add(1)
	v.c.bytes.Add(uint64(pk.MarshalSize()))
	if v.c.firstPacket.CompareAndSwap(0, max(int64(at), 1)) {
		close(v.media)
	}
	prevMax, started := t.seq.max, t.seq.started
	ext := t.seq.push(pk.SequenceNumber)
	switch {
	case !started || t.frames == nil:
		// Audio: the offer negotiates NACK for video only, as browsers do.
	case ext > prevMax+1:
		// A gap: NACK it at once, as libwebrtc does for new holes.
		for s := max(prevMax+1, ext-maxMissing); s < ext; s++ {
			t.missing[s] = &nackState{}
		}
		if len(t.missing) > maxMissing {
			for s := range t.missing {
				if s < ext-maxMissing {
					delete(t.missing, s)
				}
			}
		}
		p.sendNACKs(keys, t, now, true)
	case ext <= prevMax:
		delete(t.missing, ext) // repaired (or reordered)
	}
	// Interarrival jitter, RFC 3550 A.8.
	arrival := float64(now.UnixNano()) / 1e9 * t.clock
	transit := arrival - float64(pk.Timestamp)
	if t.haveTransit {
		d := transit - t.transit
		if d < 0 {
			d = -d
		}
		if d < 1<<30 {
			t.jitter += (d - t.jitter) / 16
		}
	}
	t.transit, t.haveTransit = transit, true

	if t.frames == nil {
		v.c.audioPackets.Add(1)
		return
	}
	info, _ := codec.Inspect(c, pk.Payload) // unparsable: not a frame start
	if t.frames.push(at, packet{ext: ext, ts: pk.Timestamp, marker: pk.Marker, padding: len(pk.Payload) == 0, info: info}) {
		if p.writeRTCP(keys, &rtcp.PictureLossIndication{SenderSSRC: p.ssrc, MediaSSRC: t.ssrc}) == nil {
			t.plis++
			v.rtcp.plis.Add(1)
		}
	}
}

// sendNACKs sends one NACK for the missing packets that are due: all new
// ones (fresh) or those last asked for nackInterval ago. A packet is
// given up after nackRetries.
func (p *peer) sendNACKs(keys *srtpKeys, t *track, now time.Time, fresh bool) {
	if len(t.missing) == 0 {
		return
	}
	seqs := p.nackSeqs[:0]
	for s, st := range t.missing {
		due := st.tries == 0 || !fresh && now.Sub(st.sent) >= nackInterval
		if !due {
			continue
		}
		if st.tries >= nackRetries {
			delete(t.missing, s)
			continue
		}
		st.tries++
		st.sent = now
		seqs = append(seqs, uint16(s))
	}
	p.nackSeqs = seqs[:0]
	if len(seqs) == 0 {
		return
	}
	sortSeqs(seqs)
	nack := &rtcp.TransportLayerNack{SenderSSRC: p.ssrc, MediaSSRC: t.ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
	if p.writeRTCP(keys, nack) == nil {
		t.nacks++
		p.v.rtcp.nacks.Add(1)
	}
}

// sortSeqs sorts sequence numbers in wrap-around order from the first.
func sortSeqs(s []uint16) {
	if len(s) < 2 {
		return
	}
	base := s[0]
	for _, x := range s {
		if int16(x-base) < 0 {
			base = x
		}
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j]-base < s[j-1]-base; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// sendReport sends a receiver report (RFC 3550 §6.4.2) with one block per
// track.
func (p *peer) sendReport(keys *srtpKeys, tracks []*track, now time.Time) {
	rr := &rtcp.ReceiverReport{SSRC: p.ssrc}
	for _, t := range tracks {
		expected, received := t.seq.expected(), t.seq.received
		expInt, recvInt := expected-t.expectedPrior, received-t.receivedPrior
		t.expectedPrior, t.receivedPrior = expected, received
		var fraction uint8
		if expInt > 0 && recvInt < expInt {
			fraction = uint8((expInt - recvInt) << 8 / expInt)
		}
		r := rtcp.ReceptionReport{
			SSRC:               t.ssrc,
			FractionLost:       fraction,
			TotalLost:          uint32(min(t.seq.lost(), 1<<23-1)),
			LastSequenceNumber: uint32(t.seq.max),
			Jitter:             uint32(t.jitter),
		}
		if sr, ok := p.sr[t.ssrc]; ok {
			r.LastSenderReport = sr.lsr
			r.Delay = uint32(now.Sub(sr.at).Seconds() * 65536)
		}
		rr.Reports = append(rr.Reports, r)
	}
	_ = p.writeRTCP(keys, rr)
}

// randomString returns n characters of the ICE alphabet (RFC 8839 §5.4).
func randomString(n int) string {
	s, err := randutil.GenerateCryptoRandomString(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/")
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return s
}

func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}
