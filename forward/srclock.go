package forward

import (
	"sync"
	"time"
)

// SRClock stamps sender reports with NTP time and remembers recent stamps so
// that the LSR/DLSR fields of a viewer's receiver report yield the round-trip
// time (RFC 3550 §6.4.1: RTT = A - LSR - DLSR). One clock serves all tracks of
// a viewer connection.
type SRClock struct {
	mu   sync.Mutex
	sent [16]srStamp
	next int
}

type srStamp struct {
	mid32 uint32
	at    time.Time
}

// Stamp returns the 64-bit NTP time of now and records it.
func (c *SRClock) Stamp(now time.Time) uint64 {
	ntp := toNTP(now)
	c.mu.Lock()
	c.sent[c.next] = srStamp{mid32: uint32(ntp >> 16), at: now}
	c.next = (c.next + 1) % len(c.sent)
	c.mu.Unlock()
	return ntp
}

// RTT computes the round-trip time from a reception report's LSR and DLSR.
func (c *SRClock) RTT(lsr, dlsr uint32) (time.Duration, bool) {
	if c == nil || lsr == 0 {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sent {
		if s.mid32 == lsr && !s.at.IsZero() {
			delay := time.Duration(float64(dlsr) / 65536 * float64(time.Second))
			rtt := time.Since(s.at) - delay
			if rtt < 0 {
				rtt = 0
			}
			return rtt, true
		}
	}
	return 0, false
}

// ntpEpochOffset is the number of seconds from 1900-01-01 to 1970-01-01.
const ntpEpochOffset = 2208988800

func toNTP(t time.Time) uint64 {
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}
