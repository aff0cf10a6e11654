package dtlssrtp

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
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

// A handshake in each role gives both sides the same keys, each side's
// Local matching the other's Remote; a certificate that does not match
// the fingerprint fails it.
func TestHandshake(t *testing.T) {
	a, b := udpPair(t)
	certA, leafA := newCert(t)
	certB, leafB := newCert(t)
	fpA, _ := Of(leafA)
	fpB, _ := Of(leafB)
	parse := func(s string) Fingerprint {
		f, err := ParseFingerprint(s)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		keys Keys
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, k, err := Handshake(ctx, a, b.LocalAddr(), Config{Cert: certA, Remote: parse(fpB), Server: true, SkipHelloVerify: true})
		if err == nil {
			defer conn.Close()
		}
		done <- result{k, err}
	}()
	conn, kb, err := Handshake(ctx, b, a.LocalAddr(), Config{Cert: certB, Remote: parse(fpA)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ra := <-done
	if ra.err != nil {
		t.Fatal(ra.err)
	}
	out, err := ra.keys.Local()
	if err != nil {
		t.Fatal(err)
	}
	in, err := kb.Remote()
	if err != nil {
		t.Fatal(err)
	}
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, SSRC: 42}, Payload: []byte("frame")}
	plain, _ := pkt.Marshal()
	enc, err := out.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != len(plain)+ra.keys.AuthTagLen() {
		t.Errorf("protected %d bytes, want %d + tag %d", len(enc), len(plain), ra.keys.AuthTagLen())
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
		conn, _, err := Handshake(ctx2, c, d.LocalAddr(), Config{Cert: certA, Remote: parse(fpB), Server: true})
		if err == nil {
			conn.Close()
		}
	}()
	if conn, _, err := Handshake(ctx2, d, c.LocalAddr(), Config{Cert: certB, Remote: parse(fpB)}); err == nil {
		conn.Close()
		t.Fatal("handshake with a mismatching fingerprint succeeded")
	}
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
