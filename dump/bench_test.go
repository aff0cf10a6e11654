package dump

import (
	"io"
	"runtime"
	"testing"
	"time"
)

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                { return nil }

// BenchmarkWriteRTP measures what the media path pays per packet: a pooled
// copy and a non-blocking send. "enqueue" is the path of a packet that is
// queued (the benchmark empties the queue, untimed, every Queue packets);
// "concurrent" has the writer's goroutine draining into a discarding file
// at the same time, so most packets take the drop path once the producer
// outruns it; "full" has a stalled disk, every packet dropped.
//
//	go test -run '^$' -bench WriteRTP -benchmem ./dump/
func BenchmarkWriteRTP(b *testing.B) {
	pkt := vp8RTP(b, 1, 1, 1, 1200)
	b.Run("enqueue", func(b *testing.B) {
		s := newTestStore(b, Options{}, nil)
		w := newWriter(s, testLeg("bench", IngestLeg)) // no drain goroutine
		now := time.Now()
		empty := func() {
			for len(w.queue) > 0 {
				s.pool.Put(<-w.queue)
			}
		}
		for range s.opts.Queue { // warm the pool
			w.WriteRTP(FromPeer, now, pkt)
		}
		empty()
		b.SetBytes(int64(len(pkt)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if i%s.opts.Queue == 0 {
				b.StopTimer()
				empty()
				b.StartTimer()
			}
			w.WriteRTP(FromPeer, now, pkt)
		}
		b.StopTimer()
		if d := w.Stats().DroppedQueue; d != 0 {
			b.Fatalf("%d drops", d)
		}
	})
	for _, tc := range []struct {
		name    string
		stalled bool
	}{
		{"concurrent", false},
		{"full", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			stall := &blockFS{release: make(chan struct{})}
			create := func(string) (io.WriteCloser, error) { return discard{}, nil }
			if tc.stalled {
				create = stall.create
			}
			s := newTestStore(b, Options{FlushInterval: time.Second}, func(h *hooks) { h.create = create })
			w, err := s.NewWriter(testLeg("bench", IngestLeg))
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			// Warm the pool past the queue's size.
			for range 2 * s.opts.Queue {
				w.WriteRTP(FromPeer, now, pkt)
			}
			d0 := w.Stats().DroppedQueue
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.WriteRTP(FromPeer, now, pkt)
			}
			b.StopTimer()
			b.ReportMetric(float64(w.Stats().DroppedQueue-d0)/float64(b.N), "drops/op")
			close(stall.release) // let Close finish
		})
	}
}

// BenchmarkDrain measures the drain goroutine alone writing to real files
// in the test's temporary directory: IPv4/UDP framing, Enhanced Packet
// Block, bufio, write(2), rotation every 64 MiB, retention keeping 256 MiB.
// MB/s counts RTP bytes.
//
//	go test -run '^$' -bench Drain -benchmem ./dump/
func BenchmarkDrain(b *testing.B) {
	for _, tc := range []struct {
		name string
		leg  Leg
		size int
	}{
		{"ingest-ipv4-1200B", testLeg("bench", IngestLeg), 1200},
		{"viewer-ipv4-100B", testLeg("bench", "viewer-1"), 100},
		{"ingest-ipv6-1200B", func() Leg { l := testLeg("bench", IngestLeg); l.Peer, l.Server = v6a, v6b; return l }(), 1200},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := newTestStore(b, Options{SegmentBytes: 64 << 20, RetainBytes: 256 << 20}, nil)
			w := newWriter(s, tc.leg)
			w.openSegment()
			pkt := vp8RTP(b, 1, 1, 1, tc.size)
			at := time.Now().UnixNano()
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p := s.pool.Get().(*packet)
				p.buf = append(p.buf[:w.hdrLen], pkt...)
				p.at, p.dir = at, FromPeer
				w.write(p)
			}
			if w.seg != nil {
				if err := w.closeSegment(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if st := w.Stats(); st.Packets != uint64(b.N) || st.LastError != "" {
				b.Fatalf("stats %+v after %d packets", st, b.N)
			}
		})
	}
}

// BenchmarkEndToEnd is WriteRTP to disk through the queue, with the
// producer yielding when the queue is half full (a test-only back-pressure
// to find the sustained rate; the real media path never waits). It ends
// when every packet is flushed.
//
//	go test -run '^$' -bench EndToEnd -benchmem ./dump/
func BenchmarkEndToEnd(b *testing.B) {
	s := newTestStore(b, Options{SegmentBytes: 64 << 20, RetainBytes: 256 << 20, FlushInterval: 100 * time.Millisecond}, nil)
	w, err := s.NewWriter(testLeg("bench", IngestLeg))
	if err != nil {
		b.Fatal(err)
	}
	pkt := vp8RTP(b, 1, 1, 1, 1200)
	now := time.Now()
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for len(w.queue) > cap(w.queue)/2 {
			runtime.Gosched()
		}
		w.WriteRTP(FromPeer, now, pkt)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st := w.Stats()
	b.ReportMetric(float64(st.DroppedQueue), "drops")
	if st.Packets+st.DroppedQueue != uint64(b.N) {
		b.Fatalf("stats %+v after %d packets", st, b.N)
	}
}
