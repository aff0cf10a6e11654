package forward

import "sync"

// cacheSlot holds one packet's bytes; buf keeps its capacity across reuse so
// steady-state caching does not allocate.
type cacheSlot struct {
	seq   uint16
	valid bool
	buf   []byte
}

// Cache keeps the most recent packets of one ingest track, indexed by their
// (ingest) sequence number, so that NACKs from all viewers are served from one
// copy instead of one retransmission buffer per viewer.
type Cache struct {
	mu    sync.Mutex
	slots []cacheSlot
	mask  uint16
}

// NewCache returns a cache of size packets; size is rounded up to a power of
// two (at most 32768, half the sequence space, so that seq%size is unambiguous).
func NewCache(size int) *Cache {
	n := 1
	for n < size && n < 1<<15 {
		n <<= 1
	}
	return &Cache{slots: make([]cacheSlot, n), mask: uint16(n - 1)}
}

// Put stores a copy of the raw packet.
func (c *Cache) Put(seq uint16, raw []byte) {
	c.mu.Lock()
	s := &c.slots[seq&c.mask]
	s.seq, s.valid = seq, true
	s.buf = append(s.buf[:0], raw...)
	c.mu.Unlock()
}

// Get copies the packet with sequence number seq into dst and returns it, or
// false when it is no longer (or was never) cached.
func (c *Cache) Get(seq uint16, dst []byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[seq&c.mask]
	if !s.valid || s.seq != seq {
		return dst, false
	}
	return append(dst[:0], s.buf...), true
}
