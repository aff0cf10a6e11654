package server

import (
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// nackCounter counts the packets bcast asks the streamer to retransmit
// (generic NACKs, RFC 4585 §6.2.1), per media SSRC: rising NACKs on the
// ingest leg are the first sign of a lossy uplink. It is an interceptor
// on the ingest connection's outgoing RTCP; it copies nothing.
type nackCounter struct {
	interceptor.NoOp
	mu     sync.Mutex
	counts map[uint32]*atomic.Uint64
}

func newNACKCounter() *nackCounter { return &nackCounter{counts: map[uint32]*atomic.Uint64{}} }

// NewInterceptor makes the counter its own factory: one per publisher.
func (c *nackCounter) NewInterceptor(string) (interceptor.Interceptor, error) { return c, nil }

// BindRTCPWriter counts NACKs on their way out.
func (c *nackCounter) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			if n, ok := p.(*rtcp.TransportLayerNack); ok {
				var lost uint64
				for _, pair := range n.Nacks {
					lost += uint64(len(pair.PacketList()))
				}
				c.counter(n.MediaSSRC).Add(lost)
			}
		}
		return w.Write(pkts, a)
	})
}

func (c *nackCounter) counter(ssrc uint32) *atomic.Uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.counts[ssrc]
	if n == nil {
		n = new(atomic.Uint64)
		c.counts[ssrc] = n
	}
	return n
}

// get returns the packets NACKed for ssrc so far.
func (c *nackCounter) get(ssrc uint32) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.counts[ssrc]; n != nil {
		return n.Load()
	}
	return 0
}
