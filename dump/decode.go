package dump

import (
	"encoding/binary"
	"net/netip"
)

// Link-layer header types (https://www.tcpdump.org/linktypes.html).
const (
	linkNull     = 0   // BSD loopback: 4-byte address family, host byte order
	linkEthernet = 1   // Ethernet II, optional 802.1Q/802.1ad tags
	linkRawBSD   = 12  // DLT_RAW on some BSDs, found in old files
	linkLoop     = 108 // OpenBSD loopback: address family in network byte order
	linkSLL      = 113 // Linux cooked capture v1 (16-byte header)
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276 // Linux cooked capture v2 (20-byte header)
)

// EtherTypes.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
)

// decodeFrame extracts the UDP datagram from a captured frame. ok is false
// for anything else: other protocols, IP fragments (no reassembly), frames
// cut by the snapshot length, unknown link types.
func decodeFrame(link int, b []byte) (src, dst netip.AddrPort, payload []byte, ok bool) {
	switch link {
	case linkRawBSD, linkTypeRaw, linkIPv4, linkIPv6:
	case linkNull, linkLoop:
		// The family value differs between OSes (AF_INET6 is 10, 24,
		// 28 or 30); the IP version nibble says the same thing.
		if len(b) < 4 {
			return
		}
		b = b[4:]
	case linkEthernet:
		if len(b) < 14 {
			return
		}
		typ := binary.BigEndian.Uint16(b[12:])
		b = b[14:]
		for typ == etherVLAN || typ == etherQinQ || typ == etherQinQ2 {
			if len(b) < 4 {
				return
			}
			typ = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
		}
		if typ != etherIPv4 && typ != etherIPv6 {
			return
		}
	case linkSLL:
		if len(b) < 16 {
			return
		}
		if typ := binary.BigEndian.Uint16(b[14:]); typ != etherIPv4 && typ != etherIPv6 {
			return
		}
		b = b[16:]
	case linkSLL2:
		if len(b) < 20 {
			return
		}
		if typ := binary.BigEndian.Uint16(b[0:]); typ != etherIPv4 && typ != etherIPv6 {
			return
		}
		b = b[20:]
	default:
		return
	}
	return decodeIP(b)
}

func decodeIP(b []byte) (src, dst netip.AddrPort, payload []byte, ok bool) {
	if len(b) < 1 {
		return
	}
	var srcIP, dstIP netip.Addr
	switch b[0] >> 4 {
	case 4:
		if len(b) < ipv4HeaderLen {
			return
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if total == 0 {
			total = len(b) // TCP/UDP segmentation offload captures
		}
		if ihl < ipv4HeaderLen || total < ihl || total > len(b) {
			return
		}
		if binary.BigEndian.Uint16(b[6:])&0x3fff != 0 { // MF or fragment offset
			return
		}
		if b[9] != protoUDP {
			return
		}
		srcIP = netip.AddrFrom4([4]byte(b[12:16]))
		dstIP = netip.AddrFrom4([4]byte(b[16:20]))
		b = b[ihl:total]
	case 6:
		if len(b) < ipv6HeaderLen {
			return
		}
		plen := int(binary.BigEndian.Uint16(b[4:]))
		if plen == 0 {
			plen = len(b) - ipv6HeaderLen // jumbogram or offload
		}
		if ipv6HeaderLen+plen > len(b) {
			return
		}
		next := b[6]
		srcIP = netip.AddrFrom16([16]byte(b[8:24]))
		dstIP = netip.AddrFrom16([16]byte(b[24:40]))
		b = b[ipv6HeaderLen : ipv6HeaderLen+plen]
		// Extension headers (RFC 8200 §4).
		for next != protoUDP {
			var n int
			switch next {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(b) < 8 {
					return
				}
				n = (int(b[1]) + 1) * 8
			case 51: // authentication header (RFC 4302)
				if len(b) < 8 {
					return
				}
				n = (int(b[1]) + 2) * 4
			default: // 44 fragment, 59 no next header, other protocols
				return
			}
			if n > len(b) {
				return
			}
			next = b[0]
			b = b[n:]
		}
	default:
		return
	}
	if len(b) < udpHeaderLen {
		return
	}
	ulen := int(binary.BigEndian.Uint16(b[4:]))
	if ulen < udpHeaderLen || ulen > len(b) {
		return
	}
	src = netip.AddrPortFrom(srcIP, binary.BigEndian.Uint16(b[0:]))
	dst = netip.AddrPortFrom(dstIP, binary.BigEndian.Uint16(b[2:]))
	return src, dst, b[udpHeaderLen:ulen], true
}
