// Package udpbatch is a UDP socket whose writes can be held back while a
// fan-out runs and then leave in batches: consecutive datagrams to one
// destination go out in one system call with UDP generic segmentation
// offload (GSO, Linux 4.18+ UDP_SEGMENT).
//
// Why: on the broadcast server one sendto per packet per viewer is most of
// the CPU (a loopback sendto costs ~4.7 µs on the reference VM, where a GSO
// send of five 1200-byte datagrams costs ~1.8 µs per datagram; see
// docs/PERFORMANCE.md). pion writes every packet through the ICE UDP mux
// into a net.PacketConn; this package is that PacketConn, so batching needs
// no change to pion's SRTP or ICE layers. The forwarder corks the sockets
// around one fan-out and writes each viewer's packets back to back; the
// encrypted datagrams pion hands down are copied into a queue and
// coalesced, and Uncork sends them.
//
// Ordering: datagrams leave in the order they were written, across
// goroutines, because every write goes through one queue and flushes are
// serialised. A write made while nothing is corked and nothing is queued
// goes straight to the socket, so idle connections (ICE checks, DTLS, RTCP)
// pay nothing.
package udpbatch

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchWriter sends several messages in one system call (sendmmsg).
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchWriter returns c's sendmmsg writer for its address family (nil
// where there is no sendmmsg) and whether c is an IPv4 socket.
func newBatchWriter(c *net.UDPConn) (batchWriter, bool) {
	a, ok := c.LocalAddr().(*net.UDPAddr)
	v4 := ok && a.IP.To4() != nil // a dual-stack socket's is "::"
	if !ok || !mmsgSupported {
		return nil, v4
	}
	if v4 {
		return ipv4.NewPacketConn(c), true
	}
	return ipv6.NewPacketConn(c), false
}

// Limits of one GSO send. The kernel refuses more than 64 segments
// (UDP_MAX_SEGMENTS before Linux 6.9) and more than a 64 KiB datagram.
const (
	maxSegments = 64
	maxRunBytes = 60 << 10
	// flushBytes bounds what one Conn queues while corked: past it the
	// writer sends what is queued at once, so a fan-out to many viewers
	// streams out in ~256 KiB steps instead of holding every viewer's
	// packets until the last one is written.
	flushBytes = 256 << 10
)

// Batcher corks and uncorks a set of sockets together: one fan-out writes to
// viewers on every local address.
type Batcher struct {
	corks atomic.Int32
	mu    sync.Mutex
	conns []*Conn
	stats counters
}

// NewBatcher returns a Batcher with no sockets.
func NewBatcher() *Batcher { return &Batcher{} }

// Wrap makes c a batching socket of this Batcher. The Batcher does not own
// c: closing the returned Conn closes c and removes it from the Batcher.
func (b *Batcher) Wrap(c *net.UDPConn) *Conn {
	conn := &Conn{UDPConn: c, b: b, q: &queue{}, spare: &queue{}}
	conn.gso.Store(gsoSupported(c))
	conn.mmsg, conn.v4 = newBatchWriter(c)
	b.mu.Lock()
	b.conns = append(b.conns, conn)
	b.mu.Unlock()
	return conn
}

// Conns returns the sockets of this Batcher.
func (b *Batcher) Conns() []*Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Conn(nil), b.conns...)
}

// Cork holds back writes on every socket until the matching Uncork. Corks
// nest and may be taken by several goroutines at once.
func (b *Batcher) Cork() { b.corks.Add(1) }

// Uncork releases one Cork and sends what is queued. It returns when the
// datagrams the caller wrote while corked have been handed to the kernel.
func (b *Batcher) Uncork() {
	b.corks.Add(-1)
	b.mu.Lock()
	conns := b.conns
	b.mu.Unlock()
	for _, c := range conns {
		c.Flush()
	}
}

// Coalesces reports whether consecutive writes to one destination leave in
// one system call, which is what makes writing a viewer's packets back to
// back worth it. It is false where the kernel has no UDP GSO.
func (b *Batcher) Coalesces() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		if c.gso.Load() {
			return true
		}
	}
	return false
}

// Stats are a Batcher's counters since it was created.
type Stats struct {
	Datagrams uint64 // handed to the kernel
	Sends     uint64 // system calls that carried them
	Errors    uint64 // datagrams the kernel refused
	GSO       bool   // UDP GSO in use on at least one socket
}

// Stats returns the counters of all sockets.
func (b *Batcher) Stats() Stats {
	return Stats{
		Datagrams: b.stats.datagrams.Load(),
		Sends:     b.stats.sends.Load(),
		Errors:    b.stats.errors.Load(),
		GSO:       b.Coalesces(),
	}
}

type counters struct {
	datagrams, sends, errors atomic.Uint64
}

func (b *Batcher) remove(c *Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := make([]*Conn, 0, len(b.conns))
	for _, x := range b.conns {
		if x != c {
			next = append(next, x)
		}
	}
	b.conns = next
}

// Conn is a *net.UDPConn whose writes are queued while its Batcher is
// corked. Reads and everything else go straight to the socket.
type Conn struct {
	*net.UDPConn
	b    *Batcher
	gso  atomic.Bool
	mmsg batchWriter // sendmmsg, nil where there is none
	v4   bool        // an IPv4 socket: destinations as 4-byte addresses

	mu       sync.Mutex
	q, spare *queue
	flushing bool // a Flush is sending a queue taken from q
	closed   bool

	flushMu sync.Mutex // serialises flushes: datagrams leave in queue order
	oob     []byte     // GSO control message, reused under flushMu
	// noGSO holds destinations whose GSO sends the kernel refused with
	// EINVAL (segments over the path MTU): their runs go one by one,
	// instead of failing and then going one by one every time. Under
	// flushMu.
	noGSO map[netip.AddrPort]struct{}
	// Reused by flushes, under flushMu.
	msgs  []ipv4.Message
	addrs []net.UDPAddr
	oobs  []byte
}

// maxNoGSO bounds noGSO; past it the map starts over.
const maxNoGSO = 4096

// WriteTo queues or sends one datagram. While corked it returns len(b) and
// no error: the send happens later and its errors are counted in Stats.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var dst netip.AddrPort
	switch a := addr.(type) {
	case *net.UDPAddr:
		dst = a.AddrPort()
	default:
		ap, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: err}
		}
		dst = ap
	}
	return c.WriteToAddrPort(b, dst)
}

// WriteToUDP is WriteTo for a *net.UDPAddr.
func (c *Conn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	return c.WriteToAddrPort(b, addr.AddrPort())
}

// WriteToUDPAddrPort is WriteToAddrPort.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.WriteToAddrPort(b, addr)
}

// ReadFromAddrPort reads one datagram. With WriteToAddrPort it makes Conn
// an ice.AddrPortReaderWriter, pion's allocation-free path.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.UDPConn.ReadFromUDPAddrPort(b)
}

// WriteToAddrPort queues or sends one datagram.
func (c *Conn) WriteToAddrPort(b []byte, dst netip.AddrPort) (int, error) {
	if c.v4 && !dst.Addr().Unmap().Is4() {
		return 0, &net.OpError{Op: "write", Net: "udp4", Addr: net.UDPAddrFromAddrPort(dst), Err: errFamily}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	corked := c.b.corks.Load() > 0
	if !corked && c.q.empty() && !c.flushing {
		// Nothing ahead of this datagram: send it now and report the
		// kernel's answer to the caller.
		c.mu.Unlock()
		n, err := c.UDPConn.WriteToUDPAddrPort(b, dst)
		c.b.stats.sends.Add(1)
		if err != nil {
			c.b.stats.errors.Add(1)
		} else {
			c.b.stats.datagrams.Add(1)
		}
		return n, err
	}
	if len(b) > maxRunBytes {
		c.mu.Unlock()
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: net.UDPAddrFromAddrPort(dst), Err: errTooLarge}
	}
	c.q.add(b, dst, c.gso.Load())
	full := len(c.q.buf) >= flushBytes
	c.mu.Unlock()
	if full || !corked {
		c.Flush()
	}
	return len(b), nil
}

var (
	errTooLarge = errors.New("datagram larger than 60 KiB")
	errFamily   = errors.New("IPv6 destination on an IPv4 socket")
)

// Flush sends everything queued. It returns once datagrams queued before
// the call have been handed to the kernel (by this call or by a concurrent
// one).
func (c *Conn) Flush() {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	if c.q.empty() {
		c.mu.Unlock()
		return
	}
	q := c.q
	c.q, c.spare = c.spare, nil
	c.flushing = true
	c.mu.Unlock()

	c.sendRuns(q)
	q.reset()

	c.mu.Lock()
	c.spare = q
	c.flushing = false
	c.mu.Unlock()
}

// maxBatch is the most runs one sendmmsg carries (UIO_MAXIOV is 1024).
const maxBatch = 256

// sendRuns sends the queued runs, several per sendmmsg where the platform
// has it: a fan-out's runs go to as many destinations as there are
// viewers, and each system call costs its entry and exit on top of the
// kernel's per-datagram work. flushMu held.
func (c *Conn) sendRuns(q *queue) {
	runs := q.runs
	for len(runs) > 0 {
		msgs := c.prepare(q, runs[:min(len(runs), maxBatch)])
		if len(msgs) < 2 {
			// One run, or one that cannot share a call (several
			// datagrams without GSO): alone, with send's fallbacks.
			r := &runs[0]
			c.send(q.buf[r.off:r.off+r.n], r.seg, r.dst)
			runs = runs[1:]
			continue
		}
		sent, err := c.mmsg.WriteBatch(msgs, 0)
		if err != nil || sent < 0 {
			sent = 0
		}
		if sent > 0 {
			c.b.stats.sends.Add(1)
			for i := range runs[:sent] {
				c.b.stats.datagrams.Add(uint64(runs[i].count))
			}
		}
		if sent < len(msgs) {
			// runs[sent] failed (or was not tried): send it alone, with
			// the fallbacks that keep what the kernel would take.
			r := &runs[sent]
			c.send(q.buf[r.off:r.off+r.n], r.seg, r.dst)
			sent++
		}
		runs = runs[sent:]
	}
}

// prepare fills c.msgs for the leading runs that can share one sendmmsg:
// one message per run, with a UDP_SEGMENT control message on runs of
// several datagrams. It stops before a run of several datagrams that GSO
// cannot carry (off on this socket, or refused for its destination),
// which has to go one datagram at a time. Nil without sendmmsg. flushMu
// held.
func (c *Conn) prepare(q *queue, runs []run) []ipv4.Message {
	if c.mmsg == nil {
		return nil
	}
	n := len(runs)
	if cap(c.msgs) < n {
		c.msgs = make([]ipv4.Message, n)
		c.addrs = make([]net.UDPAddr, n)
		for i := range c.msgs {
			c.msgs[i].Buffers = make([][]byte, 1)
		}
	}
	msgs := c.msgs[:0]
	gso := c.gso.Load()
	c.oobs = c.oobs[:0]
	for i := range runs {
		r := &runs[i]
		_, refused := c.noGSO[r.dst]
		if r.count > 1 && (!gso || refused) {
			break
		}
		m := &c.msgs[i]
		m.Buffers[0] = q.buf[r.off : r.off+r.n]
		a := &c.addrs[i]
		if ip := r.dst.Addr(); c.v4 {
			b := ip.Unmap().As4()
			a.IP = append(a.IP[:0], b[:]...)
		} else {
			b := ip.As16()
			a.IP = append(a.IP[:0], b[:]...)
		}
		a.Port = int(r.dst.Port())
		m.Addr = a
		m.OOB = nil
		if r.count > 1 {
			start := len(c.oobs)
			c.oobs = segmentOOB(c.oobs, r.seg)
			m.OOB = c.oobs[start:len(c.oobs):len(c.oobs)]
		}
		msgs = msgs[:i+1]
	}
	return msgs
}

// send writes one run of datagrams of size seg (the last may be shorter) to
// dst; flushMu held.
func (c *Conn) send(b []byte, seg int, dst netip.AddrPort) {
	count := max((len(b)+seg-1)/seg, 1) // an empty datagram is one
	_, refused := c.noGSO[dst]
	if count > 1 && c.gso.Load() && !refused {
		c.oob = segmentOOB(c.oob[:0], seg)
		_, _, err := c.UDPConn.WriteMsgUDPAddrPort(b, c.oob, dst)
		if err == nil {
			c.b.stats.sends.Add(1)
			c.b.stats.datagrams.Add(uint64(count))
			return
		}
		switch {
		case gsoUnusable(err):
			// No checksum offload on the socket's device: send one by
			// one from now on.
			c.gso.Store(false)
		case gsoTooLarge(err):
			if c.noGSO == nil || len(c.noGSO) >= maxNoGSO {
				c.noGSO = map[netip.AddrPort]struct{}{}
			}
			c.noGSO[dst] = struct{}{}
		}
		// Fall through and try each datagram, so one refused GSO send
		// loses nothing the kernel would have taken separately.
	}
	for first := true; first || len(b) > 0; first = false {
		n := min(seg, len(b))
		_, err := c.UDPConn.WriteToUDPAddrPort(b[:n], dst)
		c.b.stats.sends.Add(1)
		if err != nil {
			c.b.stats.errors.Add(1)
		} else {
			c.b.stats.datagrams.Add(1)
		}
		b = b[n:]
	}
}

// Close closes the socket after sending what is queued; later writes
// fail with net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.Flush()
	c.b.remove(c)
	return c.UDPConn.Close()
}

// queue holds datagrams in write order as runs: consecutive datagrams to one
// destination, all of one size but the last, which may be shorter (the
// shape UDP GSO sends in one call).
type queue struct {
	buf  []byte
	runs []run
}

type run struct {
	dst      netip.AddrPort
	off, n   int // bytes in queue.buf
	seg      int // datagram size
	count    int
	complete bool // ended by a shorter datagram
}

func (q *queue) empty() bool { return len(q.runs) == 0 }

func (q *queue) reset() {
	q.buf = q.buf[:0]
	q.runs = q.runs[:0]
}

// add appends one datagram, extending the last run when GSO can carry it
// in the same send.
func (q *queue) add(b []byte, dst netip.AddrPort, coalesce bool) {
	if n := len(q.runs); coalesce && n > 0 {
		r := &q.runs[n-1]
		if !r.complete && r.dst == dst && len(b) <= r.seg && len(b) > 0 &&
			r.count < maxSegments && r.n+len(b) <= maxRunBytes {
			q.buf = append(q.buf, b...)
			r.n += len(b)
			r.count++
			r.complete = len(b) < r.seg
			return
		}
	}
	// An empty datagram is a run of its own: nothing can follow it in
	// one send.
	q.runs = append(q.runs, run{dst: dst, off: len(q.buf), n: len(b), seg: max(len(b), 1), count: 1, complete: len(b) == 0})
	q.buf = append(q.buf, b...)
}
