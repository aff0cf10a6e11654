package loadtest

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// fakeCandidate answers connectivity checks like a server's host candidate
// and records which carried USE-CANDIDATE.
type fakeCandidate struct {
	conn      *net.UDPConn
	mu        sync.Mutex
	checks    int
	nominated int
}

func newFakeCandidate(t *testing.T, pwd string) *fakeCandidate {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &fakeCandidate{conn: c}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if m.Decode() != nil || m.Type != stun.BindingRequest {
				continue
			}
			f.mu.Lock()
			f.checks++
			if m.Contains(stun.AttrUseCandidate) {
				f.nominated++
			}
			f.mu.Unlock()
			resp, err := stun.Build(m, stun.BindingSuccess,
				&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())},
				stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
			if err == nil {
				_, _ = c.WriteToUDPAddrPort(resp.Raw, from)
			}
		}
	}()
	return f
}

func (f *fakeCandidate) addr() netip.AddrPort { return f.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (f *fakeCandidate) counts() (checks, nominated int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks, f.nominated
}

// With several server candidates answering, the peer checks all of them
// but nominates only the pair it uses (regular nomination, RFC 8445
// §8.1.1): pion's controlled agent would otherwise settle on the last
// nominated pair and send from an address the peer does not listen to.
func TestICENominatesOnePair(t *testing.T) {
	const rpwd = "0123456789abcdef01234567"
	a, b := newFakeCandidate(t, rpwd), newFakeCandidate(t, rpwd)
	sh := &peers{localIP: netip.MustParseAddr("127.0.0.1"), loopback: true}
	v := &viewer{r: &runner{log: slog.New(slog.DiscardHandler), start: time.Now()}, media: make(chan struct{})}
	p, err := newPeer(sh, v)
	if err != nil {
		t.Fatal(err)
	}
	p.rufrag, p.rpwd = "srv", rpwd
	p.candidates = []netip.AddrPort{a.addr(), b.addr()}
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	go p.read()
	defer p.close()
	select {
	case <-p.selected:
	case <-time.After(5 * time.Second):
		t.Fatal("no pair selected")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, na := a.counts()
		_, nb := b.counts()
		if na+nb > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a few more rounds of checks
	ca, na := a.counts()
	cb, nb := b.counts()
	chosen := map[netip.AddrPort]int{a.addr(): na, b.addr(): nb}
	if ca == 0 || cb == 0 {
		t.Errorf("checks: %d and %d, want both candidates checked", ca, cb)
	}
	if chosen[p.remote] == 0 {
		t.Errorf("selected %s was never nominated (nominations %d and %d)", p.remote, na, nb)
	}
	for addr, n := range chosen {
		if addr != p.remote && n > 0 {
			t.Errorf("%s nominated %d times but %s was selected", addr, n, p.remote)
		}
	}
}
