package dump

import (
	"encoding/binary"
	"net/netip"
)

// Synthetic network framing. The server sees decrypted RTP/RTCP above
// SRTP, not the UDP datagrams on the wire, so each packet is wrapped in an
// IP + UDP header of our own that carries the leg's 5-tuple. The file uses
// LINKTYPE_RAW (101, "raw IP; the packet begins with an IPv4 or IPv6
// header", https://www.tcpdump.org/linktypes.html), so one link type covers
// both families and Wireshark picks the version from the first nibble.
const (
	linkTypeRaw = 101

	ipv4HeaderLen = 20
	ipv6HeaderLen = 40
	udpHeaderLen  = 8

	// maxPayload is the largest UDP payload an IPv4 datagram can carry
	// (65535 - 20 - 8, RFC 791 total length). RTP that reached us over
	// UDP is never larger; anything longer is dropped rather than framed
	// with lying length fields.
	maxPayload = 65535 - ipv4HeaderLen - udpHeaderLen

	protoUDP   = 17
	defaultTTL = 64
)

// Fallback addresses from TEST-NET-1 (RFC 5737 §3), documentation space
// that can never be mistaken for a real host, port 9 (discard). Used when
// the server does not know a leg's real address.
func fallbackPeer() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 1}), 9)
}

func fallbackServer() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 2}), 9)
}

// framer writes the IP and UDP headers of one leg into the headroom that
// Writer.enqueue reserved in front of each payload. It is owned by the
// drain goroutine.
type framer struct {
	v4           bool
	hdrLen       int
	peer, server netip.AddrPort
	id           uint16 // IPv4 identification, incremented per datagram
}

// newFramer picks the address family for a leg. Both ends IPv4 (after
// unmapping ::ffff:a.b.c.d) gives an IPv4 header. Otherwise the packets get
// an IPv6 header and an IPv4 end is written as its IPv4-mapped IPv6 address
// (RFC 4291 §2.5.5.2), so the real address is kept rather than replaced by a
// placeholder.
func newFramer(peer, server netip.AddrPort) framer {
	if !peer.IsValid() {
		peer = fallbackPeer()
	}
	if !server.IsValid() {
		server = fallbackServer()
	}
	peer = netip.AddrPortFrom(peer.Addr().Unmap().WithZone(""), peer.Port())
	server = netip.AddrPortFrom(server.Addr().Unmap().WithZone(""), server.Port())
	f := framer{peer: peer, server: server}
	if peer.Addr().Is4() && server.Addr().Is4() {
		f.v4, f.hdrLen = true, ipv4HeaderLen+udpHeaderLen
	} else {
		f.hdrLen = ipv6HeaderLen + udpHeaderLen
	}
	return f
}

// frame fills b[:f.hdrLen] with the IP and UDP headers for the payload
// b[f.hdrLen:] travelling in direction dir, and returns b.
func (f *framer) frame(b []byte, dir Direction) []byte {
	src, dst := f.peer, f.server
	if dir == ToPeer {
		src, dst = f.server, f.peer
	}
	n := len(b) - f.hdrLen
	if f.v4 {
		h := b[:ipv4HeaderLen]
		h[0] = 0x45 // version 4, IHL 5 words
		h[1] = 0
		binary.BigEndian.PutUint16(h[2:], uint16(ipv4HeaderLen+udpHeaderLen+n))
		binary.BigEndian.PutUint16(h[4:], f.id)
		f.id++
		binary.BigEndian.PutUint16(h[6:], 0x4000) // DF, offset 0: never a fragment
		h[8] = defaultTTL
		h[9] = protoUDP
		h[10], h[11] = 0, 0
		s4, d4 := src.Addr().As4(), dst.Addr().As4()
		copy(h[12:16], s4[:])
		copy(h[16:20], d4[:])
		binary.BigEndian.PutUint16(h[10:], ^fold(sum(0, h)))
		u := b[ipv4HeaderLen : ipv4HeaderLen+udpHeaderLen]
		binary.BigEndian.PutUint16(u[0:], src.Port())
		binary.BigEndian.PutUint16(u[2:], dst.Port())
		binary.BigEndian.PutUint16(u[4:], uint16(udpHeaderLen+n))
		// Checksum 0: "no checksum" (RFC 768), allowed over IPv4.
		u[6], u[7] = 0, 0
		return b
	}
	h := b[:ipv6HeaderLen]
	binary.BigEndian.PutUint32(h[0:], 6<<28) // version 6, class 0, flow 0
	binary.BigEndian.PutUint16(h[4:], uint16(udpHeaderLen+n))
	h[6] = protoUDP
	h[7] = defaultTTL
	s16, d16 := src.Addr().As16(), dst.Addr().As16()
	copy(h[8:24], s16[:])
	copy(h[24:40], d16[:])
	u := b[ipv6HeaderLen:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(udpHeaderLen+n))
	u[6], u[7] = 0, 0
	// IPv6 makes the UDP checksum mandatory (RFC 8200 §8.1): pseudo-header
	// (addresses, upper-layer length, next header) plus the datagram.
	c := sum(0, h[8:40])
	c += uint64(udpHeaderLen+n) + protoUDP
	c = sum(c, u)
	ck := ^fold(c)
	if ck == 0 {
		ck = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(u[6:], ck)
	return b
}

// sum adds b to the ones'-complement accumulator c (RFC 1071), 32 bits at a
// time; fold reduces it to 16 bits. Summing big-endian 32-bit words is
// equivalent to summing 16-bit words because 2^16 ≡ 1 (mod 2^16-1).
func sum(c uint64, b []byte) uint64 {
	for len(b) >= 4 {
		c += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		c += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		c += uint64(b[0]) << 8
	}
	return c
}

func fold(c uint64) uint16 {
	for c>>16 != 0 {
		c = c&0xffff + c>>16
	}
	return uint16(c)
}
