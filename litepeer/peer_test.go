package litepeer

import (
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/dtlssrtp"
)

// countingSocket counts the datagrams written straight to a socket.
type countingSocket struct {
	*net.UDPConn
	n atomic.Int64
}

func (c *countingSocket) WriteToAddrPort(b []byte, to netip.AddrPort) (int, error) {
	c.n.Add(1)
	return c.UDPConn.WriteToUDPAddrPort(b, to)
}

// newHost listens on loopback IPv4 only, with one socket under the mux;
// direct, when set, takes the media writes.
func newHost(t *testing.T, direct ...*countingSocket) *Host {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	mux := ice.NewMultiUDPMuxDefault(ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn}))
	t.Cleanup(func() { _ = mux.Close() })
	sockets := map[netip.AddrPort]AddrPortWriter{}
	for _, d := range direct {
		d.UDPConn = conn
		sockets[conn.LocalAddr().(*net.UDPAddr).AddrPort()] = d
	}
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	cert.Leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	h, err := NewHost(HostConfig{Mux: mux, Sockets: sockets, Cert: cert, Caps: testCaps()})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// viewer is a pion PeerConnection receiving video and audio, as a
// browser would.
type viewer struct {
	pc      *webrtc.PeerConnection
	packets atomic.Int64
	plis    chan struct{}
}

func newViewer(t *testing.T) *viewer {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	v := &viewer{pc: pc, plis: make(chan struct{}, 16)}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
		}
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			v.packets.Add(1)
		}
	})
	return v
}

func (v *viewer) offer(t *testing.T) string {
	t.Helper()
	o, err := v.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(v.pc)
	if err := v.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	return v.pc.LocalDescription().SDP
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A pion PeerConnection connects to a peer in either DTLS role, receives
// what its tracks write, its PLI arrives as RTCP for the video SSRC, and
// closing it ends the session with a reason.
func TestPeerWithPion(t *testing.T) {
	for _, setup := range []string{"actpass", "passive"} {
		t.Run("offer "+setup, func(t *testing.T) {
			direct := &countingSocket{}
			h := newHost(t, direct)
			v := newViewer(t)
			offer := strings.ReplaceAll(v.offer(t), "a=setup:actpass", "a=setup:"+setup)
			p, err := h.NewPeer(parse(t, offer))
			if err != nil {
				t.Fatal(err)
			}
			connected := make(chan struct{})
			closed := make(chan string, 1)
			var plis atomic.Int64
			video := p.Media()[0].SSRC
			err = p.Start(Handlers{
				Connected: func() { close(connected) },
				Closed:    func(reason string) { closed <- reason },
				RTCP: func(b []byte) {
					pkts, _ := rtcp.Unmarshal(b)
					for _, pk := range pkts {
						if pli, ok := pk.(*rtcp.PictureLossIndication); ok && pli.MediaSSRC == video {
							plis.Add(1)
						}
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := v.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: p.Answer()}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-connected:
			case <-time.After(10 * time.Second):
				t.Fatal("not connected")
			}
			if r, l := p.Addrs(); !r.IsValid() || !l.IsValid() {
				t.Errorf("addresses %v %v", r, l)
			}
			for i, m := range p.Media() {
				w := p.TrackContext(i).WriteStream()
				pt := uint8(m.Codecs[0].PayloadType)
				for n := range 20 {
					h := &rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(n), Timestamp: uint32(n) * 3000, SSRC: m.SSRC, Marker: true}
					if _, err := w.WriteRTP(h, []byte{0x10, 0, 0, 0, 0}); err != nil {
						t.Fatal(err)
					}
				}
			}
			waitFor(t, "40 packets at the viewer", func() bool { return v.packets.Load() >= 40 })
			if direct.n.Load() < 40 {
				t.Errorf("%d datagrams written straight to the socket, want the 40 packets at least", direct.n.Load())
			}
			waitFor(t, "the viewer's PLI", func() bool { return plis.Load() > 0 })
			if err := p.WriteRTCP([]rtcp.Packet{&rtcp.SenderReport{SSRC: video}}); err != nil {
				t.Errorf("sender report: %v", err)
			}
			waitFor(t, "DTLS let go after the viewer's SRTCP", p.detached.Load)
			_ = v.pc.Close()
			select {
			case reason := <-closed:
				if !strings.Contains(reason, "DTLS closed") {
					t.Errorf("reason %q", reason)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("viewer's close not noticed")
			}
			if _, err := p.TrackContext(0).WriteStream().WriteRTP(&rtp.Header{Version: 2, SSRC: video}, nil); err == nil {
				t.Error("write after close succeeded")
			}
		})
	}
}

// Closing the peer (a kick) reaches the viewer at once as a DTLS
// close_notify, also after the DTLS connection was let go.
func TestCloseNotifiesViewer(t *testing.T) {
	h := newHost(t)
	v := newViewer(t)
	p, err := h.NewPeer(parse(t, v.offer(t)))
	if err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{})
	if err := p.Start(Handlers{Connected: func() { close(connected) }}); err != nil {
		t.Fatal(err)
	}
	gone := make(chan webrtc.PeerConnectionState, 4)
	v.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected {
			gone <- s
		}
	})
	if err := v.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: p.Answer()}); err != nil {
		t.Fatal(err)
	}
	<-connected
	w := p.TrackContext(0).WriteStream()
	_, _ = w.WriteRTP(&rtp.Header{Version: 2, PayloadType: uint8(p.Media()[0].Codecs[0].PayloadType), SSRC: p.Media()[0].SSRC, Marker: true}, []byte{0x10, 0, 0, 0})
	waitFor(t, "DTLS let go after the viewer's PLI", p.detached.Load)
	start := time.Now()
	p.Close()
	select {
	case s := <-gone:
		// pion's ICE alone would take 5 s to call it disconnected.
		if time.Since(start) > 3*time.Second {
			t.Errorf("viewer saw %s only after %s", s, time.Since(start))
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the viewer did not learn that the session ended")
	}
}

// stunOffer is a minimal viewer offer with known ICE credentials.
const stunOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=ice-ufrag:view\r\na=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 AB:CD\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"

// Checks must carry the peer's credentials: a wrong password or user name
// gets no answer, the right ones get the viewer's address back.
func TestSTUNAuthentication(t *testing.T) {
	p, _ := startedPeer(t, stunOffer)
	h := p.h
	conn := listenUDP(t)
	server := h.candidates[0]
	check := func(user, pwd string, nominate bool) (*stun.Message, error) {
		setters := []stun.Setter{stun.TransactionID, stun.BindingRequest, stun.NewUsername(user), ice.AttrControlling(1)}
		if nominate {
			setters = append(setters, ice.UseCandidate())
		}
		setters = append(setters, stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
		m := stun.MustBuild(setters...)
		if _, err := conn.WriteToUDPAddrPort(m.Raw, server); err != nil {
			return nil, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 1500)
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		resp := &stun.Message{Raw: buf[:n]}
		return resp, resp.Decode()
	}
	timeout := func(err error) bool {
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout()
	}
	if _, err := check(p.ufrag+":view", "wrong-password-wrong-pwd", false); !timeout(err) {
		t.Errorf("wrong password answered: %v", err)
	}
	// An unknown user name is not even routed to the peer.
	if _, err := check("nobody:view", p.pwd, false); !timeout(err) {
		t.Errorf("wrong user answered: %v", err)
	}
	if _, err := check(p.ufrag+":other", p.pwd, false); !timeout(err) {
		t.Errorf("wrong remote user answered: %v", err)
	}
	if r, _ := p.Addrs(); r.IsValid() {
		t.Errorf("unauthenticated check selected %v", r)
	}
	resp, err := check(p.ufrag+":view", p.pwd, true)
	if err != nil {
		t.Fatal(err)
	}
	var xor stun.XORMappedAddress
	if resp.Type != stun.BindingSuccess || xor.GetFrom(resp) != nil || stun.NewShortTermIntegrity(p.pwd).Check(resp) != nil {
		t.Fatalf("response %v", resp)
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if got := netip.AddrPortFrom(netip.AddrFrom4([4]byte(xor.IP.To4())), uint16(xor.Port)); got != local {
		t.Errorf("mapped address %v, want %v", got, local)
	}
	if r, _ := p.Addrs(); r != local {
		t.Errorf("selected %v, want %v", r, local)
	}
}

// Once media flows, a nominated check from a new address moves the route
// only after that address answers a check of ours: a forged source
// address cannot aim the stream elsewhere. Consent is refreshed by the
// route's address only.
func TestRouteMovesOnlyToVerifiedAddress(t *testing.T) {
	p, _ := startedPeer(t, stunOffer)
	h := p.h
	server := h.candidates[0]
	a, b := listenUDP(t), listenUDP(t)
	check := func(c *net.UDPConn) {
		m := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername(p.ufrag+":view"), ice.AttrControlling(1), ice.UseCandidate(),
			stun.NewShortTermIntegrity(p.pwd), stun.Fingerprint)
		if _, err := c.WriteToUDPAddrPort(m.Raw, server); err != nil {
			t.Fatal(err)
		}
	}
	// read returns the next STUN message c receives, or nil.
	read := func(c *net.UDPConn) *stun.Message {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		if err != nil {
			return nil
		}
		m := &stun.Message{Raw: buf[:n]}
		if m.Decode() != nil {
			return nil
		}
		return m
	}
	check(a)
	if m := read(a); m == nil || m.Type != stun.BindingSuccess {
		t.Fatalf("no answer to the first check: %v", m)
	}
	if r, _ := p.Addrs(); r != addrOf(a) {
		t.Fatalf("route %v, want %v", r, addrOf(a))
	}
	p.keys.Store(&dtlssrtp.Keys{}) // media flows from here on

	// b nominates: answered, but the route stays until b answers ours.
	check(b)
	var ours *stun.Message
	for m := read(b); m != nil; m = read(b) {
		if m.Type == stun.BindingRequest {
			ours = m
			break
		}
	}
	if ours == nil {
		t.Fatal("no verification check sent to the new address")
	}
	if r, _ := p.Addrs(); r != addrOf(a) {
		t.Fatalf("route moved to %v before verification", r)
	}
	var user stun.Username
	if user.GetFrom(ours) != nil || string(user) != "view:"+p.ufrag || stun.NewShortTermIntegrity("0123456789abcdefghijklmn").Check(ours) != nil {
		t.Fatalf("verification check not signed with the viewer's credentials: %q", user)
	}
	// An answer with the wrong key is ignored, the right one moves it.
	wrong := stun.MustBuild(ours, stun.BindingSuccess, stun.NewShortTermIntegrity("not-the-viewers-password"), stun.Fingerprint)
	_, _ = b.WriteToUDPAddrPort(wrong.Raw, server)
	time.Sleep(100 * time.Millisecond)
	if r, _ := p.Addrs(); r != addrOf(a) {
		t.Fatalf("route moved on a forged answer")
	}
	right := stun.MustBuild(ours, stun.BindingSuccess, &stun.XORMappedAddress{IP: net.IPv4(127, 0, 0, 1), Port: int(server.Port())},
		stun.NewShortTermIntegrity("0123456789abcdefghijklmn"), stun.Fingerprint)
	_, _ = b.WriteToUDPAddrPort(right.Raw, server)
	waitFor(t, "the route on the verified address", func() bool { r, _ := p.Addrs(); return r == addrOf(b) })

	// Checks from a, no longer the route, do not refresh consent.
	p.lastAlive.Store(1)
	check(a)
	_ = read(a)
	if p.lastAlive.Load() != 1 {
		t.Error("a check from off the route refreshed consent")
	}
}

func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startedPeer starts a peer for offer on a new host; closed turns true
// when the session ends by itself.
func startedPeer(t *testing.T, offer string) (*Peer, *atomic.Bool) {
	t.Helper()
	p, err := newHost(t).NewPeer(parse(t, offer))
	if err != nil {
		t.Fatal(err)
	}
	closed := &atomic.Bool{}
	if err := p.Start(Handlers{Closed: func(string) { closed.Store(true) }}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, closed
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// A forged alert record does not end a session whose viewer goes on
// proving it is there.
func TestForgedAlertIgnored(t *testing.T) {
	p, closed := startedPeer(t, stunOffer)
	from := netip.MustParseAddrPort("127.0.0.1:5")
	p.mu.Lock()
	p.validated = append(p.validated, from)
	p.mu.Unlock()
	p.keys.Store(&dtlssrtp.Keys{})
	p.handleDTLS([]byte{21, 0xfe, 0xfd, 0, 1}, from)
	stop := time.After(closeGrace + 500*time.Millisecond)
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		case <-time.After(100 * time.Millisecond):
			p.alive(time.Now()) // the viewer's RTCP keeps arriving
		}
	}
	if closed.Load() {
		t.Fatal("a forged alert ended a live session")
	}
	p.handleDTLS([]byte{21, 0xfe, 0xfd, 0, 1}, from)
	waitFor(t, "the session to end after an alert and silence", closed.Load)
}

// Without checks or RTCP a session ends after ConsentTimeout.
func TestConsentExpires(t *testing.T) {
	h := newHost(t)
	p, err := h.NewPeer(parse(t, chromeOffer))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan string, 1)
	if err := p.Start(Handlers{Closed: func(r string) { closed <- r }}); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.lastAlive.Store(time.Now().Add(-ConsentTimeout).UnixNano())
	p.checkConsent()
	select {
	case r := <-closed:
		if !strings.Contains(r, "consent") {
			t.Errorf("reason %q", r)
		}
	case <-time.After(time.Second):
		t.Fatal("session outlived its consent")
	}
	if !p.closed {
		t.Error("peer not closed")
	}
}

// An expired-but-refreshed session stays.
func TestConsentRefreshed(t *testing.T) {
	p, closed := startedPeer(t, chromeOffer)
	p.alive(time.Now())
	p.checkConsent()
	if closed.Load() {
		t.Fatal("fresh session closed")
	}
}

func TestCandidates(t *testing.T) {
	u := func(s string) net.Addr { return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	locals := []net.Addr{u("[::1]:9"), u("127.0.0.1:9"), u("[2001:db8::1]:9"), u("10.0.0.2:9")}
	got := candidates(locals, netip.Addr{})
	want := []string{"10.0.0.2:9", "[2001:db8::1]:9", "127.0.0.1:9", "[::1]:9"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %v, want %v", i, got[i], want[i])
		}
	}
	nat := candidates(locals, netip.MustParseAddr("203.0.113.7"))
	if nat[0].String() != "203.0.113.7:9" || len(nat) != 3 {
		t.Errorf("with NAT: %v (the two IPv4 addresses map to one)", nat)
	}
}
