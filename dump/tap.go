package dump

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// Tap is an interceptor to put first in a connection's chain: it sees every
// RTP and RTCP packet right after SRTP decryption (RTX and padding included,
// exactly what the peer sent) and every RTCP packet sent back (NACK, PLI,
// receiver reports, transport-wide feedback), and copies them to the leg's
// writer. The server taps its ingest legs with it, `bcast watch` its own
// viewer leg. Copies are non-blocking; the writer drops and counts when its
// queue is full.
type Tap struct {
	interceptor.NoOp
	w atomic.Pointer[Writer]

	// Until the writer exists (it needs the selected candidate pair, known
	// once connected) packets wait here, so the first keyframe is not lost.
	mu      sync.Mutex
	pending []tapped
}

type tapped struct {
	dir  Direction
	rtcp bool
	at   time.Time
	b    []byte
}

// maxPending bounds what waits for the writer: about a second of video.
const maxPending = 512

// put hands a packet to the writer, or keeps a copy until there is one.
func (t *Tap) put(dir Direction, rtcp bool, b []byte) {
	now := time.Now()
	w := t.w.Load()
	if w == nil {
		t.mu.Lock()
		if w = t.w.Load(); w == nil {
			if len(t.pending) < maxPending {
				t.pending = append(t.pending, tapped{dir, rtcp, now, append([]byte(nil), b...)})
			}
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
	}
	if rtcp {
		w.WriteRTCP(dir, now, b)
	} else {
		w.WriteRTP(dir, now, b)
	}
}

// SetWriter installs w and writes what waited for it, in order. It reports
// false when a writer was already set.
func (t *Tap) SetWriter(w *Writer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w.Load() != nil {
		return false
	}
	for _, p := range t.pending {
		if p.rtcp {
			w.WriteRTCP(p.dir, p.at, p.b)
		} else {
			w.WriteRTP(p.dir, p.at, p.b)
		}
	}
	t.pending = nil
	t.w.Store(w)
	return true
}

// NewInterceptor makes the tap its own factory: one tap per connection.
func (t *Tap) NewInterceptor(string) (interceptor.Interceptor, error) { return t, nil }

func (t *Tap) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil {
			t.put(FromPeer, false, b[:n])
		}
		return n, a, err
	})
}

func (t *Tap) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil {
			t.put(FromPeer, true, b[:n])
		}
		return n, a, err
	})
}

func (t *Tap) BindRTCPWriter(wr interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		if b, err := rtcp.Marshal(pkts); err == nil {
			t.put(ToPeer, true, b)
		}
		return wr.Write(pkts, a)
	})
}
