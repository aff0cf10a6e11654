package dtlssrtp

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
	"github.com/pion/transport/v4/packetio"
)

func newCert(t *testing.T) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return cert, leaf
}

// The peer's certificate must match the SDP's a=fingerprint, in whichever
// hash the SDP names (RFC 8122 §5).
func TestVerify(t *testing.T) {
	cert, leaf := newCert(t)
	raw := [][]byte{cert.Certificate[0]}
	sdpFP, err := Of(leaf)
	if err != nil {
		t.Fatal(err)
	}
	_, ours, _ := strings.Cut(sdpFP, " ")
	sha1, _ := fingerprint.Fingerprint(leaf, crypto.SHA1)
	for _, tc := range []struct {
		hash crypto.Hash
		fp   string
		ok   bool
	}{
		{crypto.SHA256, ours, true},
		{crypto.SHA256, strings.ToLower(ours), true},
		{crypto.SHA1, sha1, true},
		{crypto.SHA256, "00" + ours[2:], false},
		{crypto.SHA1, ours, false},
	} {
		if err := (Fingerprint{tc.hash, tc.fp}).verify(raw, nil); (err == nil) != tc.ok {
			t.Errorf("%v %s…: %v, want ok %v", tc.hash, tc.fp[:8], err, tc.ok)
		}
	}
	if (Fingerprint{crypto.SHA256, ours}).verify(nil, nil) == nil {
		t.Error("no certificate accepted")
	}
	if (Fingerprint{crypto.SHA256, ours}).verify([][]byte{{1, 2, 3}}, nil) == nil {
		t.Error("garbage certificate accepted")
	}
}

func TestParseFingerprint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		hash crypto.Hash
		ok   bool
	}{
		{"sha-256 AB:CD", crypto.SHA256, true},
		{" SHA-256  ab:cd ", crypto.SHA256, true},
		{"sha-1 AB", crypto.SHA1, true},
		{"sha-512 AB", crypto.SHA512, true},
		{"sha-256", 0, false},
		{"md7 AB", 0, false},
		{"", 0, false},
	} {
		fp, err := ParseFingerprint(tc.in)
		if (err == nil) != tc.ok || tc.ok && fp.Hash != tc.hash {
			t.Errorf("%q: %+v, %v", tc.in, fp, err)
		}
	}
}

// over returns a PacketConn on a UDP socket talking to remote, fed by a
// reader goroutine as a transport's owner would.
func over(t *testing.T, c *net.UDPConn, remote *net.UDPConn) *PacketConn {
	t.Helper()
	pc := &PacketConn{In: packetio.NewBuffer(), Remote: remote.LocalAddr(), Local: c.LocalAddr(), Send: func(b []byte) error {
		_, err := c.WriteTo(b, remote.LocalAddr())
		return err
	}}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				_ = pc.In.Close()
				return
			}
			_, _ = pc.In.Write(buf[:n])
		}
	}()
	return pc
}

func parse(t *testing.T, s string) Fingerprint {
	t.Helper()
	f, err := ParseFingerprint(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A handshake in each role gives both sides the same keys, each side's
// Local matching the other's Remote; a certificate that does not match
// the fingerprint fails it.
func TestHandshake(t *testing.T) {
	a, b := udpPair(t)
	certA, fpA, certB, fpB := twoCerts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		s   *Session
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := Handshake(ctx, over(t, a, b), b.LocalAddr(), Config{Cert: certA, Remote: parse(t, fpB), Server: true, SkipHelloVerify: true})
		done <- result{s, err}
	}()
	sb, err := Handshake(ctx, over(t, b, a), a.LocalAddr(), Config{Cert: certB, Remote: parse(t, fpA)})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ra := <-done
	if ra.err != nil {
		t.Fatal(ra.err)
	}
	defer ra.s.Close()
	out, err := ra.s.Keys.Local()
	if err != nil {
		t.Fatal(err)
	}
	in, err := sb.Keys.Remote()
	if err != nil {
		t.Fatal(err)
	}
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, SSRC: 42}, Payload: []byte("frame")}
	plain, _ := pkt.Marshal()
	enc, err := out.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != len(plain)+ra.s.Keys.AuthTagLen() {
		t.Errorf("protected %d bytes, want %d + tag %d", len(enc), len(plain), ra.s.Keys.AuthTagLen())
	}
	dec, err := in.DecryptRTP(nil, enc, nil)
	if err != nil || string(dec[len(dec)-5:]) != "frame" {
		t.Fatalf("decrypt: %q, %v", dec, err)
	}

	// Wrong fingerprint: the client refuses the server.
	c, d := udpPair(t)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	go func() {
		s, err := Handshake(ctx2, over(t, c, d), d.LocalAddr(), Config{Cert: certA, Remote: parse(t, fpB), Server: true})
		if err == nil {
			s.Close()
		}
	}()
	if s, err := Handshake(ctx2, over(t, d, c), c.LocalAddr(), Config{Cert: certB, Remote: parse(t, fpB)}); err == nil {
		s.Close()
		t.Fatal("handshake with a mismatching fingerprint succeeded")
	}
}

// A detached session sends nothing when it lets its connection go, and
// its Close still reaches the peer as a close_notify the peer's DTLS
// accepts: its record sequence numbers carried over.
func TestDetachThenClose(t *testing.T) {
	a, b := udpPair(t)
	certA, fpA, certB, fpB := twoCerts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan *Session, 1)
	go func() {
		s, err := Handshake(ctx, over(t, a, b), b.LocalAddr(), Config{Cert: certA, Remote: parse(t, fpB), Server: true})
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	// The client side as a plain pion dtls.Conn, to read what arrives.
	client, err := dtls.ClientWithOptions(b, a.LocalAddr(), Config{Cert: certB, Remote: parse(t, fpA)}.clientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	server := <-done
	if server == nil {
		t.FailNow()
	}
	closed := make(chan error, 1)
	go func() {
		buf := make([]byte, 100)
		_, err := client.Read(buf)
		closed <- err
	}()
	if err := server.Detach(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		t.Fatalf("detaching reached the peer: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("peer read %v, want EOF from close_notify", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close_notify did not arrive")
	}
}

// twoCerts returns two certificates with their SDP fingerprints.
func twoCerts(t *testing.T) (tls.Certificate, string, tls.Certificate, string) {
	t.Helper()
	certA, leafA := newCert(t)
	certB, leafB := newCert(t)
	fpA, _ := Of(leafA)
	fpB, _ := Of(leafB)
	return certA, fpA, certB, fpB
}

func udpPair(t *testing.T) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}
