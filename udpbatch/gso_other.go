//go:build !linux

package udpbatch

import "net"

// gsoSupported is false: UDP GSO is a Linux socket option.
func gsoSupported(*net.UDPConn) bool { return false }

func segmentOOB(oob []byte, _ int) []byte { return oob[:0] }

func gsoUnusable(error) bool { return true }
