package udpbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func listen(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sender returns a Batcher with one socket and a receiver to write to.
func sender(t *testing.T) (*Batcher, *Conn, *net.UDPConn) {
	b := NewBatcher()
	return b, b.Wrap(listen(t)), listen(t)
}

func addr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// datagram is size bytes: writer, sequence number, then filler.
func datagram(writer, seq, size int) []byte {
	b := bytes.Repeat([]byte{byte(seq)}, size)
	binary.BigEndian.PutUint16(b[0:], uint16(writer))
	binary.BigEndian.PutUint32(b[2:], uint32(seq))
	return b
}

// receive reads n datagrams from c.
func receive(t *testing.T, c *net.UDPConn, n int) [][]byte {
	t.Helper()
	var got [][]byte
	buf := make([]byte, 64<<10)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < n {
		m, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), n, err)
		}
		got = append(got, bytes.Clone(buf[:m]))
	}
	return got
}

func TestCorkedWritesArriveSeparatelyInOrder(t *testing.T) {
	b := NewBatcher()
	src := b.Wrap(listen(t))
	dsts := []*net.UDPConn{listen(t), listen(t), listen(t)}
	// Per destination a frame-like run: equal sizes, a shorter last one,
	// then sizes that cannot share a GSO send (a larger one after a
	// shorter one), interleaved with other destinations.
	sizes := []int{1200, 1200, 1200, 700, 1200, 90, 1300, 1300}
	var want [3][][]byte
	b.Cork()
	for d, dst := range dsts {
		for i, size := range sizes {
			p := datagram(d, i, size)
			want[d] = append(want[d], p)
			if _, err := src.WriteToAddrPort(p, addr(dst)); err != nil {
				t.Fatal(err)
			}
		}
		// One datagram to the first receiver between the others' runs.
		if d > 0 {
			p := datagram(0, 100+d, 333)
			want[0] = append(want[0], p)
			if _, err := src.WriteTo(p, dsts[0].LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if st := b.Stats(); st.Datagrams != 0 {
		t.Fatalf("%d datagrams sent while corked", st.Datagrams)
	}
	b.Uncork()
	for d, dst := range dsts {
		got := receive(t, dst, len(want[d]))
		for i := range got {
			if !bytes.Equal(got[i], want[d][i]) {
				t.Fatalf("receiver %d datagram %d: %d bytes %x…, want %d bytes %x…", d, i, len(got[i]), got[i][:6], len(want[d][i]), want[d][i][:6])
			}
		}
	}
	st := b.Stats()
	total := uint64(len(sizes)*3 + 2)
	if st.Datagrams != total || st.Errors != 0 {
		t.Fatalf("stats %+v, want %d datagrams and no errors", st, total)
	}
	if st.GSO && st.Sends >= st.Datagrams {
		t.Fatalf("GSO available but %d sends for %d datagrams", st.Sends, st.Datagrams)
	}
	if !st.GSO && st.Sends > st.Datagrams {
		t.Fatalf("without GSO %d sends for %d datagrams", st.Sends, st.Datagrams)
	}
}

// A fan-out of single datagrams to many destinations (an audio packet to
// every viewer) leaves in one sendmmsg per maxBatch destinations, and a
// destination the kernel refuses in the middle costs only its own
// datagram.
// A run of several datagrams to a destination GSO was refused for leaves
// one datagram at a time, also when it sits among runs that share a
// sendmmsg; an IPv6 destination on an IPv4 socket is refused at once.
func TestRunWithoutGSOAmongBatchedRuns(t *testing.T) {
	b := NewBatcher()
	src := b.Wrap(listen(t))
	dsts := []*net.UDPConn{listen(t), listen(t), listen(t)}
	src.noGSO = map[netip.AddrPort]struct{}{addr(dsts[1]): {}}
	b.Cork()
	for d, dst := range dsts {
		for i := range 3 {
			if _, err := src.WriteToAddrPort(datagram(d, i, 1000), addr(dst)); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.Uncork()
	for d, dst := range dsts {
		got := receive(t, dst, 3)
		for i := range got {
			if !bytes.Equal(got[i], datagram(d, i, 1000)) {
				t.Fatalf("receiver %d datagram %d: %d bytes, want 1000", d, i, len(got[i]))
			}
		}
	}
	if st := b.Stats(); st.Datagrams != 9 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := src.WriteToAddrPort([]byte{1}, netip.MustParseAddrPort("[::1]:9")); err == nil {
		t.Fatal("IPv6 destination accepted on an IPv4 socket")
	}
}

func TestManyDestinationsOneCall(t *testing.T) {
	b := NewBatcher()
	src := b.Wrap(listen(t))
	const n = 300
	dsts := make([]*net.UDPConn, n)
	for i := range dsts {
		dsts[i] = listen(t)
	}
	bad := netip.MustParseAddrPort("127.0.0.1:0") // EINVAL: no port 0
	b.Cork()
	for i, d := range dsts {
		if i == 150 {
			_, _ = src.WriteToAddrPort(datagram(9, 9, 100), bad)
		}
		if _, err := src.WriteToAddrPort(datagram(i, i, 160), addr(d)); err != nil {
			t.Fatal(err)
		}
	}
	b.Uncork()
	for i, d := range dsts {
		got := receive(t, d, 1)
		if !bytes.Equal(got[0], datagram(i, i, 160)) {
			t.Fatalf("receiver %d got %x…", i, got[0][:6])
		}
	}
	st := b.Stats()
	if st.Datagrams != n || st.Errors != 1 {
		t.Fatalf("stats %+v, want %d datagrams and the one refused", st, n)
	}
	// ceil(301/maxBatch) calls, one more for the refused datagram alone
	// and the batch restarting after it.
	t.Logf("%+v", st)
	if want := uint64((n+1+maxBatch-1)/maxBatch + 2); mmsgSupported && st.Sends > want {
		t.Fatalf("%d system calls for %d destinations, want at most %d", st.Sends, n, want)
	}
}

func TestUncorkedWriteIsImmediate(t *testing.T) {
	b, src, dst := sender(t)
	p := datagram(1, 1, 100)
	if n, err := src.WriteToAddrPort(p, addr(dst)); err != nil || n != len(p) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if got := receive(t, dst, 1); !bytes.Equal(got[0], p) {
		t.Fatal("datagram changed")
	}
	if st := b.Stats(); st.Sends != 1 || st.Datagrams != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestUncorkedWriteReportsError(t *testing.T) {
	b := NewBatcher()
	src := b.Wrap(listen(t))
	// Port 0 is not a destination: the kernel refuses the send.
	if _, err := src.WriteToAddrPort([]byte("x"), netip.MustParseAddrPort("127.0.0.1:0")); err == nil {
		t.Fatal("no error for port 0")
	}
	if st := b.Stats(); st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Writers on several goroutines, corking and uncorking on their own, each
// see their datagrams arrive in the order written.
func TestConcurrentWritersKeepOrder(t *testing.T) {
	b, src, dst := sender(t)
	const writers, each = 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				b.Cork()
				for k := 0; k < 1+w && i < each; k++ {
					_, _ = src.WriteToAddrPort(datagram(w, i, 200+w), addr(dst))
					i++
				}
				b.Uncork()
				if i%7 == 0 { // and some uncorked writes between
					_, _ = src.WriteToAddrPort(datagram(w, i, 200+w), addr(dst))
					i++
				}
			}
		}()
	}
	_ = dst.SetReadBuffer(8 << 20)
	got := receive(t, dst, writers*each)
	wg.Wait()
	next := make([]int, writers)
	for _, p := range got {
		w, seq := int(binary.BigEndian.Uint16(p)), int(binary.BigEndian.Uint32(p[2:]))
		if seq != next[w] {
			t.Fatalf("writer %d: datagram %d arrived when %d was next", w, seq, next[w])
		}
		next[w]++
	}
}

func TestCloseSendsQueued(t *testing.T) {
	b, src, dst := sender(t)
	b.Cork()
	_, _ = src.WriteToAddrPort(datagram(0, 0, 500), addr(dst))
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	b.Uncork()
	receive(t, dst, 1)
	if b.Coalesces() {
		t.Fatal("closed socket still counted")
	}
}

func TestQueueRuns(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:1000")
	c := netip.MustParseAddrPort("10.0.0.2:1000")
	type w struct {
		dst  netip.AddrPort
		size int
	}
	tests := []struct {
		name     string
		writes   []w
		coalesce bool
		want     []int // datagrams per run
	}{
		{"equal then shorter", []w{{a, 100}, {a, 100}, {a, 100}, {a, 40}}, true, []int{4}},
		{"after a shorter one", []w{{a, 100}, {a, 40}, {a, 40}}, true, []int{2, 1}},
		{"larger starts a run", []w{{a, 100}, {a, 101}}, true, []int{1, 1}},
		{"other destination", []w{{a, 100}, {c, 100}, {a, 100}}, true, []int{1, 1, 1}},
		{"no GSO", []w{{a, 100}, {a, 100}}, false, []int{1, 1}},
		{"segment limit", func() []w {
			var ws []w
			for range maxSegments + 1 {
				ws = append(ws, w{a, 10})
			}
			return ws
		}(), true, []int{maxSegments, 1}},
		{"byte limit", []w{{a, 30 << 10}, {a, 30 << 10}, {a, 30 << 10}}, true, []int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q queue
			for _, x := range tt.writes {
				q.add(make([]byte, x.size), x.dst, tt.coalesce)
			}
			var got []int
			for _, r := range q.runs {
				got = append(got, r.count)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("runs %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkWrite compares a frame of five 1200-byte datagrams to each of 100
// loopback receivers written one by one (what pion's UDP mux does on a plain
// socket) with the same writes corked, so each receiver's five leave in one
// GSO send.
// BenchmarkWrite: "frame" writes five 1200-byte datagrams to one
// destination after another (a video frame per viewer; corked, one GSO
// send each); "fanout" writes one 160-byte datagram to each of 100
// destinations (an audio packet to every viewer; corked, the 100 leave by
// sendmmsg). On loopback the figure includes the kernel's receive path.
func BenchmarkWrite(b *testing.B) {
	for _, tc := range []struct {
		name   string
		perDst int
		size   int
	}{{"frame", 5, 1200}, {"fanout", 1, 160}} {
		for _, corked := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/corked=%v", tc.name, corked), func(b *testing.B) {
				bt := NewBatcher()
				src := bt.Wrap(listen(b))
				// One receiving socket on the wildcard address and 100
				// loopback destinations (127.0.0.1-100) on its port: the
				// sends are to 100 addresses, while one reader goroutine
				// keeps the receivers' wake-ups out of the figure.
				rc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { rc.Close() })
				_ = rc.SetReadBuffer(8 << 20)
				go func() {
					buf := make([]byte, 64<<10)
					for {
						if _, _, err := rc.ReadFromUDPAddrPort(buf); err != nil {
							return
						}
					}
				}()
				port := uint16(rc.LocalAddr().(*net.UDPAddr).Port)
				var dsts []netip.AddrPort
				for i := range 100 {
					dsts = append(dsts, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}), port))
				}
				pkt := make([]byte, tc.size)
				// One round: every receiver once, corked per receiver
				// (frame) or around the whole round (fanout).
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += tc.perDst * len(dsts) {
					if corked && tc.perDst == 1 {
						bt.Cork()
					}
					for _, d := range dsts {
						if corked && tc.perDst > 1 {
							bt.Cork()
						}
						for range tc.perDst {
							_, _ = src.WriteToAddrPort(pkt, d)
						}
						if corked && tc.perDst > 1 {
							bt.Uncork()
						}
					}
					if corked && tc.perDst == 1 {
						bt.Uncork()
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/datagram")
			})
		}
	}
}

// A receiver with GRO gets a corked run in one read and splits it back
// into the datagrams that were written.
func TestGROReceivesARunWhole(t *testing.T) {
	b, src, dst := sender(t)
	if !EnableGRO(dst) || !b.Coalesces() {
		t.Skip("no UDP GRO/GSO on this kernel") // not Linux ≥ 5.0
	}
	sizes := []int{1000, 1000, 1000, 400}
	b.Cork()
	for i, size := range sizes {
		_, _ = src.WriteToAddrPort(datagram(1, i, size), addr(dst))
	}
	b.Uncork()
	buf, oob := make([]byte, 64<<10), make([]byte, 128)
	_ = dst.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, oobn, _, _, err := dst.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	seg := SegmentSize(oob[:oobn])
	if n != 3400 || seg != 1000 {
		t.Fatalf("read %d bytes with segment size %d, want 3400 in 1000s", n, seg)
	}
	for i, off := 0, 0; off < n; i, off = i+1, off+seg {
		p := buf[off:min(off+seg, n)]
		if !bytes.Equal(p, datagram(1, i, sizes[i])) {
			t.Fatalf("segment %d differs", i)
		}
	}
	if SegmentSize(nil) != 0 || SegmentSize([]byte{1, 2, 3}) != 0 {
		t.Fatal("segment size from nothing")
	}
}

// Control messages come from the kernel, but the parser walks lengths it
// reads from them: nothing may make it read out of bounds.
func FuzzSegmentSize(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{20, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 104, 0, 0, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0, 17, 0, 0, 0, 104, 0, 0, 0})
	f.Fuzz(func(t *testing.T, oob []byte) {
		// A control message with a 4-byte value is at least 20 bytes.
		if s := SegmentSize(oob); s != 0 && len(oob) < 20 {
			t.Fatalf("segment size %d from %d bytes", s, len(oob))
		}
	})
}

func TestWriteAfterClose(t *testing.T) {
	b, src, dst := sender(t)
	b.Cork()
	defer b.Uncork()
	_ = src.Close()
	if _, err := src.WriteToAddrPort([]byte("x"), addr(dst)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v, want net.ErrClosed", err)
	}
}

// An empty datagram is a datagram: corked or not, it is sent.
func TestEmptyDatagram(t *testing.T) {
	b, src, dst := sender(t)
	b.Cork()
	_, _ = src.WriteToAddrPort(datagram(0, 0, 10), addr(dst))
	_, _ = src.WriteToAddrPort(nil, addr(dst))
	b.Uncork()
	got := receive(t, dst, 2)
	if len(got[0]) != 10 || len(got[1]) != 0 {
		t.Fatalf("received %d and %d bytes, want 10 and 0", len(got[0]), len(got[1]))
	}
}

// GSO works the same over IPv6 (UDP_SEGMENT is a UDP-level option).
func TestIPv6Run(t *testing.T) {
	l6 := func() *net.UDPConn {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	b := NewBatcher()
	src, dst := b.Wrap(l6()), l6()
	b.Cork()
	for i := range 4 {
		_, _ = src.WriteToAddrPort(datagram(6, i, 1100), addr(dst))
	}
	b.Uncork()
	for i, p := range receive(t, dst, 4) {
		if !bytes.Equal(p, datagram(6, i, 1100)) {
			t.Fatalf("datagram %d differs", i)
		}
	}
	if st := b.Stats(); st.GSO && st.Sends != 1 {
		t.Fatalf("%d sends for one run of 4 with GSO", st.Sends)
	}
}
