package chat

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Limits bound what one connection, one address and the hub may do. A zero
// field takes its default (see DefaultLimits).
type Limits struct {
	History      int // messages kept per room and sent on join
	NickRunes    int // longest nickname, in characters after cleaning
	MessageRunes int // longest message, in characters after cleaning

	// Every frame a client sends spends a token of its connection's bucket
	// and of its address's bucket (shared by all its connections).
	MessageBurst    int
	MessageInterval time.Duration // one token back per interval
	AddrBurst       int
	AddrInterval    time.Duration

	ConnsPerAddr int   // concurrent connections per address (IPv6: per /64)
	MaxFrame     int64 // bytes; a bigger frame closes the connection (1009)
	// SendQueue is how many frames may wait for a slow client; when it is
	// full the client is disconnected rather than slowing the room down.
	SendQueue    int
	WriteTimeout time.Duration // per frame, and for a ping's pong
	JoinTimeout  time.Duration // from upgrade to the join frame
	PingInterval time.Duration // keeps proxies and NATs from dropping idle clients
	Rooms        int           // rooms kept in memory; idle ones are evicted
}

// DefaultLimits are the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		History:         100,
		NickRunes:       25,
		MessageRunes:    500,
		MessageBurst:    5,
		MessageInterval: time.Second,
		AddrBurst:       10,
		AddrInterval:    500 * time.Millisecond,
		ConnsPerAddr:    8,
		MaxFrame:        4096,
		SendQueue:       64,
		WriteTimeout:    10 * time.Second,
		JoinTimeout:     10 * time.Second,
		PingInterval:    30 * time.Second,
		Rooms:           1000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	def := func(v *int, dv int) {
		if *v <= 0 {
			*v = dv
		}
	}
	defDur := func(v *time.Duration, dv time.Duration) {
		if *v <= 0 {
			*v = dv
		}
	}
	def(&l.History, d.History)
	def(&l.NickRunes, d.NickRunes)
	def(&l.MessageRunes, d.MessageRunes)
	def(&l.MessageBurst, d.MessageBurst)
	defDur(&l.MessageInterval, d.MessageInterval)
	def(&l.AddrBurst, d.AddrBurst)
	defDur(&l.AddrInterval, d.AddrInterval)
	def(&l.ConnsPerAddr, d.ConnsPerAddr)
	if l.MaxFrame <= 0 {
		l.MaxFrame = d.MaxFrame
	}
	def(&l.SendQueue, d.SendQueue)
	defDur(&l.WriteTimeout, d.WriteTimeout)
	defDur(&l.JoinTimeout, d.JoinTimeout)
	defDur(&l.PingInterval, d.PingInterval)
	def(&l.Rooms, d.Rooms)
	return l
}

// bucket is a token bucket driven by the caller's clock, so tests can step
// time instead of sleeping.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends a token. When none is left it spends nothing and returns how
// long until one is.
func (b *bucket) take(now time.Time, burst int, every time.Duration) time.Duration {
	b.refill(now, burst, every)
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(every))
}

func (b *bucket) refill(now time.Time, burst int, every time.Duration) {
	switch {
	case b.last.IsZero():
		b.tokens = float64(burst)
	case now.After(b.last):
		b.tokens = min(float64(burst), b.tokens+float64(now.Sub(b.last))/float64(every))
	default:
		return // the clock stood still or went back: no refill
	}
	b.last = now
}

// addrTable counts connections and spends tokens per client address.
type addrTable struct {
	mu    sync.Mutex
	m     map[string]*addrState
	swept int // size after the last sweep
}

type addrState struct {
	conns  int
	bucket bucket
}

// acquire reserves a connection slot for addr.
func (t *addrTable) acquire(addr string, max int, now time.Time, lim Limits) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) > 2*t.swept+64 {
		t.sweepLocked(now, lim)
	}
	a := t.m[addr]
	if a == nil {
		a = &addrState{}
		t.m[addr] = a
	}
	if a.conns >= max {
		return false
	}
	a.conns++
	return true
}

// release frees a slot. The entry stays until its bucket is full again, so
// reconnecting does not reset an address's rate limit.
func (t *addrTable) release(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.m[addr]; a != nil {
		a.conns--
	}
}

func (t *addrTable) take(addr string, now time.Time, lim Limits) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.m[addr]
	if a == nil {
		return 0 // not acquired: cannot happen for a served connection
	}
	return a.bucket.take(now, lim.AddrBurst, lim.AddrInterval)
}

// sweepLocked forgets addresses without connections whose bucket is full.
func (t *addrTable) sweepLocked(now time.Time, lim Limits) {
	for k, a := range t.m {
		if a.conns > 0 {
			continue
		}
		a.bucket.refill(now, lim.AddrBurst, lim.AddrInterval)
		if a.bucket.last.IsZero() || a.bucket.tokens >= float64(lim.AddrBurst) {
			delete(t.m, k)
		}
	}
	t.swept = len(t.m)
}

// clientAddr returns the client's host as moderators see it and the key its
// limits and bans apply to: the IPv4 address, or the IPv6 /64, since one
// IPv6 subscriber usually holds a whole /64.
func clientAddr(remote string) (host, key string) {
	host = remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host, host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return ip.String(), p.String()
	}
	return ip.String(), ip.String()
}
