package udpbatch

import (
	"errors"
	"net"
	"slices"
	"syscall"
	"unsafe"
)

// udpSegment is UDP_SEGMENT from linux/udp.h (Linux 4.18): the size in
// which the kernel cuts one sendmsg buffer into datagrams.
const udpSegment = 103

// gsoSupported asks the kernel whether the socket knows UDP_SEGMENT.
func gsoSupported(c *net.UDPConn) bool {
	return onSocket(c, func(fd int) bool {
		_, err := syscall.GetsockoptInt(fd, syscall.IPPROTO_UDP, udpSegment)
		return err == nil
	})
}

// onSocket runs f on c's file descriptor and returns its answer.
func onSocket(c *net.UDPConn, f func(fd int) bool) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = raw.Control(func(fd uintptr) { ok = f(int(fd)) })
	return ok
}

// mmsgSupported: Linux has sendmmsg (2.6.33).
const mmsgSupported = true

// segmentOOB appends the UDP_SEGMENT control message for datagrams of size
// seg to oob.
func segmentOOB(oob []byte, seg int) []byte {
	n := syscall.CmsgSpace(2)
	start := len(oob)
	oob = slices.Grow(oob, n)[:start+n]
	c := oob[start:]
	clear(c)
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&c[0]))
	h.Level, h.Type = syscall.IPPROTO_UDP, udpSegment
	h.SetLen(syscall.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&c[syscall.CmsgLen(0)])) = uint16(seg)
	return oob
}

// gsoUnusable reports the error that says GSO cannot work on this socket:
// EIO when the device has no checksum offload (the kernel's udp_send_skb).
func gsoUnusable(err error) bool {
	return errors.Is(err, syscall.EIO)
}

// gsoTooLarge reports the error for segments larger than the path MTU
// allows (EINVAL from udp_send_skb): it concerns one destination.
func gsoTooLarge(err error) bool {
	return errors.Is(err, syscall.EINVAL)
}
