// Package dtlssrtp is the DTLS-SRTP key exchange (RFC 5763, RFC 5764)
// shared by bcast's own WebRTC transports — the server's viewer peers and
// the load tester's viewers — built on pion's dtls and srtp.
package dtlssrtp

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/logging"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v4/packetio"
)

// Profiles are the SRTP protection profiles offered, best first: AEAD
// AES-GCM is cheaper than AES-CM with HMAC-SHA1 where AES-NI exists.
var Profiles = []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80}

// Fingerprint is a certificate fingerprint as SDP carries it
// (a=fingerprint, RFC 8122 §5): a hash function and its value.
type Fingerprint struct {
	Hash  crypto.Hash
	Value string // colon-separated hex, compared case-insensitively
}

// ParseFingerprint parses the value of an a=fingerprint attribute.
func ParseFingerprint(attr string) (Fingerprint, error) {
	alg, value, _ := strings.Cut(strings.TrimSpace(attr), " ")
	h, err := fingerprint.HashFromString(alg)
	value = strings.TrimSpace(value)
	if err != nil || value == "" {
		return Fingerprint{}, fmt.Errorf("a=fingerprint %q: want a hash name and a value", attr)
	}
	return Fingerprint{Hash: h, Value: value}, nil
}

// Of returns the SHA-256 fingerprint of cert in SDP form ("sha-256 AB:…").
func Of(cert *x509.Certificate) (string, error) {
	fp, err := fingerprint.Fingerprint(cert, crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("certificate fingerprint: %w", err)
	}
	return "sha-256 " + strings.ToUpper(fp), nil
}

// verify checks the peer's self-signed certificate against the
// fingerprint its SDP announced: that binding is what authenticates a
// DTLS-SRTP peer (RFC 5763 §5).
func (f Fingerprint) verify(raw [][]byte, _ [][]*x509.Certificate) error {
	if len(raw) == 0 {
		return errors.New("no certificate")
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return fmt.Errorf("peer certificate: %w", err)
	}
	fp, err := fingerprint.Fingerprint(cert, f.Hash)
	if err != nil {
		return err
	}
	if !strings.EqualFold(fp, f.Value) {
		return errors.New("certificate does not match the SDP fingerprint")
	}
	return nil
}

// Config is one side of a handshake.
type Config struct {
	Cert   tls.Certificate
	Remote Fingerprint
	// Server is true when this side is the DTLS server (its SDP said
	// a=setup:passive, or the other side's said active).
	Server bool
	// SkipHelloVerify omits the server's cookie exchange (RFC 6347
	// §4.2.1), saving a round trip: it guards against spoofed source
	// addresses, which ICE's authenticated checks already ruled out.
	SkipHelloVerify bool
	Logs            logging.LoggerFactory
}

// options are the DTLS options of one side.
func (c Config) options() []dtls.Option {
	opts := []dtls.Option{
		dtls.WithCertificates(c.Cert),
		dtls.WithSRTPProtectionProfiles(Profiles...),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithInsecureSkipVerify(true), // self-signed: checked against the fingerprint instead
		dtls.WithVerifyPeerCertificate(c.Remote.verify),
	}
	if c.Logs != nil {
		opts = append(opts, dtls.WithLoggerFactory(c.Logs))
	}
	return opts
}

// serverOptions asks for the client's certificate (checked against its
// fingerprint).
func (c Config) serverOptions() []dtls.ServerOption {
	shared := c.options()
	opts := make([]dtls.ServerOption, 0, len(shared)+2)
	for _, o := range shared {
		opts = append(opts, o)
	}
	opts = append(opts, dtls.WithClientAuth(dtls.RequireAnyClientCert))
	if c.SkipHelloVerify {
		opts = append(opts, dtls.WithInsecureSkipVerifyHello(true))
	}
	return opts
}

func (c Config) clientOptions() []dtls.ClientOption {
	shared := c.options()
	opts := make([]dtls.ClientOption, 0, len(shared))
	for _, o := range shared {
		opts = append(opts, o)
	}
	return opts
}

// Session is an established DTLS-SRTP association.
//
// Once both sides hold the SRTP keys, DTLS has nothing left to carry but
// a final close_notify, yet pion's dtls.Conn keeps three goroutines and
// ~20 KB of buffers per connection for it. Detach lets the connection go
// and keeps its state (keys and record sequence numbers, ~1 KB), from
// which Close rebuilds a connection just long enough to say goodbye.
type Session struct {
	Keys Keys

	cfg    Config
	pc     *PacketConn
	remote net.Addr

	mu    sync.Mutex
	conn  *dtls.Conn // nil once detached
	state *dtls.State
	done  bool
}

// Handshake runs DTLS over pc with remote and returns the session with the
// SRTP keys it exported. pc's writes go to the remote; its buffer receives
// the DTLS records the owner reads.
func Handshake(ctx context.Context, pc *PacketConn, remote net.Addr, c Config) (*Session, error) {
	var (
		conn *dtls.Conn
		err  error
	)
	if c.Server {
		conn, err = dtls.ServerWithOptions(pc, remote, c.serverOptions()...)
	} else {
		conn, err = dtls.ClientWithOptions(pc, remote, c.clientOptions()...)
	}
	if err != nil {
		return nil, fmt.Errorf("DTLS: %w", err)
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("DTLS handshake: %w", err)
	}
	keys, err := exportKeys(conn, !c.Server)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &Session{Keys: keys, cfg: c, pc: pc, remote: remote, conn: conn}, nil
}

// Detach lets the DTLS connection go. Call it when the peer is known to
// hold the keys too (it sent SRTP or SRTCP, or this side is the client,
// whose last flight the server answered): until then the server side may
// have to retransmit its final flight.
func (s *Session) Detach() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil || s.done {
		return nil
	}
	// Nothing more goes on the wire from this connection — closing it
	// would send close_notify — and the state is taken after that, so it
	// holds every record sequence number the peer may have seen: the
	// resumed close_notify must not repeat one (the peer's replay window
	// would drop it).
	s.pc.drop.Store(true)
	state, ok := s.conn.ConnectionState()
	if !ok {
		s.pc.drop.Store(false)
		return errors.New("DTLS: no connection state")
	}
	err := s.conn.Close()
	s.conn, s.state = nil, &state
	return err
}

// Close ends the session with a close_notify alert (RFC 5246 §7.2.1), so
// the peer learns at once that the media stopped.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil
	}
	s.done = true
	if s.conn != nil {
		return s.conn.Close()
	}
	pc := &PacketConn{In: packetio.NewBuffer(), Remote: s.remote, Send: s.pc.Send, Local: s.pc.Local}
	conn, err := dtls.ResumeWithOptions(s.state, pc, s.remote, s.cfg.options()...)
	if err != nil {
		return fmt.Errorf("DTLS resume: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return fmt.Errorf("DTLS resume: %w", err)
	}
	return conn.Close()
}

// srtcpReplayWindow is the SRTCP replay window (RFC 3711 §3.3.2 asks at
// least 64).
const srtcpReplayWindow = 64

// Keys are a session's SRTP master keys.
type Keys struct {
	cfg srtp.Config
}

// exportKeys derives the SRTP master keys from the DTLS exporter
// (RFC 5764 §4.2).
func exportKeys(conn *dtls.Conn, isClient bool) (Keys, error) {
	prof, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return Keys{}, errors.New("DTLS: no SRTP profile negotiated")
	}
	var profile srtp.ProtectionProfile
	switch prof {
	case dtls.SRTP_AEAD_AES_128_GCM:
		profile = srtp.ProtectionProfileAeadAes128Gcm
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return Keys{}, fmt.Errorf("DTLS: SRTP profile %v", prof)
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return Keys{}, errors.New("DTLS: no connection state")
	}
	k := Keys{cfg: srtp.Config{Profile: profile}}
	if err := k.cfg.ExtractSessionKeysFromDTLS(&state, isClient); err != nil {
		return Keys{}, fmt.Errorf("SRTP keys: %w", err)
	}
	return k, nil
}

// Local returns a new context that protects what this side sends. Each
// context keeps its own per-SSRC state and is not safe for concurrent use:
// senders on different goroutines each take one.
func (k Keys) Local() (*srtp.Context, error) {
	c, err := srtp.CreateContext(k.cfg.Keys.LocalMasterKey, k.cfg.Keys.LocalMasterSalt, k.cfg.Profile)
	if err != nil {
		return nil, fmt.Errorf("SRTP: %w", err)
	}
	return c, nil
}

// Remote returns a new context that unprotects what the other side sends.
// Replayed SRTCP is refused (RFC 3711 §3.3.2): a captured receiver report
// or PLI sent again must not keep a session alive or force keyframes.
// SRTP is not checked: a retransmission repeats a sequence number that a
// receiver simulating loss (the load tester) has already seen.
func (k Keys) Remote() (*srtp.Context, error) {
	c, err := srtp.CreateContext(k.cfg.Keys.RemoteMasterKey, k.cfg.Keys.RemoteMasterSalt, k.cfg.Profile,
		srtp.SRTCPReplayProtection(srtcpReplayWindow))
	if err != nil {
		return nil, fmt.Errorf("SRTP: %w", err)
	}
	return c, nil
}

// AuthTagLen is how many bytes protection adds to an RTP packet.
func (k Keys) AuthTagLen() int {
	n, _ := k.cfg.Profile.AuthTagRTPLen()
	m, _ := k.cfg.Profile.AEADAuthTagLen()
	return n + m
}

// PacketConn is DTLS's view of a transport it shares with STUN and SRTP
// (RFC 7983): the owner's reader passes DTLS records in through a buffer,
// and writes go wherever Send puts them (the selected ICE pair).
type PacketConn struct {
	In     *packetio.Buffer
	Remote net.Addr
	Send   func(b []byte) error
	Local  net.Addr
	drop   atomic.Bool // writes are discarded (a detached session)
}

// ReadFrom reads the next record.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, err := c.In.Read(b)
	return n, c.Remote, err
}

// WriteTo sends b to the remote, whatever the address.
func (c *PacketConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	if c.drop.Load() {
		return len(b), nil
	}
	if err := c.Send(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close closes the buffer: a pending read returns.
func (c *PacketConn) Close() error { return c.In.Close() }

// LocalAddr is the local socket's address.
func (c *PacketConn) LocalAddr() net.Addr { return c.Local }

// SetDeadline sets the read deadline.
func (c *PacketConn) SetDeadline(t time.Time) error { return c.In.SetReadDeadline(t) }

// SetReadDeadline sets the read deadline.
func (c *PacketConn) SetReadDeadline(t time.Time) error { return c.In.SetReadDeadline(t) }

// SetWriteDeadline does nothing: writes do not block.
func (c *PacketConn) SetWriteDeadline(time.Time) error { return nil }
