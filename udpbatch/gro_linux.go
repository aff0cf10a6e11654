package udpbatch

import (
	"net"
	"syscall"
	"unsafe"
)

// udpGRO is UDP_GRO from linux/udp.h (Linux 5.0): the socket accepts
// coalesced datagrams and says their segment size in a control message.
const udpGRO = 104

// EnableGRO asks the kernel to hand c datagrams coalesced by GRO (on
// loopback: a UDP GSO send arrives whole) and reports whether it will.
// Reads must then use a 64 KiB buffer and split what arrives with
// SegmentSize.
func EnableGRO(c *net.UDPConn) bool {
	return onSocket(c, func(fd int) bool {
		return syscall.SetsockoptInt(fd, syscall.IPPROTO_UDP, udpGRO, 1) == nil
	})
}

// SegmentSize returns the datagram size of a coalesced read from its
// control messages, or 0 when the read is one datagram. It does not
// allocate: it runs once per read.
func SegmentSize(oob []byte) int {
	hdr := syscall.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return 0
		}
		if h.Level == syscall.IPPROTO_UDP && h.Type == udpGRO && l >= syscall.CmsgLen(4) {
			return int(*(*int32)(unsafe.Pointer(&oob[hdr])))
		}
		oob = oob[min(syscall.CmsgSpace(l-hdr), len(oob)):]
	}
	return 0
}
