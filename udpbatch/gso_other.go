//go:build !linux

package udpbatch

import "net"

// gsoSupported is false: UDP GSO is a Linux socket option.
func gsoSupported(*net.UDPConn) bool { return false }

// mmsgSupported is false: x/net sends one message per call here anyway.
const mmsgSupported = false

func segmentOOB(oob []byte, _ int) []byte { return oob }

func gsoUnusable(error) bool { return true }

func gsoTooLarge(error) bool { return false }

// EnableGRO is false: UDP GRO is a Linux socket option.
func EnableGRO(*net.UDPConn) bool { return false }

// SegmentSize is 0: reads are single datagrams.
func SegmentSize([]byte) int { return 0 }
